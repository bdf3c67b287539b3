"""The schedule's whole journey: a FHIR Bundle comes in, a patient checks in through the
kiosk's own services, and the results go back out as a FHIR Bundle that validates."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select

from shared.clinic_time import at_clinic_time
from shared.imports import Action, apply_import, plan_import, read_file, totals
from shared.models import Appointment, AppointmentStatus, Channel, SignerRelationship
from shared.services import checkin, consent, fhir_export, insurance, questions
from shared.services.clinic_settings import ClinicSettings
from tests.factories import add_consent_version, image_bytes, make_consent_form, make_question

TZ = ZoneInfo("America/Chicago")
SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "import" / "sample-bundle.json"


def _bundle_for_today(now) -> bytes:
    """The shipped sample Bundle, its appointments moved to start in 10 and 30 minutes."""
    data = json.loads(SAMPLE.read_text())
    offsets = iter((10, 30, 50, 70))
    for entry in data["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Appointment":
            start = (now + timedelta(minutes=next(offsets))).astimezone(TZ)
            resource["start"] = start.isoformat(timespec="seconds")
            resource.pop("end", None)
    return json.dumps(data).encode()


# A Tuesday morning: the bundle's visits fall in 10 to 70 minutes, on the same clinic day.
NOW = at_clinic_time(date(2026, 6, 16), 9, 30, TZ)


def test_imported_bundle_checked_in_at_the_kiosk_exports_as_valid_fhir(session) -> None:
    now = NOW
    rows = read_file(_bundle_for_today(now), "fhir", tz=TZ)
    plan = plan_import(session, rows)
    assert totals(plan)[Action.CREATE] == len(rows) >= 2
    apply_import(session, plan)
    session.commit()
    assert totals(plan_import(session, rows))[Action.UNCHANGED] == len(rows)  # idempotent

    make_question(session, "fever", text_en="Do you have a fever?",
                  text_es="¿Tiene fiebre?", required=True)
    add_consent_version(session, make_consent_form(session))
    session.commit()

    appointment = session.scalars(select(Appointment).order_by(Appointment.start)).first()
    rules = ClinicSettings()
    check_in = checkin.begin(session, appointment.id, channel=Channel.KIOSK, now=now, tz=TZ,
                             rules=rules, kiosk_id="kiosk-1")
    insurance.confirm_same(session, appointment.patient, appointment_id=appointment.id,
                           day=now.astimezone(TZ).date(), now=now, kiosk_id="kiosk-1")
    (asked,) = questions.questions_for_visit(session, appointment)
    questions.save_answer(session, appointment, asked, False, language="es", now=now,
                          kiosk_id="kiosk-1")
    (form,) = consent.forms_to_sign(session, appointment, language="es", now=now,
                                    day=now.astimezone(TZ).date())
    consent.sign(session, appointment, form.version_id, signer_name="Alma Whitfield",
                 relationship=SignerRelationship.SELF, signature_png=image_bytes(),
                 stroke_count=3, language="es", now=now, day=now.astimezone(TZ).date(),
                 kiosk_id="kiosk-1")
    done = checkin.complete(session, check_in.id, now=now, tz=TZ, rules=rules)
    session.commit()
    assert done.status == AppointmentStatus.CHECKED_IN

    exported = fhir_export.export_day(session, now.astimezone(TZ).date(), tz=TZ, now=now)
    bundle = Bundle.model_validate_json(exported)
    counts = fhir_export.resource_counts(exported)
    assert counts["Appointment"] == len(rows)
    assert counts["QuestionnaireResponse"] == 1
    assert counts["Questionnaire"] == 1
    assert counts["Consent"] == 1
    assert counts["Encounter"] >= 1
    statuses = {e.resource.status for e in bundle.entry
                if e.resource.get_resource_type() == "Appointment"}
    assert "checked-in" in statuses
    assert "¿Tiene fiebre?" in exported  # the wording the patient saw, in Spanish
