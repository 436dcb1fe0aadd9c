"""The parameter loader: validation failures, lookups, out-of-date marking and describe()."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meldplicht.rules import calendar, wages
from meldplicht.rules.params import (
    PACKAGED_DIRECTORY,
    ParameterError,
    Parameters,
    load_parameters,
)

GOOD = """\
description: A test parameter.
unit: ratio
reference: "Test art. 1; https://example.org"
values:
  2024-01-01: {value: 0.25, reference: "first"}
  2025-01-01: {value: 0.20, reference: "second"}
"""


def _write(tmp_path: Path, text: str, name: str = "test_param.yaml") -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_loads_decimal_not_float(tmp_path: Path) -> None:
    params = load_parameters(_write(tmp_path, GOOD))
    value = params.at("test_param", date(2024, 6, 1))
    assert value.value == Decimal("0.25")
    assert isinstance(value.value, Decimal)
    assert value.effective_from == date(2024, 1, 1)
    assert value.reference == "first"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace("2025-01-01", "2024-01-01"), "duplicate key"),
        (GOOD.replace("2025-01-01", "2023-01-01"), "strictly increasing"),
        (GOOD.replace(', reference: "second"', ""), "values.2025-01-01: missing 'reference'"),
        (
            GOOD.replace('reference: "Test art. 1; https://example.org"\n', ""),
            "missing 'reference'",
        ),
        (GOOD.replace("unit: ratio", "unit: furlongs"), "unknown unit 'furlongs'"),
        (GOOD.replace("value: 0.20", "value: twenty"), "values.2025-01-01.value"),
        (GOOD.replace("2025-01-01:", "next-year:"), "the key must be a date"),
        (GOOD.replace("description: A test parameter.\n", ""), "missing 'description'"),
        (GOOD + "colour: blue\n", "unknown keys"),
        (GOOD.replace("status", "x") + "status: rumoured\n", "unknown status"),
    ],
)
def test_loader_failures_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ParameterError) as error:
        load_parameters(_write(tmp_path, text))
    assert "test_param.yaml" in str(error.value)
    assert message in str(error.value)


def test_date_before_first_entry_is_a_clear_error(params: Parameters) -> None:
    with pytest.raises(ParameterError, match="first entry is 2024-01-01"):
        params.at("wml_hourly", date(2023, 12, 31))


def test_unknown_parameter(params: Parameters) -> None:
    with pytest.raises(ParameterError, match="unknown parameter"):
        params.at("no_such_thing", date(2024, 1, 1))


def test_every_packaged_entry_has_a_reference(params: Parameters) -> None:
    for name in params.names():
        described = params.describe(name)
        assert described["reference"]
        assert described["description"]
        assert all(entry["reference"] for entry in described["values"])


def test_minimum_wage_out_of_date_from_next_half_year(params: Parameters) -> None:
    assert params.table_ends("wml_hourly") == date(2026, 12, 31)
    assert not params.at("wml_hourly", date(2026, 7, 1)).possibly_out_of_date
    assert not params.at("wml_hourly", date(2026, 12, 31)).possibly_out_of_date
    assert params.out_of_date_on(date(2026, 12, 2)) == []
    value = params.at("wml_hourly", date(2027, 1, 1))
    assert value.possibly_out_of_date
    assert value.value["21"] == Decimal("14.99")  # the last known amount is still used
    assert value.as_use().possibly_out_of_date
    assert "wml_hourly" in params.out_of_date_on(date(2027, 1, 1))
    # Parameters that are not indexed half-yearly are never marked.
    assert not params.at("holiday_allowance_rate", date(2030, 1, 1)).possibly_out_of_date


def test_ended_parameter(params: Parameters) -> None:
    assert params.at("wml_period_amounts", date(2024, 2, 1)).value is None
    assert params.table_ends("wml_period_amounts") == date(2023, 12, 31)


def test_withdrawn_phase_out_is_history_only(params: Parameters) -> None:
    described = params.describe("housing_deduction_cap_announced")
    assert described["status"] == "withdrawn"
    assert "withdrawn" in described["description"]
    assert "2025/10/30" in described["reference"]
    # The cap in force stays 25% through the years of the withdrawn schedule.
    for year in range(2026, 2031):
        assert params.at("housing_deduction_cap", date(year, 6, 1)).value == Decimal("0.25")
    assert params.describe("policy_many_employers")["status"] == "policy"


def test_describe_is_json_safe(params: Parameters) -> None:
    import json

    for name in params.names():
        json.dumps(params.describe(name))


def test_as_use_keeps_decimal_text(params: Parameters) -> None:
    use = params.at("holiday_allowance_rate", date(2025, 1, 1)).as_use()
    assert use.value == "0.08"
    assert use.name == "holiday_allowance_rate"


@pytest.fixture(scope="module")
def extended(tmp_path_factory: pytest.TempPathFactory) -> Parameters:
    """The packaged parameters plus a future minimum-wage entry and a future term change."""
    directory = tmp_path_factory.mktemp("params")
    for path in PACKAGED_DIRECTORY.glob("*.yaml"):
        shutil.copy(path, directory / path.name)
    hourly = directory / "wml_hourly.yaml"
    hourly.write_text(
        hourly.read_text(encoding="utf-8")
        + "  2027-01-01:\n"
        + '    reference: "hypothetical future entry (test only)"\n'
        + "    value: {21: 20.00, 20: 17.50, 19: 15.00, 18: 12.50, 17: 10.00, 16: 8.00,"
        + " 15: 6.00}\n",
        encoding="utf-8",
    )
    term = directory / "notice_term_working_days.yaml"
    term.write_text(
        term.read_text(encoding="utf-8")
        + '  2027-01-01: {value: 5, reference: "hypothetical future entry (test only)"}\n',
        encoding="utf-8",
    )
    return load_parameters(directory)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    on=st.dates(min_value=date(2022, 3, 4), max_value=date(2026, 12, 31)),
    age=st.integers(min_value=15, max_value=70),
    notice_offset=st.integers(min_value=-10, max_value=20),
)
def test_future_entry_never_changes_earlier_results(
    extended: Parameters, params: Parameters, on: date, age: int, notice_offset: int
) -> None:
    fulltime = Decimal(38)
    before = wages.minimum_hourly_wage(age, on, fulltime, params)
    after = wages.minimum_hourly_wage(age, on, fulltime, extended)
    assert before.hourly == after.hourly
    start = on
    notice = date.fromordinal(on.toordinal() - notice_offset)
    assert calendar.timeliness(notice, start, params) == calendar.timeliness(
        notice, start, extended
    )
    assert calendar.notice_deadline(start, params) == calendar.notice_deadline(start, extended)


def test_future_entry_applies_from_its_date(extended: Parameters) -> None:
    assert wages.minimum_hourly_wage(30, date(2027, 1, 1), None, extended).hourly == Decimal(20)
    assert not extended.at("wml_hourly", date(2027, 1, 1)).possibly_out_of_date
    assert not wages.minimum_hourly_wage(20, date(2027, 1, 1), None, extended).lower_bound


def test_a_remembered_value_is_the_one_worked_out(params: Parameters) -> None:
    """`at` keeps each (name, day) answer: asked again, and after its memory is emptied, it
    answers exactly what a fresh set of the same parameters answers, errors included."""
    fresh = load_parameters(PACKAGED_DIRECTORY)
    days = [date(2022, 3, 4), date(2024, 1, 1), date(2025, 6, 30), date(2026, 7, 1)]
    for name in params.names():
        for day in days:
            try:
                expected = fresh.at(name, day)
            except ParameterError:
                with pytest.raises(ParameterError):
                    params.at(name, day)
                continue
            assert params.at(name, day) == expected
            assert params.at(name, day) is params.at(name, day)
    params._at.clear()
    assert params.at("wml_hourly", date(2025, 6, 30)) == fresh.at("wml_hourly", date(2025, 6, 30))
