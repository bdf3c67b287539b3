"""The command line a clinic's admin uses: one-line errors, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import cli
from shared.config import get_settings
from shared.db import get_engine, make_engine
from shared.models import CheckInToken, StaffUser
from tests.factories import make_appointment, make_patient


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CHECKIN_DATABASE_URL", url)
    monkeypatch.setenv("CHECKIN_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("CHECKIN_TIMEZONE", "America/Chicago")
    monkeypatch.delenv("CHECKIN_SECRET_KEY", raising=False)
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield url
    get_settings.cache_clear()
    get_engine.cache_clear()


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("migrate", "seed-demo", "create-user", "issue-token", "reset-demo"):
        assert command in out


def test_bad_setting_prints_one_line_and_exits_2(
    cli_env, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHECKIN_TIMEZONE", "Nowhere/Atlantis")
    get_settings.cache_clear()
    assert cli.main(["migrate"]) == cli.EXIT_CONFIG
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "CHECKIN_TIMEZONE" in err
    assert "Traceback" not in err


def test_unreachable_database_exits_3_without_the_password(
    cli_env, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHECKIN_DATABASE_URL", "postgresql://admin:hunter2secret@127.0.0.1:1/x")
    get_settings.cache_clear()
    assert cli.main(["migrate"]) == cli.EXIT_DATABASE
    err = capsys.readouterr().err
    assert "hunter2secret" not in err
    assert err.count("\n") == 1


def test_create_user_stores_an_argon2_hash(cli_env, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["migrate"]) == 0
    assert cli.main(["create-user", "dana", "--name", "Dana Desk", "--role", "manager",
                     "--password", "long-enough-pw"]) == 0
    with Session(make_engine(cli_env)) as session:
        user = session.scalars(select(StaffUser)).one()
    assert user.password_hash.startswith("$argon2")
    assert user.role.value == "manager"
    assert "long-enough-pw" not in capsys.readouterr().out


def test_create_user_with_a_short_password_is_refused(
    cli_env, capsys: pytest.CaptureFixture[str]
) -> None:
    cli.main(["migrate"])
    assert cli.main(["create-user", "dana", "--password", "short"]) == cli.EXIT_USAGE
    assert "at least 10 characters" in capsys.readouterr().err


def test_create_user_without_a_password_and_no_terminal_is_refused(
    cli_env, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.main(["migrate"])
    monkeypatch.delenv("CHECKIN_NEW_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert cli.main(["create-user", "dana"]) == cli.EXIT_USAGE
    assert "no password given" in capsys.readouterr().err


def test_issue_token_writes_a_slip_whose_code_holds_only_the_token(
    cli_env, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli.main(["migrate"])
    engine = make_engine(cli_env)
    with Session(engine) as session, session.begin():
        patient = make_patient(session, legal_family_name="Vanterpool", mrn="MRN-77123")
        appointment_id = make_appointment(session, patient=patient).id
    slip = tmp_path / "slip.png"
    assert cli.main(["issue-token", str(appointment_id), "--out", str(slip)]) == 0
    out = capsys.readouterr().out
    token = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("Code:"))
    decoded = zxingcpp.read_barcodes(Image.open(slip))
    assert len(decoded) == 1
    text = decoded[0].text
    assert text.endswith(f"?code={token}")
    assert "Vanterpool" not in text and "MRN-77123" not in text and "1984" not in text
    with Session(engine) as session:
        stored = session.scalars(select(CheckInToken)).one()
    assert stored.token_hash != token


def test_issue_token_for_a_missing_appointment_says_so(
    cli_env, capsys: pytest.CaptureFixture[str]
) -> None:
    cli.main(["migrate"])
    assert cli.main(["issue-token", "999"]) == cli.EXIT_USAGE
    assert "no appointment with id 999" in capsys.readouterr().err


def test_reset_demo_without_yes_and_no_terminal_changes_nothing(
    cli_env, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.main(["migrate"])
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert cli.main(["reset-demo"]) == cli.EXIT_USAGE
    assert "--yes" in capsys.readouterr().err
