"""The SQL forms of rule definitions, for the services that pre-select rows in the database.

A rule is defined once, in `rules/`; where a service must select in SQL what the rule would
say (the sweep's candidates, a payroll batch's notifications), it asks here for the
expression. Only expressions over the columns a caller passes in are built: no tables, no
session, no database (rules/ stays pure).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from meldplicht.rules.facts import VOID_STATUSES


def counted(status: Any) -> ColumnElement[bool]:
    """The SQL form of `facts.counts`: the notification whose `status` column this is counts
    for a verdict (it is not withdrawn). `status`: e.g. `col(Notification.status)`."""
    expression: ColumnElement[bool] = status.not_in(sorted(VOID_STATUSES))
    return expression
