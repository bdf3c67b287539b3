"""The code on a reminder slip: random, stored only as a keyed hash, good for one clinic day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from shared.errors import TokenInvalid
from shared.models import AuditEvent, Base, CheckInToken
from shared.services.tokens import (
    checkin_link,
    extract_token,
    find_token,
    hash_token,
    issue_token,
)
from tests.factories import make_appointment, make_patient

CHICAGO = ZoneInfo("America/Chicago")
SECRET = "test-secret-key-that-is-long-enough-0123456789"
KIOSK_URL = "https://kiosk.clinic.example"

# 07:00 in Chicago on 15 June 2026, the morning of the visit.
MORNING = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def _issue(session: Session, appointment, now: datetime = MORNING):
    return issue_token(session, appointment, secret_key=SECRET, tz=CHICAGO, now=now)


def _find(session: Session, token: str, now: datetime = MORNING) -> CheckInToken:
    return find_token(session, token, secret_key=SECRET, now=now)


def _every_stored_value(session: Session) -> list[str]:
    values: list[str] = []
    for table in Base.metadata.sorted_tables:
        for row in session.execute(table.select()):
            for value in row:
                if isinstance(value, bytes):
                    values.append(value.decode("latin-1"))
                elif value is not None:
                    values.append(str(value))
    return values


# --- issuing ----------------------------------------------------------------------------------


def test_the_plain_code_is_never_stored_only_its_keyed_hash(session: Session) -> None:
    appointment = make_appointment(session)
    issued = _issue(session, appointment)
    session.commit()

    for row in session.execute(CheckInToken.__table__.select()):
        assert all(issued.token not in str(value) for value in row)
    assert all(issued.token not in value for value in _every_stored_value(session))

    row = session.get(CheckInToken, issued.token_id)
    assert row is not None
    assert row.token_hash == hash_token(issued.token, SECRET)
    assert row.appointment_id == appointment.id


def test_a_code_hashed_with_another_secret_key_does_not_match(session: Session) -> None:
    issued = _issue(session, make_appointment(session))
    assert hash_token(issued.token, SECRET) != hash_token(issued.token, SECRET + "x")
    with pytest.raises(TokenInvalid):
        find_token(session, issued.token, secret_key="another-" + SECRET, now=MORNING)


def test_codes_are_long_and_never_repeat(session: Session) -> None:
    tokens = [_issue(session, make_appointment(session)).token for _ in range(20)]
    appointment = make_appointment(session)
    tokens += [_issue(session, appointment).token for _ in range(20)]
    assert len(set(tokens)) == len(tokens)
    assert all(len(token) >= 24 for token in tokens)


def test_a_code_expires_at_the_end_of_the_visit_day_in_the_clinic(session: Session) -> None:
    visit = datetime(2026, 6, 15, 10, 0, tzinfo=CHICAGO)
    issued = _issue(session, make_appointment(session, start=visit))
    assert issued.expires_at == datetime(2026, 6, 16, 0, 0, tzinfo=CHICAGO)
    assert issued.expires_at == datetime(2026, 6, 16, 5, 0, tzinfo=UTC)


def test_an_evening_visit_expires_with_the_clinic_day_not_the_utc_day(session: Session) -> None:
    visit = datetime(2026, 6, 15, 20, 30, tzinfo=CHICAGO)  # already 16 June in UTC
    issued = _issue(session, make_appointment(session, start=visit))
    assert issued.expires_at == datetime(2026, 6, 16, 5, 0, tzinfo=UTC)


def test_a_code_for_the_day_the_clocks_fall_back_lasts_the_whole_25_hour_day(
    session: Session,
) -> None:
    visit = datetime(2026, 11, 1, 16, 0, tzinfo=CHICAGO)
    issued = _issue(session, make_appointment(session, start=visit), now=visit - timedelta(hours=8))
    # Midnight after the change is CST (UTC-6), not CDT (UTC-5).
    assert issued.expires_at == datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
    _find(session, issued.token, now=datetime(2026, 11, 2, 5, 30, tzinfo=UTC))
    with pytest.raises(TokenInvalid):
        _find(session, issued.token, now=datetime(2026, 11, 2, 6, 0, tzinfo=UTC))


def test_a_code_for_the_day_the_clocks_spring_forward_ends_at_that_midnight(
    session: Session,
) -> None:
    visit = datetime(2026, 3, 8, 9, 0, tzinfo=CHICAGO)
    issued = _issue(session, make_appointment(session, start=visit), now=visit)
    assert issued.expires_at == datetime(2026, 3, 9, 5, 0, tzinfo=UTC)


def test_issuing_a_code_is_audited_with_ids_only(session: Session) -> None:
    patient = make_patient(session, legal_given_name="Marisol", legal_family_name="Quintero")
    appointment = make_appointment(session, patient=patient)
    issued = _issue(session, appointment)
    session.commit()

    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "token.issued")).all()
    assert len(events) == 1
    event = events[0]
    assert event.record_type == "appointment"
    assert event.record_id == appointment.id
    assert event.at == MORNING
    assert event.detail == {"token_id": issued.token_id, "revoked": 0}
    text = " ".join(str(v) for v in (event.actor_id, event.action, event.record_type, event.detail))
    for private in (issued.token, patient.mrn, "Marisol", "Quintero", "1984", "312-555"):
        assert private not in text


# --- finding ----------------------------------------------------------------------------------


def test_a_scanned_code_finds_its_appointment(session: Session) -> None:
    appointment = make_appointment(session)
    issued = _issue(session, appointment)
    session.commit()

    row = _find(session, issued.token)
    assert row.id == issued.token_id
    assert row.appointment_id == appointment.id


def test_a_code_typed_with_spaces_and_a_trailing_enter_still_works(session: Session) -> None:
    issued = _issue(session, make_appointment(session))
    assert _find(session, f"  {issued.token}\r\n").id == issued.token_id


def test_an_unknown_code_is_refused(session: Session) -> None:
    _issue(session, make_appointment(session))
    with pytest.raises(TokenInvalid) as refused:
        _find(session, "x" * 24)
    assert refused.value.key == "error.token_unknown"


def test_issuing_a_new_code_revokes_the_old_one(session: Session) -> None:
    appointment = make_appointment(session)
    first = _issue(session, appointment)
    second = _issue(session, appointment, now=MORNING + timedelta(minutes=5))
    session.commit()

    with pytest.raises(TokenInvalid) as refused:
        _find(session, first.token, now=MORNING + timedelta(minutes=6))
    assert refused.value.key == "error.token_revoked"
    assert _find(session, second.token, now=MORNING + timedelta(minutes=6)).id == second.token_id

    old = session.get(CheckInToken, first.token_id)
    assert old is not None
    assert old.revoked_at == MORNING + timedelta(minutes=5)
    last_event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "token.issued").order_by(AuditEvent.id)
    ).all()[-1]
    assert last_event.detail == {"token_id": second.token_id, "revoked": 1}


def test_a_new_code_for_one_visit_leaves_other_visits_codes_alone(session: Session) -> None:
    mine = _issue(session, make_appointment(session))
    _issue(session, make_appointment(session))
    assert _find(session, mine.token).id == mine.token_id


def test_a_code_is_refused_once_the_clinic_day_is_over(session: Session) -> None:
    issued = _issue(session, make_appointment(session))
    _find(session, issued.token, now=issued.expires_at - timedelta(seconds=1))
    with pytest.raises(TokenInvalid) as refused:
        _find(session, issued.token, now=issued.expires_at)
    assert refused.value.key == "error.token_expired"


def test_a_code_printed_the_day_before_works_all_visit_day_and_stops_at_its_end(
    session: Session, engine: Engine
) -> None:
    # Printed at the desk at 16:00 on Sunday for a Monday 10:00 visit: the code lasts until
    # the end of the visit's clinic day, not the end of the day it was printed.
    visit = datetime(2026, 6, 15, 10, 0, tzinfo=CHICAGO)
    printed = datetime(2026, 6, 14, 16, 0, tzinfo=CHICAGO)
    issued = _issue(session, make_appointment(session, start=visit), now=printed)
    session.commit()

    end_of_visit_day = datetime(2026, 6, 16, 0, 0, tzinfo=CHICAGO)
    assert issued.expires_at == end_of_visit_day
    with Session(engine) as fresh:  # as stored, not only as returned
        stored = fresh.get(CheckInToken, issued.token_id)
        assert stored is not None
        assert stored.created_at == printed
        assert stored.expires_at == end_of_visit_day
    # Past the end of the day it was printed, through the whole visit day.
    for when in (
        datetime(2026, 6, 15, 0, 0, tzinfo=CHICAGO),
        datetime(2026, 6, 15, 9, 40, tzinfo=CHICAGO),
        datetime(2026, 6, 15, 23, 59, 59, tzinfo=CHICAGO),
    ):
        assert _find(session, issued.token, now=when).id == issued.token_id
    for when in (end_of_visit_day, datetime(2026, 6, 16, 9, 40, tzinfo=CHICAGO)):
        with pytest.raises(TokenInvalid) as refused:
            _find(session, issued.token, now=when)
        assert refused.value.key == "error.token_expired"


def test_a_reminder_mailed_days_ahead_across_a_clock_change_lasts_to_the_end_of_the_visit_day(
    session: Session,
) -> None:
    # Mailed on Thursday 5 March (CST, UTC-6) for Monday 9 March, after the clocks sprang
    # forward (CDT, UTC-5): the end of the visit day is midnight CDT.
    visit = datetime(2026, 3, 9, 8, 30, tzinfo=CHICAGO)
    mailed = datetime(2026, 3, 5, 11, 0, tzinfo=CHICAGO)
    issued = _issue(session, make_appointment(session, start=visit), now=mailed)

    assert issued.expires_at == datetime(2026, 3, 10, 5, 0, tzinfo=UTC)
    assert _find(session, issued.token, now=visit - timedelta(minutes=20)).id == issued.token_id
    assert _find(session, issued.token,
                 now=datetime(2026, 3, 10, 4, 59, 59, tzinfo=UTC)).id == issued.token_id
    with pytest.raises(TokenInvalid) as refused:
        _find(session, issued.token, now=datetime(2026, 3, 10, 5, 0, tzinfo=UTC))
    assert refused.value.key == "error.token_expired"


def test_a_locked_code_is_refused(session: Session) -> None:
    issued = _issue(session, make_appointment(session))
    row = _find(session, issued.token)
    row.failed_attempts = 5
    row.locked_at = MORNING + timedelta(minutes=1)
    session.commit()

    with pytest.raises(TokenInvalid) as refused:
        _find(session, issued.token, now=MORNING + timedelta(minutes=2))
    assert refused.value.key == "error.token_locked"


# --- the link on a patient's phone ------------------------------------------------------------


def test_the_check_in_link_holds_the_code_and_nothing_about_the_patient(session: Session) -> None:
    patient = make_patient(session, legal_given_name="Marisol", legal_family_name="Quintero")
    issued = _issue(session, make_appointment(session, patient=patient))

    link = checkin_link(KIOSK_URL + "/", issued.token)

    assert link.startswith(KIOSK_URL + "/?")
    assert parse_qs(urlsplit(link).query) == {"code": [issued.token]}
    around_the_code = link.replace(issued.token, "")
    for private in (patient.mrn, "Marisol", "Quintero", "1984", "02-29", "312-555"):
        assert private not in around_the_code


@pytest.mark.parametrize(
    "scanned",
    [
        "{link}",
        "{link}\n",
        "  {link}\r\n",
        "{token}",
        "{token}\n",
        " \t{token}\r\n",
    ],
    ids=["link", "link+enter", "link+spaces", "code", "code+enter", "code+spaces"],
)
def test_the_code_is_read_back_from_whatever_the_scanner_typed(
    session: Session, scanned: str
) -> None:
    issued = _issue(session, make_appointment(session))
    link = checkin_link(KIOSK_URL, issued.token)

    token = extract_token(scanned.format(link=link, token=issued.token))

    assert token == issued.token
    assert _find(session, token).id == issued.token_id


def test_a_link_without_a_code_yields_nothing() -> None:
    assert extract_token(f"{KIOSK_URL}/?lang=es") == ""
