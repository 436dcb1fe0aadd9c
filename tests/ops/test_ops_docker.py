"""docker/: compose names only commands the CLI has, the image is built sanely, and an
installed wheel (not the source tree) finds its migrations where the Dockerfile puts them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from meldplicht.cli import app as cli_app

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"


def _commands(compose: dict[str, object]) -> list[list[str]]:
    services = compose["services"]
    assert isinstance(services, dict)
    return [s["command"] for s in services.values() if isinstance(s, dict) and "command" in s]


def _help(*path: str) -> str:
    result = CliRunner().invoke(cli_app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    return result.output


def test_every_compose_command_exists_in_the_cli() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))
    commands = _commands(compose)
    assert {c[1] for c in commands} == {"db", "serve", "scheduler"}
    for command in commands:
        assert command[0] == "meldplicht"
        words = [w for w in command[1:] if not w.startswith("-")]
        options = [w for w in command[1:] if w.startswith("--")]
        # The subcommand chain: each word must be listed by its parent's --help.
        chain: list[str] = []
        for word in words:
            parent_help = _help(*chain)
            if not re.search(rf"^\s*│?\s*{re.escape(word)}\b", parent_help, re.MULTILINE):
                break  # an argument value (e.g. the port), not a subcommand
            chain.append(word)
        assert chain, f"{command}: no such command"
        own_help = _help(*chain)
        for option in options:
            assert option in own_help, f"{command}: {option} is not an option of {chain}"


def test_compose_runs_one_scheduler_and_multiprocess_metrics() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert services["db"]["image"].startswith("postgres:15")
    assert services["scheduler"].get("deploy", {}).get("replicas", 1) == 1
    assert "PROMETHEUS_MULTIPROC_DIR" in services["web"]["environment"]
    assert "--workers" in services["web"]["command"]
    assert services["web"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )


def test_dockerfile_is_multi_stage_non_root_with_healthcheck() -> None:
    text = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
    assert len(re.findall(r"^FROM python:3\.11-slim", text, re.MULTILINE)) == 2
    assert re.search(r"^USER (?!root)\w+", text, re.MULTILINE)
    assert "HEALTHCHECK" in text
    assert "/healthz" in text
    assert '"serve", "--host", "0.0.0.0"' in text
    assert os.access(DOCKER / "entrypoint.sh", os.X_OK)


@pytest.mark.slow
def test_an_installed_wheel_finds_the_migrations_where_the_image_puts_them(
    tmp_path: Path,
) -> None:
    # Build the wheel from a copy of the tree, as the image's build stage does.
    src = tmp_path / "src-tree"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "src", src / "src", ignore=shutil.ignore_patterns("*.egg-info"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    wheel = next((tmp_path / "dist").glob("meldplicht-*.whl"))
    # Installing a pure wheel is unpacking it into site-packages; lay out a venv the same way
    # as /opt/meldplicht in the image, and copy alembic/ as the Dockerfile does.
    dockerfile = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
    destination = re.search(r"^COPY alembic (\S+)", dockerfile, re.MULTILINE)
    assert destination is not None
    assert destination.group(1) == "/opt/meldplicht/lib/python3.11/alembic"
    venv = tmp_path / "opt" / "meldplicht"
    site = venv / "lib" / "python3.11" / "site-packages"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    shutil.copytree(ROOT / "alembic", venv / "lib" / "python3.11" / "alembic")
    db = tmp_path / "wheel.db"
    probe = (
        "import meldplicht, sys\n"
        f"assert meldplicht.__file__.startswith({str(site)!r}), meldplicht.__file__\n"
        "from meldplicht.core.migrations import upgrade, schema_status\n"
        "from meldplicht.core.db import create_db_engine\n"
        "from meldplicht.rules.params import get_parameters\n"
        f"url = 'sqlite:///{db}'\n"
        "upgrade(url)\n"
        "current, head = schema_status(create_db_engine(url))\n"
        "assert current == head and head, (current, head)\n"
        "assert get_parameters().names()\n"  # the YAML parameters are in the wheel
        "print('ok', head)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("ok")
