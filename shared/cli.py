"""Command line: `python -m shared.cli --help`.

Errors a person can fix (a bad setting, an unreachable database, a wrong argument) print one
line and exit non-zero; they never print a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import demo, migrate
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
    print(f"    scan or open the QR slip {out}")
    print(f"    (or its link: {tokens.checkin_link(args.kiosk_url, token)})")
    print(
        f"    or type the name {info.patient_family_name} and birth date "
        f"{info.birth_date:%m/%d/%Y} ({info.patient_given_name} {info.patient_family_name}, "
        f"appointment at {format_time(appointment.start, settings.tz)})"
    )
    if info.day != today:
        print(f"  The demo day is {info.day:%Y-%m-%d}, not today: `make reset-demo` renews it.")


def _has_any_appointment(session: Session) -> bool:
    return session.scalar(select(Appointment.id).limit(1)) is not None


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
