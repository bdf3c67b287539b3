"""The kiosk's new-insurance form with a card photo too big to decode: the patient reads the
photo message in their language, stays on the form, and nothing is stored."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from shared import demo
from shared.config import get_settings
from shared.db import session_scope
from shared.i18n import t
from shared.models import Channel, Document, Flag, FlagKind, utcnow
from shared.services import checkin, clinic_settings
from tests.apps.conftest import KIOSK
from tests.domain.test_uploaded_images import png_bomb, sideways_phone_photo


@pytest.fixture
def insurance_form(app_db) -> AppTest:
    """The kiosk on the new-insurance form of the demo patient's check-in."""
    with session_scope(app_db) as session:
        info = demo.seed_demo(session, tz=get_settings().tz, now=utcnow())
        check_in = checkin.begin(session, info.appointment_id, channel=Channel.KIOSK,
                                 now=utcnow(), tz=get_settings().tz,
                                 rules=clinic_settings.load(session), kiosk_id="kiosk-1")
        check_in_id = check_in.id
    at = AppTest.from_file(KIOSK, default_timeout=30)
    at.session_state["kiosk"] = {
        "step": "insurance", "insurance_mode": "new", "lang": "en",
        "appointment_id": info.appointment_id, "check_in_id": check_in_id,
        "candidates": [info.appointment_id], "attempts": 0,
    }
    return at


def _send(at: AppTest, lang: str, photo: bytes, mime: str) -> AppTest:
    at.session_state["kiosk"]["lang"] = lang
    at.run()
    assert not at.exception, at.exception
    at.text_input(key="ins_payer").input("Lakeshore Mutual")
    at.text_input(key="ins_member").input("LKM-20931177")
    at.file_uploader(key="ins_front").set_value(("card.png", photo, mime))
    next(b for b in at.button if b.label == t("insurance.save", lang)).click().run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_photo_too_big_to_decode_gets_the_photo_message_and_nothing_is_kept(
    app_db, insurance_form: AppTest, lang: str
) -> None:
    at = _send(insurance_form, lang, png_bomb(20000, 20000), "image/png")

    assert [e.value for e in at.error] == [t("insurance.error_photo", lang)]
    assert at.session_state["kiosk"]["step"] == "insurance"
    with Session(app_db) as session:
        assert session.scalars(select(Document)).all() == []
        assert session.scalars(
            select(Flag).where(Flag.kind == FlagKind.INSURANCE_CHANGE)).all() == []


def test_a_phone_photo_is_kept_as_a_small_jpeg(app_db, insurance_form: AppTest) -> None:
    at = _send(insurance_form, "en", sideways_phone_photo(), "image/jpeg")

    assert at.session_state["kiosk"]["step"] == "questions"
    with Session(app_db) as session:
        (doc,) = session.scalars(select(Document)).all()
        assert doc.content_type == "image/jpeg"
        assert doc.content.startswith(b"\xff\xd8")
        assert b"PhoneCo" not in doc.content
