"""`python -m shared.cli import-schedule`: a row-by-row report and totals; --dry-run writes
nothing; a file that cannot be read exits 1 with one line, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared import cli
from shared.config import get_settings
from shared.db import get_engine, make_engine
from shared.models import Appointment, AuditEvent

DOCS = Path(__file__).resolve().parents[2] / "docs" / "import"


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CHECKIN_DATABASE_URL", url)
    monkeypatch.setenv("CHECKIN_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("CHECKIN_TIMEZONE", "America/Chicago")
    monkeypatch.delenv("CHECKIN_SECRET_KEY", raising=False)
    get_settings.cache_clear()
    get_engine.cache_clear()
    assert cli.main(["migrate"]) == 0
    engine = make_engine(url)
    yield engine
    engine.dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


def appointments(engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count(Appointment.id)))


def test_dry_run_prints_the_plan_and_writes_nothing(
    cli_db, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert cli.main(["import-schedule", str(DOCS / "sample-schedule.csv"), "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["row", "2", "create", "SCH-1001"]
    assert "New patient." in out[0]
    assert out[4].split()[:4] == ["row", "6", "unchanged", "SCH-1005"]
    assert out[5] == "4 create, 0 update, 1 unchanged, 0 refuse (5 rows, csv)"
    assert out[6] == "Times without an offset were read in America/Chicago."
    assert out[7] == "Dry run: nothing was written."
    assert appointments(cli_db) == 0
    with Session(cli_db) as session:
        assert session.scalar(select(func.count(AuditEvent.id))) == 0


def test_import_writes_and_a_second_run_changes_nothing(
    cli_db, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["import-schedule", str(DOCS / "sample-schedule.csv")]) == 0
    assert appointments(cli_db) == 4
    capsys.readouterr()
    assert cli.main(["import-schedule", str(DOCS / "sample-schedule.csv")]) == 0
    assert capsys.readouterr().out.splitlines()[-2:] == [
        "0 create, 0 update, 5 unchanged, 0 refuse (5 rows, csv)",
        "Times without an offset were read in America/Chicago."]
    with Session(cli_db) as session:
        actors = session.scalars(select(AuditEvent.actor_type).where(
            AuditEvent.action == "schedule.imported")).all()
    assert actors == ["cli", "cli"]


def test_the_format_comes_from_the_extension_or_the_option(
    cli_db, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["import-schedule", str(DOCS / "sample-siu.hl7")]) == 0
    assert "(4 rows, hl7)" in capsys.readouterr().out
    renamed = tmp_path / "schedule.export"
    renamed.write_bytes((DOCS / "sample-bundle.json").read_bytes())
    assert cli.main(["import-schedule", str(renamed), "--format", "fhir", "--dry-run"]) == 0
    assert "(2 rows, fhir)" in capsys.readouterr().out


def test_refused_rows_are_reported_with_their_reason(
    cli_db, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "day.csv"
    path.write_text(
        "appointment_id,start,provider_name,location,mrn,given_name,family_name,birth_date\n"
        "A-1,2026-07-06 09:00,Dr. Ada Byron,North,M-1,Ada,Lovelace,\n", encoding="utf-8")
    assert cli.main(["import-schedule", str(path)]) == 0
    out = capsys.readouterr().out
    assert "row      2  refuse     A-1  Birth date missing." in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"appointment_id,start\nA-1,x\n", "Required columns missing"),
        ("appointment_id,Tomás\n".encode("latin-1"), "not UTF-8"),
        (b"", "The file is empty."),
    ],
)
def test_a_file_that_cannot_be_read_exits_1_with_one_line(
    cli_db, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    capsys.readouterr()
    assert cli.main(["import-schedule", str(path)]) == cli.EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert message in captured.err
    assert "Traceback" not in captured.err
    assert appointments(cli_db) == 0


def test_a_missing_file_exits_1(cli_db, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["import-schedule", str(tmp_path / "nope.csv")]) == cli.EXIT_USAGE
    assert "no such file" in capsys.readouterr().err


def test_the_report_names_the_zone_it_read_times_in(
    cli_db, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHECKIN_TIMEZONE", "America/Denver")
    get_settings.cache_clear()
    capsys.readouterr()
    assert cli.main(["import-schedule", str(DOCS / "sample-siu.hl7"), "--dry-run"]) == 0
    assert "Times without an offset were read in America/Denver." in (
        capsys.readouterr().out.splitlines())


def test_a_dry_run_on_a_database_never_migrated_is_one_line_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHECKIN_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("CHECKIN_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("CHECKIN_TIMEZONE", "America/Chicago")
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        code = cli.main(["import-schedule", str(DOCS / "sample-siu.hl7"), "--dry-run"])
    finally:
        get_settings.cache_clear()
        get_engine.cache_clear()
    captured = capsys.readouterr()
    assert code == cli.EXIT_USAGE
    assert captured.out == ""
    assert captured.err == ("Error: The database is not set up for this version: run "
                            "`python -m shared.cli migrate` first.\n")


@pytest.mark.parametrize(("name", "content"), [
    ("header-only.csv", b"appointment_id,start,provider_id,location,mrn,given_name,"
                        b"family_name,birth_date\n"),
    ("empty-bundle.json", b'{"resourceType": "Bundle", "type": "collection"}'),
])
def test_a_file_with_no_appointments_says_so_and_exits_non_zero(
    cli_db, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    capsys.readouterr()
    assert cli.main(["import-schedule", str(path), "--dry-run"]) == cli.EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "Error: The file holds no appointments.\n"
