"""The bulk upload refuses a file with more rows than it will process in one go."""

from __future__ import annotations

import pytest

from meldplicht.core.errors import InvalidRequest
from meldplicht.notifications import bulk, csv_format


def test_too_many_rows_is_refused_with_a_field_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "MAX_ROWS", 3)
    header, example = csv_format.template_csv().splitlines()[:2]
    data = "\n".join([header, *[example] * 4]).encode()
    with pytest.raises(InvalidRequest) as raised:
        bulk.read_csv(data)
    assert raised.value.errors[0].code == "too_many_rows"
    assert len(bulk.read_csv("\n".join([header, *[example] * 3]).encode())) == 3


def test_a_header_without_the_needed_columns_is_refused() -> None:
    with pytest.raises(InvalidRequest) as raised:
        bulk.read_csv(b"{}\n")
    error = raised.value.errors[0]
    assert error.code == "missing_columns"
    assert "worker_bsn" in error.message
