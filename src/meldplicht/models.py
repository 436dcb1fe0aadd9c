"""Imports every table module so SQLModel's metadata is complete (Alembic, tests), and the
case joiner every flag sync ends in (set by `meldplicht.inspection.cases`)."""

from __future__ import annotations


def import_all_models() -> None:
    import meldplicht.accounts.models
    import meldplicht.alerts.models
    import meldplicht.audit.models
    import meldplicht.core.idempotency
    import meldplicht.employers.models
    import meldplicht.flags.models
    import meldplicht.inspection.cases
    import meldplicht.inspection.models
    import meldplicht.notifications.models
    import meldplicht.payroll.models
    import meldplicht.sweeps.models  # noqa: F401
