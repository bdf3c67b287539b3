"""Insurance at check-in: the coverage on file is shown masked, expired or missing coverage
is flagged, and new insurance is held as card photos plus a flag until the desk accepts it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from shared.models import Appointment, Coverage, Document, Flag, FlagKind, FlagSeverity
from shared.services.insurance import (
    MAX_IMAGE_BYTES,
    CoverageState,
    InsuranceInvalid,
    card_photo,
    confirm_same,
    primary_coverage,
    report_new_coverage,
    report_self_pay,
)
from tests.factories import image_bytes, make_appointment, make_coverage, make_patient

DAY = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 14, 52, tzinfo=UTC)
KIOSK = "kiosk-1"


def visit(session: Session) -> Appointment:
    return make_appointment(session, patient=make_patient(session))


def all_flags(session: Session) -> list[Flag]:
    return list(session.scalars(select(Flag).order_by(Flag.id)))


# --- the coverage on file --------------------------------------------------------------------


def test_coverage_in_force_today_is_active_and_masked(session: Session) -> None:
    appointment = visit(session)
    coverage = make_coverage(session, appointment.patient)

    view = primary_coverage(appointment.patient, DAY)

    assert view.state == CoverageState.ACTIVE
    assert view.coverage_id == coverage.id
    assert view.payer == "Prairie Health Plan"
    assert view.member_id_masked == "••••••1029"


def test_the_masked_member_id_shows_only_the_last_four_characters(session: Session) -> None:
    appointment = visit(session)
    make_coverage(session, appointment.patient, member_id="W8812345678")

    masked = primary_coverage(appointment.patient, DAY).member_id_masked

    assert masked.endswith("5678")
    assert "W881234" not in masked
    assert len(masked) == len("W8812345678")
    assert set(masked[:-4]) == {"•"}


def test_coverage_that_ended_yesterday_is_expired(session: Session) -> None:
    appointment = visit(session)
    make_coverage(session, appointment.patient, effective_to=date(2026, 6, 14))

    view = primary_coverage(appointment.patient, DAY)

    assert view.state == CoverageState.EXPIRED
    assert view.effective_to == date(2026, 6, 14)


def test_coverage_ending_today_still_covers_today(session: Session) -> None:
    appointment = visit(session)
    make_coverage(session, appointment.patient, effective_to=DAY)

    assert primary_coverage(appointment.patient, DAY).state == CoverageState.ACTIVE


def test_coverage_starting_tomorrow_does_not_cover_today(session: Session) -> None:
    appointment = visit(session)
    make_coverage(session, appointment.patient, effective_from=date(2026, 6, 16))

    assert primary_coverage(appointment.patient, DAY).state == CoverageState.EXPIRED


def test_a_patient_without_coverage_has_it_missing(session: Session) -> None:
    appointment = visit(session)

    view = primary_coverage(appointment.patient, DAY)

    assert view.state == CoverageState.MISSING
    assert view.coverage_id is None
    assert view.member_id_masked == ""


# --- "Do you still have this insurance?" yes ------------------------------------------------


def confirm(session: Session, appointment: Appointment) -> Flag | None:
    return confirm_same(session, appointment.patient, appointment_id=appointment.id, day=DAY,
                        now=NOW, kiosk_id=KIOSK)


def test_confirming_active_coverage_raises_nothing(session: Session) -> None:
    appointment = visit(session)
    make_coverage(session, appointment.patient)

    assert confirm(session, appointment) is None
    assert all_flags(session) == []


def test_confirming_expired_coverage_still_flags_it_for_the_desk(session: Session) -> None:
    appointment = visit(session)
    coverage = make_coverage(session, appointment.patient, effective_to=date(2026, 5, 31))

    flag = confirm(session, appointment)

    assert flag is not None
    assert flag.kind == FlagKind.COVERAGE_EXPIRED
    assert flag.severity == FlagSeverity.WARNING
    assert flag.appointment_id == appointment.id
    assert flag.old_value == {"coverage_id": coverage.id, "effective_to": "2026-05-31"}


def test_confirming_when_there_is_no_coverage_flags_it_missing(session: Session) -> None:
    appointment = visit(session)

    flag = confirm(session, appointment)

    assert flag is not None
    assert flag.kind == FlagKind.COVERAGE_MISSING
    assert [f.id for f in all_flags(session)] == [flag.id]


# --- new insurance ---------------------------------------------------------------------------


def new_coverage(
    session: Session,
    appointment: Appointment,
    *,
    payer: str = "Lakeshore Mutual",
    member_id: str = "LKM-20931177",
    group_id: str = "",
    card_front: bytes | None = None,
    card_back: bytes | None = None,
) -> Flag:
    return report_new_coverage(
        session, appointment.patient, payer=payer, member_id=member_id, group_id=group_id,
        card_front=card_front, card_back=card_back, appointment_id=appointment.id, now=NOW,
        kiosk_id=KIOSK,
    )


def test_new_insurance_is_kept_as_card_photos_and_a_flag_and_the_coverage_is_untouched(
    session: Session, engine: Engine
) -> None:
    appointment = visit(session)
    coverage = make_coverage(session, appointment.patient)
    front, back = image_bytes("PNG"), image_bytes("JPEG")

    flag = new_coverage(session, appointment, payer="  Lakeshore   Mutual ",
                        member_id=" LKM 20931177 ", group_id="G-42", card_front=front,
                        card_back=back)
    session.commit()

    assert flag.kind == FlagKind.INSURANCE_CHANGE
    assert flag.old_value == {"payer": "Prairie Health Plan", "member_id": "XQP4471029",
                              "group_id": "GRP-88120"}
    with Session(engine) as fresh:
        documents = {d.kind: d for d in fresh.scalars(select(Document))}
        assert set(documents) == {"card_front", "card_back"}
        # Kept as a JPEG of the same picture (tests/domain/test_uploaded_images.py has more).
        assert documents["card_front"].content == card_photo(front)
        assert documents["card_back"].content == card_photo(back)
        assert {d.content_type for d in documents.values()} == {"image/jpeg"}
        assert all(d.patient_id == appointment.patient_id for d in documents.values())
        assert all(d.appointment_id == appointment.id for d in documents.values())
        stored_flag = fresh.get(Flag, flag.id)
        assert stored_flag is not None
        assert stored_flag.new_value == {
            "payer": "Lakeshore Mutual",
            "member_id": "LKM20931177",
            "group_id": "G-42",
            "card_front_document_id": documents["card_front"].id,
            "card_back_document_id": documents["card_back"].id,
        }
        (stored_coverage,) = fresh.scalars(select(Coverage)).all()
        assert stored_coverage.id == coverage.id
        assert stored_coverage.payer == "Prairie Health Plan"
        assert stored_coverage.member_id == "XQP4471029"
        assert stored_coverage.group_id == "GRP-88120"
        assert stored_coverage.card_front is None


def test_new_insurance_without_photos_still_reaches_the_desk(session: Session) -> None:
    appointment = visit(session)

    flag = new_coverage(session, appointment)

    assert flag.old_value is None
    assert flag.new_value is not None
    assert flag.new_value["card_front_document_id"] is None
    assert flag.new_value["card_back_document_id"] is None
    assert session.scalars(select(Document)).all() == []


@pytest.mark.parametrize(
    "photo",
    [
        b"not an image",
        b"",
        b"\x89PNG\r\n\x1a\n" + b"\0" * MAX_IMAGE_BYTES,  # over 10 MB
        image_bytes("PNG")[:40],  # cut short
        image_bytes("GIF"),  # an image, but not a kind of photo we keep
    ],
    ids=["text", "empty", "too-large", "truncated", "gif"],
)
def test_a_card_photo_that_is_not_a_readable_photo_is_refused(
    session: Session, photo: bytes
) -> None:
    appointment = visit(session)

    with pytest.raises(InsuranceInvalid) as refused:
        new_coverage(session, appointment, card_front=photo)

    assert refused.value.key == "insurance.error_photo"
    assert all_flags(session) == []
    assert session.scalars(select(Document)).all() == []


@pytest.mark.parametrize("member_id", ["!!", "", "AB", "x" * 41, "ID#123"])
def test_a_member_id_that_cannot_be_one_is_refused(session: Session, member_id: str) -> None:
    appointment = visit(session)

    with pytest.raises(InsuranceInvalid) as refused:
        new_coverage(session, appointment, member_id=member_id)

    assert refused.value.key == "insurance.error_member_id"
    assert all_flags(session) == []


@pytest.mark.parametrize("payer", ["", "    ", "P" * 121])
def test_the_insurance_company_is_required(session: Session, payer: str) -> None:
    appointment = visit(session)

    with pytest.raises(InsuranceInvalid) as refused:
        new_coverage(session, appointment, payer=payer)

    assert refused.value.key == "insurance.error_payer"


def test_a_bad_group_number_is_refused(session: Session) -> None:
    appointment = visit(session)

    with pytest.raises(InsuranceInvalid) as refused:
        new_coverage(session, appointment, group_id="??")

    assert refused.value.key == "insurance.error_group_id"


# --- no insurance ----------------------------------------------------------------------------


def test_paying_for_oneself_becomes_a_flag_and_the_coverage_stays(session: Session) -> None:
    appointment = visit(session)
    make_coverage(session, appointment.patient)

    flag = report_self_pay(session, appointment.patient, appointment_id=appointment.id, now=NOW,
                           kiosk_id=KIOSK)

    assert flag.kind == FlagKind.INSURANCE_CHANGE
    assert flag.new_value == {"self_pay": True}
    assert flag.old_value == {"payer": "Prairie Health Plan", "member_id": "XQP4471029"}
    assert len(appointment.patient.coverages) == 1


def test_paying_for_oneself_twice_keeps_one_flag(session: Session) -> None:
    appointment = visit(session)

    first = report_self_pay(session, appointment.patient, appointment_id=appointment.id,
                            now=NOW, kiosk_id=KIOSK)
    second = report_self_pay(session, appointment.patient, appointment_id=appointment.id,
                             now=NOW, kiosk_id=KIOSK)

    assert first.id == second.id
    assert len(all_flags(session)) == 1
