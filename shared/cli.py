"""Command line: `python -m shared.cli --help`.

Errors a person can fix (a bad setting, an unreachable database, a wrong argument) print one
line and exit non-zero; they never print a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from datetime import date as _date
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from shared import demo, history, migrate
from shared.config import ConfigError, Settings, get_settings
from shared.db import DatabaseUnavailable, check_connection, make_engine, session_scope
from shared.errors import DomainError
from shared.models import Appointment, StaffRole, utcnow
from shared.services import staff, tokens
from shared.services.slips import format_time, issue_slip

EXIT_USAGE, EXIT_CONFIG, EXIT_DATABASE = 1, 2, 3


class CommandError(Exception):
    """A one-line problem to report to the person at the terminal."""


def _engine(settings: Settings):
    engine = make_engine(settings.database_url)
    check_connection(engine)
    return engine


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> None:
    _engine(settings).dispose()
    migrate.upgrade(settings.database_url)
    print("Database is up to date.")


def cmd_seed_demo(args: argparse.Namespace, settings: Settings) -> None:
    engine = _engine(settings)
    with session_scope(engine) as session:
        if demo.has_demo_data(session) or _has_any_appointment(session):
            if args.if_empty:
                print("Demo data already present; left as it is.")
                return
            raise CommandError("the database already has data; use reset-demo to start over")
        info = demo.seed_demo(session, tz=settings.tz, now=utcnow(), seed=args.seed)
    print(f"Seeded a demo clinic day for {info.day:%Y-%m-%d}.")


def cmd_reset_demo(args: argparse.Namespace, settings: Settings) -> None:
    if not args.yes:
        if not sys.stdin.isatty():
            raise CommandError("reset-demo deletes every record; add --yes to confirm")
        answer = input("This deletes every record in the database. Type 'reset' to go on: ")
        if answer.strip() != "reset":
            raise CommandError("nothing was changed")
    engine = _engine(settings)
    with session_scope(engine) as session:
        demo.clear_all(session)
        info = demo.seed_demo(session, tz=settings.tz, now=utcnow(), seed=args.seed)
    print(f"Database reset; seeded a demo clinic day for {info.day:%Y-%m-%d}.")


def cmd_create_user(args: argparse.Namespace, settings: Settings) -> None:
    password = args.password or os.environ.get("CHECKIN_NEW_PASSWORD", "")
    if not password:
        if not sys.stdin.isatty():
            raise CommandError("no password given: use --password or CHECKIN_NEW_PASSWORD")
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise CommandError("the two passwords differ; nothing was changed")
    engine = _engine(settings)
    with session_scope(engine) as session:
        user = staff.create_user(
            session,
            username=args.username,
            display_name=args.name or args.username,
            password=password,
            role=StaffRole(args.role),
        )
    print(f"Created {user.role.value} '{user.username}'.")


def _write_slip(session: Session, appointment: Appointment, settings: Settings, out: Path,
                kiosk_url: str | None = None) -> str:
    slip = issue_slip(session, appointment, secret_key=settings.secret_key, tz=settings.tz,
                      kiosk_url=kiosk_url or settings.kiosk_url, now=utcnow(), actor_type="cli")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(slip.png)
    return slip.token


def cmd_issue_token(args: argparse.Namespace, settings: Settings) -> None:
    engine = _engine(settings)
    out = Path(args.out) if args.out else settings.instance_dir / "slips" / (
        f"appointment-{args.appointment_id}.png"
    )
    with session_scope(engine) as session:
        appointment = session.get(Appointment, args.appointment_id)
        if appointment is None:
            raise CommandError(f"no appointment with id {args.appointment_id}")
        token = _write_slip(session, appointment, settings, out)
    print(f"Code: {token}")
    print(f"Link: {tokens.checkin_link(settings.kiosk_url, token)}")
    print(f"Slip: {out}")
    print("Any earlier code for this appointment no longer works.")


def cmd_demo_info(args: argparse.Namespace, settings: Settings) -> None:
    """What `make run` prints: the URLs, the demo logins and a patient to check in."""
    engine = _engine(settings)
    out = settings.instance_dir / "slips" / "demo-patient.png"
    with session_scope(engine) as session:
        info = demo.demo_info(session, tz=settings.tz)
        if info is None:
            print("No demo data in this database (seed it with: make reset-demo).")
            return
        appointment = session.get(Appointment, info.appointment_id)
        assert appointment is not None
        token = _write_slip(session, appointment, settings, out, args.kiosk_url)
        today = utcnow().astimezone(settings.tz).date()
    print(f"  Kiosk:      {args.kiosk_url}")
    print(f"  Dashboard:  {args.dashboard_url}")
    print("  Staff logins: " + ", ".join(f"{u} / {p}" for u, p in demo.DEMO_PASSWORDS.items()))
    print("  Check in a demo patient at the kiosk:")
    print(f"    scan the QR slip {out} at the kiosk's camera")
    print(
        f"    or type the name {info.patient_family_name} and birth date "
        f"{info.birth_date:%m/%d/%Y} ({info.patient_given_name} {info.patient_family_name}, "
        f"appointment at {format_time(appointment.start, settings.tz)})"
    )
    print("  Or check in ahead, as on the patient's phone, from the slip's link:")
    print(f"    {tokens.checkin_link(args.kiosk_url, token)}")
    print(f"    then \"I'm here\" by scanning the code on the waiting-room screen: "
          f"{args.dashboard_url}/?display=waiting-room")
    if info.day != today:
        print(f"  The demo day is {info.day:%Y-%m-%d}, not today: `make reset-demo` renews it.")


def cmd_seed_history(args: argparse.Namespace, settings: Settings) -> None:
    """A year (by default) of past clinic days, for the manager's reports."""
    if args.days < 1 or args.per_day < 1 or (args.years is not None and args.years < 1):
        raise CommandError("--days, --years and --per-day must be at least 1")
    end_day = args.end_day or utcnow().astimezone(settings.tz).date() - timedelta(days=1)
    engine = _engine(settings)
    began = time.perf_counter()
    with session_scope(engine) as session:
        if history.has_history(session):
            raise CommandError("history is already present; use reset-demo to start over")
        result = history.seed_history(session, tz=settings.tz, end_day=end_day,
                                      days=args.days, per_day=args.per_day, seed=args.seed,
                                      years=args.years)
    print(f"Seeded {result.appointments} appointments ({result.check_ins} check-ins, "
          f"{result.flags} flags) from {result.first_day:%Y-%m-%d} to "
          f"{result.last_day:%Y-%m-%d} in {time.perf_counter() - began:.1f} s.")


def _day_or_appointment(args: argparse.Namespace) -> str:
    return f"appointment-{args.appointment}" if args.appointment is not None else (
        f"{args.day:%Y-%m-%d}")


def cmd_reminders(args: argparse.Namespace, settings: Settings) -> None:
    """Printable QR reminders (PDF, a page each) for a clinic day or one appointment."""
    from shared.services import reminders

    out = Path(args.out) if args.out else settings.instance_dir / "reminders" / (
        f"reminders-{_day_or_appointment(args)}.pdf")
    engine = _engine(settings)
    options = {"secret_key": settings.secret_key, "tz": settings.tz,
               "kiosk_url": settings.kiosk_url, "now": utcnow(), "actor_type": "cli"}
    with session_scope(engine) as session:
        if args.appointment is not None:
            batch = reminders.reminder_for_appointment(session, args.appointment, **options)
        else:
            batch = reminders.reminders_for_day(session, args.day, **options)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(batch.pdf)
    print(f"Reminders: {batch.count} page{'s' if batch.count != 1 else ''} in {out}")
    if args.appointment is not None:
        print(f"Link: {batch.reminders[0].link}")
    print("Each reminder has a new code; earlier codes for these appointments no longer work.")


def cmd_export_fhir(args: argparse.Namespace, settings: Settings) -> None:
    """A FHIR R4 Bundle (JSON) of a clinic day or one appointment."""
    from shared.services import fhir_export

    out = Path(args.out) if args.out else settings.instance_dir / "exports" / (
        f"fhir-{_day_or_appointment(args)}.json")
    engine = _engine(settings)
    with session_scope(engine) as session:
        if args.appointment is not None:
            text = fhir_export.export_appointment(session, args.appointment, tz=settings.tz,
                                                  now=utcnow(), actor_type="cli")
        else:
            text = fhir_export.export_day(session, args.day, tz=settings.tz, now=utcnow(),
                                          actor_type="cli")
    out.parent.mkdir(parents=True, exist_ok=True)
    # It holds patient information: readable by its owner only, from the start.
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    counts = fhir_export.resource_counts(text)
    summary = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items())) or "no resources"
    print(f"FHIR R4 Bundle ({summary}) in {out}")
    print("It holds patient information: keep it private.")


def _schema_is_current(engine: Engine, database_url: str) -> bool:
    """The database was migrated to the newest revision (a dry run reads every table)."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    head = ScriptDirectory.from_config(migrate.alembic_config(database_url)).get_current_head()
    return current is not None and current == head


def cmd_import_schedule(args: argparse.Namespace, settings: Settings) -> None:
    """Import appointments (CSV, FHIR R4 Bundle or HL7 v2 SIU): a row-by-row report, totals."""
    from shared import imports
    from shared.i18n import t

    path = Path(args.path)
    if not path.is_file():
        raise CommandError(f"no such file: {path}")
    if path.stat().st_size > imports.MAX_BYTES:
        raise CommandError(t("import.error_too_large", max_mb=imports.MAX_BYTES // 2**20))
    data = path.read_bytes()
    fmt = args.format or imports.detect_format(path.name, data)
    rows = imports.read_file(data, fmt, tz=settings.tz)  # ImportUnreadable: exit 1
    if not rows:
        raise CommandError(t("import.no_rows"))
    engine = _engine(settings)
    if not _schema_is_current(engine, settings.database_url):
        raise CommandError(t("import.error_not_migrated"))
    if args.dry_run:
        with Session(engine) as session:
            outcomes = imports.plan_import(session, rows)
    else:
        with session_scope(engine) as session:
            outcomes = imports.apply_import(session, imports.plan_import(session, rows),
                                            actor_type="cli").outcomes
    for o in outcomes:
        print(f"row {o.row:>6}  {o.action.value:<9}  {o.external_id or '-'}  {o.describe()}"
              .rstrip())
    counts = imports.totals(outcomes)
    print(", ".join(f"{n} {action.value}" for action, n in counts.items())
          + f" ({len(outcomes)} rows, {fmt})")
    print(t("import.zone_used", zone=settings.timezone))
    if args.dry_run:
        print("Dry run: nothing was written.")


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"not a port: {text!r} (use 1 to 65535)")
    return int(text)


def _interface_engine(settings: Settings) -> Engine:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    engine = _engine(settings)
    if not _schema_is_current(engine, settings.database_url):
        raise CommandError("the database is not migrated: run `python -m shared.cli migrate`")
    return engine


def cmd_listen_hl7(args: argparse.Namespace, settings: Settings) -> None:
    """The MLLP listener: SIU messages in, applied through the schedule import, ACK out."""
    import asyncio

    from shared.interface import listener

    engine = _interface_engine(settings)
    print(f"Listening for HL7 (MLLP) on {args.host}:{args.port}; times without an offset "
          f"are in {settings.timezone}. Ctrl-C stops.", flush=True)
    try:
        asyncio.run(listener.run_forever(engine, host=args.host, port=args.port,
                                         tz=settings.tz))
    except OSError as exc:
        raise CommandError(f"cannot listen on {args.host}:{args.port} ({exc.strerror})") from exc
    except KeyboardInterrupt:
        print("Stopped.")


def cmd_send_hl7(args: argparse.Namespace, settings: Settings) -> None:
    """The outbox's sender: events to the practice system, in order, each until its ACK."""
    import asyncio

    from shared.interface.sender import Sender

    engine = _interface_engine(settings)
    sender = Sender(engine, host=args.host, port=args.port, tz=settings.tz,
                    facility=args.facility, receiver=(args.receiving_app,
                                                      args.receiving_facility))
    print(f"Sending the outbox to {args.host}:{args.port} (HL7 over MLLP). Ctrl-C stops.",
          flush=True)
    try:
        asyncio.run(sender.run())
    except KeyboardInterrupt:
        print("Stopped.")


def _has_any_appointment(session: Session) -> bool:
    return session.scalar(select(Appointment.id).limit(1)) is not None


def _iso_day(text: str) -> _date:
    try:
        return _date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (use YYYY-MM-DD)") from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m shared.cli",
        description="Patient check-in: database, demo data, staff accounts and QR codes.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("migrate", help="create or upgrade the database schema")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("seed-demo", help="fill an empty database with a demo clinic day")
    p.add_argument("--if-empty", action="store_true", help="do nothing when data is present")
    p.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    p.set_defaults(func=cmd_seed_demo)

    p = sub.add_parser("reset-demo", help="delete everything and seed a fresh demo day")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    p.set_defaults(func=cmd_reset_demo)

    p = sub.add_parser("create-user", help="create a staff account")
    p.add_argument("username")
    p.add_argument("--name", help="display name")
    p.add_argument("--role", choices=[r.value for r in StaffRole], default="representative")
    p.add_argument("--password", help="(or CHECKIN_NEW_PASSWORD, or asked for)")
    p.set_defaults(func=cmd_create_user)

    p = sub.add_parser(
        "issue-token", help="issue a check-in code for an appointment and write its QR slip"
    )
    p.add_argument("appointment_id", type=int)
    p.add_argument("--out", help="PNG path (default instance/slips/appointment-ID.png)")
    p.set_defaults(func=cmd_issue_token)

    p = sub.add_parser("seed-history", help="add about a year of past visits for the reports")
    span = p.add_mutually_exclusive_group()
    span.add_argument("--days", type=int, default=365, help="clinic days (default 365)")
    span.add_argument("--years", type=int,
                      help="every day of this many years ending on the last day, instead of --days")
    p.add_argument("--per-day", type=int, default=275, help="appointments a day (default 275)")
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    p.add_argument("--end-day", type=date.fromisoformat, metavar="YYYY-MM-DD",
                   help="the last day (default yesterday)")
    p.set_defaults(func=cmd_seed_history)

    for name, help_text, suffix in (
        ("reminders", "write printable QR reminders (PDF) for a day or one appointment", "pdf"),
        ("export-fhir", "write a FHIR R4 Bundle (JSON) of a day or one appointment", "json"),
    ):
        p = sub.add_parser(name, help=help_text)
        which = p.add_mutually_exclusive_group(required=True)
        which.add_argument("--day", type=_iso_day, metavar="YYYY-MM-DD",
                           help="every appointment of this clinic day")
        which.add_argument("--appointment", type=int, metavar="ID", help="one appointment")
        p.add_argument("--out", metavar=f"PATH.{suffix}",
                       help="where to write it (default: under the instance folder)")
        p.set_defaults(func=cmd_reminders if name == "reminders" else cmd_export_fhir)

    p = sub.add_parser("import-schedule",
                       help="import appointments from a CSV, FHIR R4 Bundle or HL7 SIU file")
    p.add_argument("path", help="the file to import")
    p.add_argument("--format", choices=["csv", "fhir", "hl7"],
                   help="the file's format (default: from its extension or content)")
    p.add_argument("--dry-run", action="store_true", help="show the plan, write nothing")
    p.set_defaults(func=cmd_import_schedule)

    p = sub.add_parser("listen-hl7",
                       help="receive the practice system's SIU messages over MLLP")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; 0.0.0.0 for every one)")
    p.add_argument("--port", type=_port, default=2575, help="TCP port (default 2575)")
    p.set_defaults(func=cmd_listen_hl7)

    p = sub.add_parser("send-hl7",
                       help="send check-in events to the practice system over MLLP")
    p.add_argument("--host", required=True, help="the practice system's MLLP address")
    p.add_argument("--port", type=_port, required=True, help="its TCP port")
    p.add_argument("--facility", default="", help="MSH-4, this clinic (default empty)")
    p.add_argument("--receiving-app", default="", help="MSH-5 (default empty)")
    p.add_argument("--receiving-facility", default="", help="MSH-6 (default empty)")
    p.set_defaults(func=cmd_send_hl7)

    p = sub.add_parser("demo-info", help="print how to try the demo (used by make run)")
    p.add_argument("--kiosk-url", default="http://localhost:8501")
    p.add_argument("--dashboard-url", default="http://localhost:8502")
    p.set_defaults(func=cmd_demo_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace, Settings], None] = args.func
    try:
        settings = get_settings()
        handler(args, settings)
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except DatabaseUnavailable as exc:
        print(f"Database error: {exc}", file=sys.stderr)
        return EXIT_DATABASE
    except (CommandError, DomainError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return 0


if __name__ == "__main__":
    sys.exit(main())
