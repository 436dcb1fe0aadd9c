"""Key rotation: every stored BSN and document number re-encrypted under the newest key."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from meldplicht.core.clock import utcnow
from meldplicht.core.config import Environment, Settings
from meldplicht.core.crypto import PersonalDataCipher, cipher_for
from meldplicht.core.db import create_db_engine
from meldplicht.core.migrations import upgrade
from meldplicht.notifications.models import Worker
from meldplicht.payroll.models import PayrollRecord
from meldplicht.privacy.cli import rotate_keys
from tests.conftest import drop_postgres, fresh_postgres_url, make_employer, unique_pg_name
from tests.payroll.helpers import deliver, month, notify, row

BSNS = ["200000007", "200000019", "200000020"]


def _settings(url: str, keys: list[str]) -> Settings:
    return Settings(
        environment=Environment.TEST,
        database_url=url,
        pii_encryption_keys=[SecretStr(k) for k in keys],
        pii_hash_key=SecretStr("hash-key-stays-the-same"),
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def database_url(db_backend: str, tmp_path: Path) -> Iterator[str]:
    """A database of its own: rotation commits per batch, so no rolled-back transaction."""
    if db_backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'rotation.db'}"
        upgrade(url)
        yield url
        return
    name = unique_pg_name("meldplicht_rotation")
    url = fresh_postgres_url(name)
    upgrade(url)
    yield url
    drop_postgres(name)


@pytest.fixture
def committed(database_url: str) -> Iterator[tuple[Engine, str, Settings]]:
    """Rows committed under the old key."""
    old = Fernet.generate_key().decode()
    settings = _settings(database_url, [old])
    engine = create_db_engine(database_url)
    with Session(engine, expire_on_commit=False) as session, session.begin():
        employer = make_employer(session, "12345678").employer
        start = utcnow().date() + timedelta(days=40)
        for bsn in BSNS:
            notify(session, settings, employer, bsn=bsn, received=utcnow().date(), start=start)
        deliver(session, settings, [row(BSNS[0], *month(2025, 3), "152", "2508.00")])
    yield engine, old, settings
    engine.dispose()


def test_rotate_keys_re_encrypts_everything_in_batches(
    committed: tuple[Engine, str, Settings], database_url: str
) -> None:
    engine, old, before = committed
    new = Fernet.generate_key().decode()
    rotating = _settings(database_url, [new, old])
    counts = rotate_keys(engine, cipher_for(rotating), batch_size=2)
    assert counts.bsns_rotated >= len(BSNS)
    assert counts.document_numbers_rotated >= len(BSNS)
    assert counts.v_numbers_rotated >= len(BSNS)
    assert counts.payroll_rotated >= 1

    only_new = cipher_for(_settings(database_url, [new]))
    only_old = PersonalDataCipher([old.encode()], b"unused")
    with Session(engine) as session:
        workers = session.exec(
            select(Worker).where(Worker.bsn_hash.in_([only_new.keyed_hash(b) for b in BSNS]))  # type: ignore[attr-defined]
        ).all()
        assert {only_new.decrypt(w.bsn_encrypted) for w in workers} == set(BSNS)
        for w in workers:
            assert w.document_number_encrypted is not None
            assert only_new.decrypt(w.document_number_encrypted) == "OX1234567"
            assert w.v_number_encrypted is not None
            assert only_new.decrypt(w.v_number_encrypted) == "1234567890"
            with pytest.raises(InvalidToken):
                only_old.decrypt(w.bsn_encrypted)
            # Matching is unchanged: the keyed hash did not move.
            assert w.bsn_hash == cipher_for(before).keyed_hash(only_new.decrypt(w.bsn_encrypted))
        record = session.exec(
            select(PayrollRecord).where(PayrollRecord.bsn_hash == only_new.keyed_hash(BSNS[0]))
        ).one()
        assert only_new.decrypt(record.bsn_encrypted) == BSNS[0]

    # A second run (or a resumed one) re-writes nothing that is already current.
    again = rotate_keys(engine, cipher_for(rotating), batch_size=2)
    assert (again.bsns_rotated, again.document_numbers_rotated, again.payroll_rotated) == (0, 0, 0)
    assert again.v_numbers_rotated == 0


def test_cli_prints_counts(
    committed: tuple[Engine, str, Settings], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, old, _ = committed
    new = Fernet.generate_key().decode()
    monkeypatch.setenv("MELDPLICHT_DATABASE_URL", database_url)
    monkeypatch.setenv("MELDPLICHT_PII_ENCRYPTION_KEYS", f'["{new}", "{old}"]')
    monkeypatch.setenv("MELDPLICHT_PII_HASH_KEY", "hash-key-stays-the-same")
    from meldplicht.cli import app
    from meldplicht.core.config import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["privacy", "rotate-keys", "--batch-size", "1"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert '"bsns_rotated"' in result.output


def test_a_value_under_no_configured_key_is_reported(
    committed: tuple[Engine, str, Settings], database_url: str
) -> None:
    engine, _, _ = committed
    stranger = _settings(database_url, [Fernet.generate_key().decode()])
    counts = rotate_keys(engine, cipher_for(stranger), batch_size=10)
    assert counts.unreadable >= len(BSNS)
    assert counts.bsns_rotated == 0


def test_is_current_tells_the_newest_key_apart() -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    before = PersonalDataCipher([old], b"h")
    after = PersonalDataCipher([new, old], b"h")
    token = before.encrypt("200000007")
    assert not after.is_current(token)
    rotated = after.rotate(token)
    assert after.is_current(rotated)
    assert after.decrypt(rotated) == "200000007"
