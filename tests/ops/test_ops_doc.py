"""docs/OPERATIONS.md's configuration table is generated from Settings and must match it."""

from __future__ import annotations

from meldplicht.core.config import Settings
from meldplicht.ops.settings_doc import DOC_PATH, render_doc, settings_table


def test_the_settings_table_in_the_doc_is_current() -> None:
    doc = DOC_PATH.read_text(encoding="utf-8")
    assert render_doc(doc) == doc, (
        "docs/OPERATIONS.md is out of date: run `python -m meldplicht.ops.settings_doc`"
    )


def test_every_setting_has_a_row_and_a_description() -> None:
    table = settings_table()
    for name, field in Settings.model_fields.items():
        assert f"`MELDPLICHT_{name.upper()}`" in table
        assert field.description, f"{name} has no description"
