"""The `meldplicht` command: serve, migrate, manage employers and keys, demo data, imports."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from sqlmodel import Session, select

# Every flag sync ends in joining the flags into cases; the inspection package sets how.
import meldplicht.inspection.cases  # noqa: F401
from meldplicht.core.config import get_settings
from meldplicht.core.db import create_db_engine

if TYPE_CHECKING:
    from meldplicht.accounts.models import UserAccount

app = typer.Typer(
    help="meldplicht: notifications under the Dutch meldplicht for Ukrainians.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
employers_app = typer.Typer(help="Employer accounts.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
users_app = typer.Typer(
    help="User accounts for the pages (inspectors, supervisors...).", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(employers_app, name="employers")
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
parameters_app = typer.Typer(help="Legal parameter tables.", no_args_is_help=True)
app.add_typer(parameters_app, name="parameters")


def _session() -> Session:
    engine = create_db_engine(get_settings().database_url)
    return Session(engine, expire_on_commit=False)


def _fail(message: str) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Web worker processes.")] = 1,
) -> None:
    """Run the web service (API and pages)."""
    import uvicorn

    from meldplicht.app import NO_HOSTS
    from meldplicht.core.migrations import SchemaNotCurrent, ensure_schema_current

    settings = get_settings()
    if not settings.hosts:
        _fail(NO_HOSTS)
    try:
        ensure_schema_current(create_db_engine(settings.database_url))
    except SchemaNotCurrent as exc:
        _fail(str(exc))
    typer.echo(f"meldplicht on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    uvicorn.run(
        "meldplicht.app:create_checked_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        # X-Forwarded-For only from MELDPLICHT_TRUSTED_PROXIES (none by default), so a client
        # cannot pick its own address for the per-address sign-in limit.
        **settings.proxy_header_options(),
    )


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply the migrations up to REVISION (default: the newest)."""
    from meldplicht.core.migrations import upgrade

    settings = get_settings()
    upgrade(settings.database_url, revision)
    typer.echo(f"Database at {revision}.")


@db_app.command("status")
def db_status() -> None:
    """Show the database's migration level and the newest one."""
    from meldplicht.core.migrations import schema_status

    current, head = schema_status(create_db_engine(get_settings().database_url))
    typer.echo(f"current: {current}\nnewest:  {head}")
    if current != head:
        raise typer.Exit(1)


@employers_app.command("create")
def employers_create(
    kvk: Annotated[str, typer.Option(help="KvK number (8 digits).")],
    name: Annotated[str, typer.Option(help="Company name.")],
    loonheffingennummer: Annotated[str | None, typer.Option(help="e.g. 123456782L01")] = None,
    sbi_code: Annotated[str | None, typer.Option(help="SBI activity code.")] = None,
    sector: Annotated[str | None, typer.Option()] = None,
    staffing_agency: Annotated[bool, typer.Option(help="Supplies workers to hirers.")] = False,
    postcode: Annotated[str | None, typer.Option()] = None,
    city: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Register an employer (bound to one KvK number)."""
    from pydantic import ValidationError

    from meldplicht.core.errors import DomainError
    from meldplicht.employers import service
    from meldplicht.employers.schemas import EmployerCreate

    try:
        data = EmployerCreate(
            kvk_number=kvk,
            name=name,
            loonheffingennummer=loonheffingennummer,
            sbi_code=sbi_code,
            sector=sector,
            is_staffing_agency=staffing_agency,
            postcode=postcode,
            city=city,
        )
    except ValidationError as exc:
        _fail("\n".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
        return
    with _session() as session, session.begin():
        try:
            employer = service.create_employer(session, data)
        except DomainError as exc:
            _fail(str(exc))
            return
        typer.echo(f"Employer {employer.name} (KvK {employer.kvk_number}) id {employer.id}")


@keys_app.command("create")
def keys_create(
    employer_kvk: Annotated[str | None, typer.Option(help="Bind the key to this employer.")] = None,
    role: Annotated[
        str, typer.Option(help="employer, data_partner, inspector, supervisor, admin")
    ] = "employer",
    username: Annotated[
        str | None, typer.Option(help="Bind the key to this user (inspectors, supervisors).")
    ] = None,
    name: Annotated[str, typer.Option(help="What the key is for.")] = "API key",
) -> None:
    """Create an API key; the key is shown once and stored only as a hash."""
    from sqlmodel import select

    from meldplicht.accounts.models import Role, UserAccount
    from meldplicht.accounts.service import issue_key
    from meldplicht.employers.service import get_by_kvk

    try:
        role_value = Role(role)
    except ValueError:
        _fail(f"Unknown role {role!r}.")
        return
    with _session() as session, session.begin():
        employer_id = None
        user_id = None
        if employer_kvk is not None:
            employer = get_by_kvk(session, employer_kvk)
            if employer is None:
                _fail(f"No employer with KvK {employer_kvk}. Create it first.")
                return
            employer_id = employer.id
        if username is not None:
            user = session.exec(select(UserAccount).where(UserAccount.username == username)).first()
            if user is None:
                _fail(f"No user {username!r}. Create it with `meldplicht users create`.")
                return
            if user.role != role_value:
                _fail(f"User {username!r} is a {user.role}, not a {role_value}.")
            user_id = user.id
        if role_value is Role.EMPLOYER and employer_id is None:
            _fail("An employer key needs --employer-kvk.")
        if role_value in (Role.INSPECTOR, Role.SUPERVISOR) and user_id is None:
            _fail("An inspector or supervisor key needs --username: every step is audited by name.")
        issued = issue_key(
            session, role=role_value, name=name, employer_id=employer_id, user_id=user_id
        )
        typer.echo(issued.token)
        typer.secho("Store this key now: it is not shown again.", err=True, fg=typer.colors.YELLOW)


@keys_app.command("revoke")
def keys_revoke(prefix: Annotated[str, typer.Argument(help="The part after mpk_.")]) -> None:
    """Revoke an API key by its prefix; it stops working at once."""
    from meldplicht.accounts.service import revoke_key
    from meldplicht.core.errors import DomainError

    with _session() as session, session.begin():
        try:
            key = revoke_key(session, prefix.removeprefix("mpk_").split("_")[0])
        except DomainError as exc:
            _fail(str(exc))
            return
        typer.echo(f"Revoked key {key.prefix} ({key.name}).")


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option()],
    role: Annotated[str, typer.Option(help="inspector, supervisor, admin or employer")],
    display_name: Annotated[str | None, typer.Option()] = None,
    employer_kvk: Annotated[str | None, typer.Option()] = None,
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
) -> None:
    """Create a user who signs in to the pages."""
    from meldplicht.accounts.models import Role
    from meldplicht.accounts.service import create_user
    from meldplicht.employers.service import get_by_kvk

    if len(password) < 12:
        _fail("Use a password of at least 12 characters.")
    with _session() as session, session.begin():
        employer_id = None
        if employer_kvk:
            employer = get_by_kvk(session, employer_kvk)
            if employer is None:
                _fail(f"No employer with KvK {employer_kvk}.")
                return
            employer_id = employer.id
        user = create_user(
            session,
            username=username,
            display_name=display_name or username,
            role=Role(role),
            password=password,
            employer_id=employer_id,
        )
        typer.echo(f"User {user.username} ({user.role}) created.")


def _user(session: Session, username: str) -> UserAccount:
    from meldplicht.accounts.models import UserAccount

    user = session.exec(select(UserAccount).where(UserAccount.username == username)).first()
    if user is None:
        _fail(f"No user {username}.")
        raise AssertionError  # unreachable: _fail exits
    return user


@users_app.command("set-password")
def users_set_password(
    username: Annotated[str, typer.Option()],
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
) -> None:
    """Give a user a new password; every session they have open ends."""
    from meldplicht.accounts.service import set_password

    if len(password) < 12:
        _fail("Use a password of at least 12 characters.")
    with _session() as session, session.begin():
        set_password(session, _user(session, username), password)
        typer.echo(f"New password set for {username}; their sessions have ended.")


@users_app.command("disable")
def users_disable(username: Annotated[str, typer.Option()]) -> None:
    """Disable a user: no sign-in, every open session ends at once."""
    from meldplicht.accounts.service import set_disabled

    with _session() as session, session.begin():
        set_disabled(session, _user(session, username))
        typer.echo(f"User {username} disabled; their sessions have ended.")


@users_app.command("enable")
def users_enable(username: Annotated[str, typer.Option()]) -> None:
    """Enable a disabled user again (sessions ended by disabling stay ended)."""
    from meldplicht.accounts.service import set_disabled

    with _session() as session, session.begin():
        set_disabled(session, _user(session, username), False)
        typer.echo(f"User {username} enabled.")


@app.command()
def openapi(
    output: Annotated[Path, typer.Option(help="Where to write it.")] = Path("openapi/openapi.json"),
) -> None:
    """Write the OpenAPI document the app serves (committed; a test checks it is current)."""
    from meldplicht.openapi_export import render

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render(), encoding="utf-8")
    typer.echo(f"Wrote {output}")


@app.command()
def demo(
    if_empty: Annotated[bool, typer.Option(help="Only when there are no employers yet.")] = False,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 2026,
) -> None:
    """Load a realistic synthetic data set a newcomer can click through."""
    from meldplicht.demo import DemoRefused, load_demo

    with _session() as session, session.begin():
        try:
            summary = load_demo(session, seed=seed, if_empty=if_empty)
        except DemoRefused as exc:
            _fail(str(exc))
            return
    if "skipped" not in summary:
        # One sweep as of today, so payroll reconciliation and the cross-notification checks
        # have filled the queue before anyone looks at it.
        from meldplicht.core.clock import today
        from meldplicht.sweeps.sweep import SweepMode, SweepTrigger, run_sweep

        run = run_sweep(
            create_db_engine(get_settings().database_url),
            today(),
            mode=SweepMode.FULL,
            trigger=SweepTrigger.CLI,
        )
        summary["sweep"] = {"status": run.status, **run.counts}
    typer.echo(json.dumps(summary, indent=2, ensure_ascii=False, default=str))


@app.command("import-notifications")
def import_notifications(
    file: Annotated[Path, typer.Argument(help="CSV or JSON lines (.csv, .jsonl).")],
    report: Annotated[Path | None, typer.Option(help="Write the per-row report here.")] = None,
) -> None:
    """Migrate notifications an older system holds, with their original receipt instants.

    \b
    FILE is CSV (UTF-8; `,` `;` or tab; header line first) or JSON
    lines (one object per line: the body of POST /api/v1/notifications
    plus the three fields below). CSV columns: the bulk template
    (GET /employer/bulk/template.csv) plus
      external_reference  the id in the old system (required; a re-run
                          skips rows already imported)
      employer_kvk        the employer's KvK number (registered first)
      received_at         the original receipt instant, ISO 8601, e.g.
                          2024-05-06T09:30:00+02:00 (no offset: Amsterdam
                          time); not before 4 March 2022
    Dates YYYY-MM-DD or DD-MM-YYYY; amounts 16.50 or 16,50; ja/nee.

    \b
    Each row is judged on its own: a bad row is reported with its line
    number and reasons (rejected_rows in the summary; all in --report)
    and every good row is kept, also the rows after it.
    A row reusing an external_reference with the same content is
    already present (nothing stored twice); with other content (another
    worker, other terms) it is a conflict: reported, nothing stored.
    Exit code 0: all rows imported or already present; 2: some rows were
    rejected or conflicted.
    """
    from meldplicht.notifications.importer import run_import

    if not file.exists():
        _fail(f"No such file: {file}")
    summary = run_import(file, report_path=report, show_progress=sys.stderr.isatty())
    typer.echo(json.dumps(summary, indent=2))
    if summary.get("rejected") or summary.get("conflict"):
        raise typer.Exit(2)


@app.command()
def sweep(
    as_of: Annotated[
        str | None, typer.Option(help="Sweep as of this day (YYYY-MM-DD). Default: today.")
    ] = None,
    full: Annotated[bool, typer.Option(help="Re-evaluate every notification.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, help="Notifications per transaction.")] = 500,
) -> None:
    """Re-check everything as of a day (what the nightly job runs); one sweep at a time."""
    from datetime import date

    from meldplicht.core.clock import today
    from meldplicht.sweeps.lock import SweepAlreadyRunning
    from meldplicht.sweeps.progress import terminal_progress
    from meldplicht.sweeps.sweep import (
        SweepMode,
        SweepStatus,
        SweepTrigger,
        run_sweep,
    )

    try:
        day = date.fromisoformat(as_of) if as_of else today()
    except ValueError:
        _fail(f"--as-of must be a date like 2025-07-01, not {as_of!r}.")
        return
    settings = get_settings()
    engine = create_db_engine(settings.database_url)
    show = sys.stderr.isatty()
    mode = SweepMode.FULL if full else SweepMode.INCREMENTAL
    try:
        with terminal_progress(show) as progress:
            run = run_sweep(
                engine,
                day,
                mode=mode,
                trigger=SweepTrigger.CLI,
                batch_size=batch_size,
                progress=progress,
                settings=settings,
            )
    except SweepAlreadyRunning as exc:
        typer.echo(str(exc))
        return
    finally:
        engine.dispose()
    summary = {
        "id": str(run.id),
        "as_of": day.isoformat(),
        "mode": run.mode,
        "status": run.status,
        **run.counts,
        "failed_items": run.errors[:20],
    }
    typer.echo(json.dumps(summary, indent=2))
    if run.status != SweepStatus.SUCCEEDED:
        raise typer.Exit(1)
    if run.counts.get("errors"):
        raise typer.Exit(2)


@app.command()
def scheduler() -> None:
    """Run the nightly sweep scheduler in this process (one per deployment)."""
    import logging
    import signal

    from meldplicht.sweeps.scheduler import blocking_scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = get_settings()
    engine = create_db_engine(settings.database_url)
    jobs = blocking_scheduler(engine, settings)

    def stop(_signum: int, _frame: object) -> None:
        jobs.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    typer.echo(f"Sweep scheduler: cron {settings.sweep_cron!r} ({settings.timezone}).")
    try:
        jobs.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        engine.dispose()


from meldplicht.payroll.cli import import_payroll  # noqa: E402 - registered with the others

app.command("import-payroll")(import_payroll)
from meldplicht.privacy.cli import app as privacy_app  # noqa: E402 - registered with the others

app.add_typer(privacy_app, name="privacy")


def main() -> None:
    app()


@parameters_app.command("status")
def parameters_status(
    as_of: Annotated[
        str | None, typer.Option(help="As of this day (YYYY-MM-DD). Default: today.")
    ] = None,
) -> None:
    """Each indexed table's newest period and the next date a new value is expected.

    Exits 1 when a table is out of date, so a scheduled job can alert; a table due within
    the warning horizon is shown as due but exits 0.
    """
    from datetime import date

    from meldplicht.core.clock import today
    from meldplicht.rules.params import DUE_WARNING, get_parameters

    try:
        day = date.fromisoformat(as_of) if as_of else today()
    except ValueError:
        _fail(f"--as-of must be a date like 2025-07-01, not {as_of!r}.")
        return
    statuses = get_parameters().indexed_status(day)
    words = {
        "current": "current",
        "due_soon": f"due within {DUE_WARNING.days // 7} weeks",
        "out_of_date": "OUT OF DATE",
    }
    typer.echo(f"Indexed legal tables as of {day.isoformat()}:")
    for s in statuses:
        typer.echo(
            f"  {s.name:<24} newest period from {s.newest_entry.isoformat()}, known until "
            f"{s.table_ends.isoformat()}, next value expected {s.next_expected.isoformat()}: "
            f"{words[s.state]}"
        )
    if any(s.state == "out_of_date" for s in statuses):
        raise typer.Exit(1)


alerts_app = typer.Typer(help="Employer alerts (webhook, e-mail).", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")


@alerts_app.command("deliver")
def alerts_deliver() -> None:
    """Send the alert deliveries that are due now (retries included); the sweep does this too."""
    from meldplicht.alerts.hooks import deliver
    from meldplicht.core.db import create_db_engine
    from meldplicht.models import import_all_models

    import_all_models()
    settings = get_settings()
    counts = deliver(create_db_engine(settings.database_url), settings)
    typer.echo(", ".join(f"{k} {v}" for k, v in counts.items()))
