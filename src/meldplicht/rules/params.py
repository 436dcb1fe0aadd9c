"""Load, validate and look up the dated legal parameters kept as YAML in `parameters/`.

Every file is one parameter (OpenFisca style): `description`, `unit`, `reference` and
`values: {YYYY-MM-DD: {value, reference, note?}}`. Numbers are read as Decimal, never float.
A `value: null` entry ends a parameter from that date. Files are validated when loaded and a
bad file raises `ParameterError` naming the file and the key.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from meldplicht.rules.facts import ParameterUse

PACKAGED_DIRECTORY = Path(__file__).parent / "parameters"

NUMERIC_UNITS = frozenset({"currency:EUR", "ratio", "hours_per_week"})
INTEGER_UNITS = frozenset({"working_days", "days", "count"})
KNOWN_UNITS = NUMERIC_UNITS | INTEGER_UNITS | {"date", "calendar_rules", "calendar_days"}
# withdrawn: an announced change that was called off before it took effect; held as history.
KNOWN_STATUSES = frozenset({"in_force", "announced", "withdrawn", "policy"})
KNOWN_INDEXATIONS = frozenset({"half_yearly"})
TOP_LEVEL_KEYS = frozenset(
    {"description", "unit", "reference", "values", "status", "indexation", "note"}
)
ENTRY_KEYS = frozenset({"value", "reference", "note"})


class ParameterError(ValueError):
    """A parameter file is malformed, or a lookup asks for something the data cannot answer."""


@dataclass(frozen=True, slots=True)
class ParameterEntry:
    effective_from: date
    value: Any  # Decimal | int | date | str | None | dict[str, ...] | list[...]
    reference: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    description: str
    unit: str
    reference: str
    status: str
    indexation: str | None
    entries: tuple[ParameterEntry, ...]  # sorted by effective_from, strictly increasing
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ParameterValue:
    """The value of one parameter on one date, with where it comes from."""

    name: str
    value: Any
    effective_from: date
    reference: str
    possibly_out_of_date: bool = False
    status: str = "in_force"

    def as_use(self) -> ParameterUse:
        return ParameterUse(
            name=self.name,
            value=_to_text(self.value),
            effective_from=self.effective_from,
            reference=self.reference,
            possibly_out_of_date=self.possibly_out_of_date,
        )


# How far ahead an operator is warned that an indexed table falls due. SZW publishes the new
# minimum-wage amounts in the Staatscourant some two to three months before 1 January and
# 1 July; six weeks leaves time to enter and release them after they appear.
DUE_WARNING = timedelta(weeks=6)
# The (name, day) answers `Parameters.at` keeps; emptied when full (a few thousand days are
# asked in a sweep, so it seldom is).
AT_CACHE_SIZE = 65536


@dataclass(frozen=True, slots=True)
class IndexedStatus:
    """Where one half-yearly indexed table stands on a day (health endpoint and CLI)."""

    name: str
    newest_entry: date
    table_ends: date
    next_expected: date
    state: str  # "current" | "due_soon" (within DUE_WARNING) | "out_of_date"

    def as_json(self) -> dict[str, str]:
        return {
            "name": self.name,
            "newest_entry": self.newest_entry.isoformat(),
            "table_ends": self.table_ends.isoformat(),
            "next_expected": self.next_expected.isoformat(),
            "state": self.state,
        }


def next_half_year_start(d: date) -> date:
    """The first 1 January or 1 July strictly after `d`."""
    if d.month < 7:
        return date(d.year, 7, 1)
    return date(d.year + 1, 1, 1)


class Parameters:
    """All legal parameters, looked up by name and date."""

    def __init__(self, parameters: Mapping[str, Parameter]) -> None:
        self._parameters = dict(parameters)
        # `at` answers from its entries alone, which never change: a sweep asks the same few
        # (name, day) pairs of a million notifications, so each is worked out once.
        self._at: dict[tuple[str, date], ParameterValue] = {}

    def names(self) -> list[str]:
        return sorted(self._parameters)

    def parameter(self, name: str) -> Parameter:
        try:
            return self._parameters[name]
        except KeyError:
            raise ParameterError(f"unknown parameter {name!r}") from None

    def entries(self, name: str) -> tuple[ParameterEntry, ...]:
        return self.parameter(name).entries

    def at(self, name: str, on: date) -> ParameterValue:
        """The value of `name` on `on`, with its source (ParameterError when there is none)."""
        key = (name, on)
        found = self._at.get(key)
        if found is None:
            found = self._at_uncached(name, on)
            if len(self._at) >= AT_CACHE_SIZE:
                self._at.clear()
            self._at[key] = found
        return found

    def _at_uncached(self, name: str, on: date) -> ParameterValue:
        parameter = self.parameter(name)
        chosen: ParameterEntry | None = None
        for entry in parameter.entries:
            if entry.effective_from <= on:
                chosen = entry
            else:
                break
        if chosen is None:
            first = parameter.entries[0].effective_from
            raise ParameterError(
                f"parameter {name!r} has no value on {on.isoformat()}: "
                f"its first entry is {first.isoformat()}"
            )
        return ParameterValue(
            name=name,
            value=chosen.value,
            effective_from=chosen.effective_from,
            reference=chosen.reference,
            possibly_out_of_date=self.possibly_out_of_date(name, on),
            status=parameter.status,
        )

    def possibly_out_of_date(self, name: str, on: date) -> bool:
        """True when a half-yearly indexed table has no entry for a half-year that has begun."""
        parameter = self.parameter(name)
        newest = parameter.entries[-1]
        if parameter.indexation != "half_yearly" or newest.value is None:
            return False
        return on >= next_half_year_start(newest.effective_from)

    def table_ends(self, name: str) -> date:
        """The last day the table is known to be current.

        For a half-yearly indexed table: the day before the next 1 January / 1 July after its
        newest entry. For a table ended by a `null` entry: the day before that entry. For any
        other parameter there is no known end: `date.max`.
        """
        parameter = self.parameter(name)
        newest = parameter.entries[-1]
        if newest.value is None:
            return date.fromordinal(newest.effective_from.toordinal() - 1)
        if parameter.indexation == "half_yearly":
            return date.fromordinal(next_half_year_start(newest.effective_from).toordinal() - 1)
        return date.max

    def out_of_date_on(self, on: date) -> list[str]:
        """Names of the parameters whose table may be out of date on `on` (health endpoint)."""
        return [name for name in self.names() if self.possibly_out_of_date(name, on)]

    def indexed_status(self, on: date, warning: timedelta = DUE_WARNING) -> list[IndexedStatus]:
        """Every half-yearly indexed table still in use: its newest period, the day it stops
        being known current, and the next 1 January / 1 July a new value is expected."""
        out = []
        for name in self.names():
            parameter = self.parameter(name)
            newest = parameter.entries[-1]
            if parameter.indexation != "half_yearly" or newest.value is None:
                continue
            ends = self.table_ends(name)
            expected = date.fromordinal(ends.toordinal() + 1)
            if on > ends:
                state = "out_of_date"
            elif on + warning >= expected:
                state = "due_soon"
            else:
                state = "current"
            out.append(IndexedStatus(name, newest.effective_from, ends, expected, state))
        return out

    def change_dates(self, name: str) -> list[date]:
        """Dates on which a lookup of `name` may give a different answer."""
        parameter = self.parameter(name)
        dates = [entry.effective_from for entry in parameter.entries]
        if parameter.indexation == "half_yearly" and parameter.entries[-1].value is not None:
            dates.append(next_half_year_start(parameter.entries[-1].effective_from))
        return dates

    def describe(self, name: str) -> dict[str, Any]:
        """A JSON-safe description of a parameter with all its dated values."""
        parameter = self.parameter(name)
        return {
            "name": parameter.name,
            "description": parameter.description,
            "unit": parameter.unit,
            "reference": parameter.reference,
            "status": parameter.status,
            "indexation": parameter.indexation,
            "note": parameter.note,
            "table_ends": _json_safe(self.table_ends(name)),
            "values": [
                {
                    "effective_from": entry.effective_from.isoformat(),
                    "value": _json_safe(entry.value),
                    "reference": entry.reference,
                    "note": entry.note,
                }
                for entry in parameter.entries
            ],
        }


# --- loading -----------------------------------------------------------------------------


class _DecimalLoader(yaml.SafeLoader):
    """A safe YAML loader that reads floats as Decimal, so money never passes through float."""


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    text = str(loader.construct_scalar(node)).replace("_", "")  # type: ignore[arg-type]
    return Decimal(text)


def _construct_unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    # PyYAML keeps the last of two equal keys; a repeated date is an overlap, so refuse it.
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise ParameterError(f"duplicate key {key!r} (line {key_node.start_mark.line + 1})")
        seen.add(key)
    return loader.construct_mapping(node)


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
_DecimalLoader.add_constructor("tag:yaml.org,2002:map", _construct_unique_mapping)


def load_parameters(directory: Path) -> Parameters:
    """Load and validate every `*.yaml` file in `directory`."""
    files = sorted(Path(directory).glob("*.yaml"))
    if not files:
        raise ParameterError(f"no parameter files in {directory}")
    return Parameters({path.stem: _load_file(path) for path in files})


@functools.cache
def get_parameters() -> Parameters:
    """The packaged parameters, loaded and validated once per process."""
    return load_parameters(PACKAGED_DIRECTORY)


def _load_file(path: Path) -> Parameter:
    where = path.name
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_DecimalLoader)  # noqa: S506
    except yaml.YAMLError as error:
        raise ParameterError(f"{where}: not valid YAML: {error}") from error
    except ParameterError as error:
        raise ParameterError(f"{where}: {error}") from error
    if not isinstance(raw, dict):
        raise ParameterError(f"{where}: the file must be a mapping")
    unknown = set(raw) - TOP_LEVEL_KEYS
    if unknown:
        raise ParameterError(f"{where}: unknown keys {sorted(unknown)}")
    for key in ("description", "unit", "reference", "values"):
        if key not in raw or raw[key] in (None, ""):
            raise ParameterError(f"{where}: missing {key!r}")
    for key in ("description", "reference"):
        if not isinstance(raw[key], str):
            raise ParameterError(f"{where}: {key!r} must be text")
    unit = raw["unit"]
    if unit not in KNOWN_UNITS:
        raise ParameterError(f"{where}: unknown unit {unit!r} (known: {sorted(KNOWN_UNITS)})")
    status = raw.get("status", "in_force")
    if status not in KNOWN_STATUSES:
        raise ParameterError(f"{where}: unknown status {status!r}")
    indexation = raw.get("indexation")
    if indexation is not None and indexation not in KNOWN_INDEXATIONS:
        raise ParameterError(f"{where}: unknown indexation {indexation!r}")
    values = raw["values"]
    if not isinstance(values, dict) or not values:
        raise ParameterError(f"{where}: 'values' must be a non-empty mapping of dates")

    entries: list[ParameterEntry] = []
    previous: date | None = None
    # YAML mappings keep file order, so an unsorted file is caught here, not silently sorted.
    for key, body in values.items():
        label = f"{where}: values.{key}"
        if not isinstance(key, date):
            raise ParameterError(f"{label}: the key must be a date YYYY-MM-DD")
        if previous is not None and key <= previous:
            raise ParameterError(
                f"{label}: dates must be strictly increasing (overlaps or follows "
                f"{previous.isoformat()})"
            )
        previous = key
        if not isinstance(body, dict):
            raise ParameterError(f"{label}: an entry must be a mapping with value and reference")
        extra = set(body) - ENTRY_KEYS
        if extra:
            raise ParameterError(f"{label}: unknown keys {sorted(extra)}")
        if "value" not in body:
            raise ParameterError(f"{label}: missing 'value'")
        reference = body.get("reference")
        if not isinstance(reference, str) or not reference.strip():
            raise ParameterError(f"{label}: missing 'reference'")
        value = body["value"]
        if value is not None:
            value = _check_value(unit, _normalise(value), f"{label}.value")
        note = body.get("note")
        if note is not None and not isinstance(note, str):
            raise ParameterError(f"{label}: 'note' must be text")
        entries.append(ParameterEntry(key, value, reference.strip(), note))
    if entries[0].value is None:
        raise ParameterError(f"{where}: the first entry cannot be null")

    return Parameter(
        name=path.stem,
        description=" ".join(raw["description"].split()),
        unit=unit,
        reference=raw["reference"],
        status=status,
        indexation=indexation,
        entries=tuple(entries),
        note=raw.get("note"),
    )


def _normalise(value: Any) -> Any:
    """Mapping keys become text (YAML reads `21:` as an int); nested values are normalised."""
    if isinstance(value, dict):
        return {str(key): _normalise(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalise(item) for item in value]
    return value


def _check_value(unit: str, value: Any, label: str) -> Any:
    if unit in NUMERIC_UNITS:
        return _check_leaves(value, label, _as_decimal)
    if unit in INTEGER_UNITS:
        return _check_leaves(value, label, _as_int)
    if unit == "date":
        return _check_leaves(value, label, _as_date)
    if unit == "calendar_rules":
        return _check_rules(value, label)
    return _check_days(value, label)


def _check_leaves(value: Any, label: str, convert: Any) -> Any:
    if isinstance(value, dict):
        if not value:
            raise ParameterError(f"{label}: empty mapping")
        return {key: _check_leaves(item, f"{label}.{key}", convert) for key, item in value.items()}
    result = convert(value)
    if result is None:
        raise ParameterError(f"{label}: value {value!r} has the wrong type for this unit")
    return result


def _as_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    return None


def _as_int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _as_date(value: Any) -> date | None:
    return value if isinstance(value, date) else None


def _check_rules(value: Any, label: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise ParameterError(f"{label}: calendar rules must be a non-empty list")
    for index, rule in enumerate(value):
        where = f"{label}[{index}]"
        if not isinstance(rule, dict) or not isinstance(rule.get("name"), str):
            raise ParameterError(f"{where}: each rule needs a name")
        kind = rule.get("rule")
        if kind == "fixed":
            if not (_as_int(rule.get("month")) and _as_int(rule.get("day"))):
                raise ParameterError(f"{where}: a fixed rule needs month and day")
        elif kind == "easter":
            if _as_int(rule.get("offset")) is None:
                raise ParameterError(f"{where}: an easter rule needs an integer offset")
        elif kind != "koningsdag":
            raise ParameterError(f"{where}: unknown rule {kind!r}")
    return list(value)


def _check_days(value: Any, label: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise ParameterError(f"{label}: calendar days must be a list")
    for index, day in enumerate(value):
        if (
            not isinstance(day, dict)
            or not isinstance(day.get("date"), date)
            or not isinstance(day.get("name"), str)
        ):
            raise ParameterError(f"{label}[{index}]: each day needs a date and a name")
    return list(value)


def _to_text(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(_json_safe(value), sort_keys=True)
    return str(value)


def _json_safe(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return value
