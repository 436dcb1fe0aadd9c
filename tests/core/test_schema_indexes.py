"""The migrations build every index the models declare, and no other: a query written against
the models (an incremental sweep's look-up by `payroll_record.updated_at`, the queue's covering
indexes) finds the same indexes on SQLite and PostgreSQL as the code expects."""

from __future__ import annotations

from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

from meldplicht.models import import_all_models


def test_every_table_has_the_indexes_its_model_declares(engine: Engine) -> None:
    import_all_models()
    inspector = inspect(engine)
    for table in SQLModel.metadata.sorted_tables:
        declared = {ix.name: [c.name for c in ix.columns] for ix in table.indexes}
        built = {
            ix["name"]: ix["column_names"]
            for ix in inspector.get_indexes(table.name)
            if not ix.get("duplicates_constraint")  # PostgreSQL lists a UNIQUE's index too
        }
        assert built == declared, table.name
