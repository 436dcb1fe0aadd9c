"""The queue's partial indexes (alembic 0006): the migrations make what the model declares, and
the pages they serve are the same pages, whatever the flags (also flags the workflow would not
leave, which those indexes expect to be few)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session

from meldplicht.flags.models import ACTIVE_QUEUE_INDEXES, Flag, FlagStatus
from meldplicht.inspection import queue
from meldplicht.rules.facts import Severity
from tests.conftest import EmployerWithKey
from tests.inspection.conftest import INSPECTION, StaffWithKey, synthetic_flag

FLAGS = f"{INSPECTION}/flags"
RULES = ("LATE_NOTICE", "BELOW_MINIMUM_WAGE", "DOCUMENT_EXPIRED")
ACTIVE = ("open", "claimed", "investigating")


def _where_terms(sql: str) -> set[str]:
    """A partial index's WHERE as a set of normalised terms (either database's spelling)."""
    where = re.split(r"\bWHERE\b", sql, maxsplit=1, flags=re.IGNORECASE)[1]
    where = re.sub(r"::[a-z]+", "", where).replace("(", "").replace(")", "").replace('"', "")
    return {"".join(term.lower().split()) for term in re.split(r"\bAND\b", where, flags=re.I)}


def test_migrated_flag_indexes_match_the_model(engine: Engine) -> None:
    model = {ix.name: [c.name for c in ix.columns] for ix in Flag.__table__.indexes}  # type: ignore[attr-defined]
    found = {
        ix["name"]: ix["column_names"]
        for ix in inspect(engine).get_indexes("flag")
        if not ix.get("duplicates_constraint")  # PostgreSQL lists a UNIQUE's index too
    }
    assert found == model
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            sql = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'flag'"
        else:
            sql = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'flag'"
        definitions = {name: ddl or "" for name, ddl in conn.execute(text(sql))}
    partial = {n for n, ddl in definitions.items() if re.search(r"\bWHERE\b", ddl, re.I)}
    assert partial == {name for name, _, _ in ACTIVE_QUEUE_INDEXES}
    for name, _, where in ACTIVE_QUEUE_INDEXES:
        assert _where_terms(definitions[name]) == _where_terms(f"WHERE {where}")


def _get(api: TestClient, who: StaffWithKey, **params: Any) -> dict[str, Any]:
    response = api.get(FLAGS, params=params, headers=who.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _walk(api: TestClient, who: StaffWithKey, limit: int, **params: Any) -> list[str]:
    got: list[str] = []
    cursor = None
    for _ in range(200):
        page = _get(api, who, **params, limit=limit, **({"cursor": cursor} if cursor else {}))
        got += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return got
    raise AssertionError("the cursor never ended")


@pytest.fixture
def mixed(session: Session, employer: EmployerWithKey, inspector: StaffWithKey) -> list[Flag]:
    """Three rules in three severities and every active status; one claimed flag without an
    assignee and one open flag with one (the workflow leaves neither)."""
    severities = (Severity.HIGH, Severity.MEDIUM, Severity.LOW)
    statuses = (FlagStatus.OPEN, FlagStatus.CLAIMED, FlagStatus.INVESTIGATING)
    flags = []
    for i in range(30):
        flag = synthetic_flag(
            session,
            employer.employer,
            rule=RULES[i % 3],
            severity=severities[i % 3],
            workers=1 + i % 5,
        )
        flag.status = statuses[i % 7 % 3]
        flag.assignee_id = None if flag.status == FlagStatus.OPEN else inspector.id
        flags.append(flag)
    flags[1].status, flags[1].assignee_id = FlagStatus.CLAIMED, None
    flags[3].status, flags[3].assignee_id = FlagStatus.OPEN, inspector.id
    for flag in flags[20:24]:
        flag.status, flag.assignee_id = FlagStatus.RESOLVED, None
    session.add_all(flags)
    session.flush()
    return flags


def _expected(flags: list[Flag], keep: Any, statuses: tuple[str, ...] = ACTIVE) -> list[str]:
    chosen = [f for f in flags if f.status in statuses and keep(f)]
    return [str(f.id) for f in sorted(chosen, key=lambda f: (f.risk_score, f.id), reverse=True)]


@pytest.mark.parametrize("limit", [1, 4, 50])
@pytest.mark.parametrize("rules", [RULES[:1], RULES[:2], RULES])
def test_pages_by_rule_are_the_queue_in_risk_order(
    api: TestClient, inspector: StaffWithKey, mixed: list[Flag], limit: int, rules: tuple[str]
) -> None:
    got = _walk(api, inspector, limit, rule=list(rules))
    assert got == _expected(mixed, lambda f: f.rule_code in rules)
    with_resolved = _walk(api, inspector, limit, rule=list(rules), status=["open", "resolved"])
    assert with_resolved == _expected(
        mixed, lambda f: f.rule_code in rules, statuses=("open", "resolved")
    )
    # A severity the rule does not have: nothing, and no page walks for it.
    assert _walk(api, inspector, limit, rule=list(rules), severity="low", status="open") == (
        _expected(
            mixed, lambda f: f.rule_code in rules and f.severity == "low" and f.status == "open"
        )
    )


def test_more_rules_than_ranges_read_one_range_per_status(
    api: TestClient, inspector: StaffWithKey, mixed: list[Flag], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queue, "RULE_RANGES_MAX", 2)
    got = _walk(api, inspector, 4, rule=list(RULES))
    assert got == _expected(mixed, lambda _: True)


def test_assignee_filters_find_flags_outside_the_workflow(
    api: TestClient, inspector: StaffWithKey, mixed: list[Flag]
) -> None:
    unassigned = _walk(api, inspector, 3, assignee="none")
    assert unassigned == _expected(mixed, lambda f: f.assignee_id is None)
    assert str(mixed[1].id) in unassigned  # claimed without an assignee
    mine = _walk(api, inspector, 3, assignee="me")
    assert mine == _expected(mixed, lambda f: f.assignee_id == inspector.id)
    assert str(mixed[3].id) in mine  # open with an assignee
    by_id = _walk(api, inspector, 50, assignee=str(inspector.id), sort="age")
    assert sorted(by_id) == sorted(mine)
    assert _walk(api, inspector, 50, assignee=str(uuid.uuid4())) == []
