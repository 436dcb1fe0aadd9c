"""Renders the app's OpenAPI document deterministically (committed as openapi/openapi.json)."""

from __future__ import annotations

import json

from meldplicht.app import create_app
from meldplicht.core.config import Settings


def render() -> str:
    settings = Settings(database_url="sqlite://", _env_file=None)
    app = create_app(settings)
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"
