"""Steps 3 to 5: the appointment in plain words, contact details, insurance."""

from __future__ import annotations

import html
from dataclasses import dataclass

import streamlit as st

from kiosk.state import (
    go,
    is_remote,
    kiosk_action,
    kiosk_id,
    kiosk_state,
    lang,
    tr,
    tr_plain,
)
from kiosk.steps import intake
from kiosk.widgets import help_button
from shared.clinic_time import clinic_today
from shared.db import session_scope
from shared.i18n import format_time
from shared.models import Language, utcnow
from shared.runtime import AppContext
from shared.services import checkin, consent, details, insurance
from shared.services.details import ContactDetails
from shared.services.insurance import CoverageState, InsuranceInvalid
from shared.text import plain


@kiosk_action
def _step_done(ctx: AppContext, step: str, next_step: str) -> None:
    with session_scope(ctx.engine) as session:
        checkin.mark_step(session, kiosk_state()["check_in_id"], step, utcnow())
    go(next_step)


@dataclass(frozen=True)
class VisitView:
    """What the appointment, details and insurance screens show, read in one transaction
    when the first of them opens and kept for the patient, instead of a query per screen."""

    given_name: str
    time: str
    provider: str
    location: str
    directions_en: str
    directions_es: str
    details: ContactDetails
    coverage: insurance.CoverageView
    # A child's visit: the kiosk speaks to the parent ("Checking in Alejandro").
    minor: bool = False
    # The names a manager gave for Spanish-speaking patients ("" when none).
    provider_es: str = ""
    location_es: str = ""

    def provider_for(self, language: str) -> str:
        return self.provider_es if language == Language.ES and self.provider_es else (
            self.provider)

    def location_for(self, language: str) -> str:
        return self.location_es if language == Language.ES and self.location_es else (
            self.location)


def _visit(ctx: AppContext) -> VisitView:
    state = kiosk_state()
    view = state.get("visit")
    if view is None:
        tz = ctx.settings.tz
        with session_scope(ctx.engine) as session:
            appointment = checkin.load_appointment(session, state["appointment_id"])
            patient = appointment.patient
            view = VisitView(
                given_name=patient.preferred_name or patient.legal_given_name,
                time=format_time(appointment.start, lang(), tz),
                provider=appointment.provider.display_name,
                location=appointment.location.label,
                directions_en=appointment.location.directions_en or "",
                directions_es=appointment.location.directions_es or "",
                details=details.current_details(patient),
                coverage=insurance.primary_coverage(patient, clinic_today(tz)),
                minor=consent.is_minor(patient, clinic_today(tz)),
                provider_es=appointment.provider.display_name_es or "",
                location_es=appointment.location.name_es or "",
            )
            intake.keep_question_set(session, appointment)
        state["visit"] = view
    return view


def render_appointment(ctx: AppContext) -> None:
    state = kiosk_state()
    view = _visit(ctx)
    directions = view.directions_es if lang() == Language.ES else view.directions_en
    provider = view.provider_for(lang())
    # Names, the provider and the room come from the record or an import: plain text.
    # On the phone, days ahead, the visit is not "today": its date is said.
    ahead = is_remote()
    when = {"date": state.get("precheck_date", "")} if ahead else {}
    if view.minor:
        # A parent checks a child in: the kiosk speaks to the parent about the child.
        st.title(tr_plain("kiosk.checking_in", name=view.given_name))
        st.markdown(tr_plain("precheck.child_appointment_on" if ahead
                             else "kiosk.child_appointment_at", name=view.given_name,
                             time=view.time, provider=provider, **when))
    else:
        st.title(tr_plain("kiosk.hello", name=view.given_name))
        st.markdown(tr_plain("precheck.appointment_on" if ahead else "kiosk.appointment_at",
                             time=view.time, provider=provider, **when))
    st.markdown(f"**{plain(view.location_for(lang()))}**")
    if directions:
        st.markdown(directions)
    if ahead:
        # On the patient's phone: that it can wait half-done, and nothing is final yet.
        st.info(tr("precheck.lead", date=state["precheck_date"], time=state["precheck_time"]))
    timing = state.get("timing")
    if timing == checkin.Timing.EARLY:
        st.info(tr("kiosk.early_note"))
    elif timing == checkin.Timing.LATE:
        st.warning(tr("kiosk.late_note"))
    st.button(tr("kiosk.continue"), key="appointment_ok", type="primary", width="stretch",
              on_click=_step_done, args=(ctx, "appointment", "details"))
    not_ours = (tr("kiosk.not_child_appointment", name=view.given_name) if view.minor
                else tr("kiosk.not_my_appointment"))
    st.button(not_ours, key="appointment_not_me", on_click=go, args=("help",), width="stretch")
    help_button()


DETAIL_LABELS = (
    ("address_line", "details.address_line"),
    ("address_line2", "details.address_line2"),
    ("city", "details.city"),
    ("state", "details.state"),
    ("postal_code", "details.postal_code"),
    ("phone", "details.phone"),
    ("email", "details.email"),
    ("emergency_name", "details.emergency_name"),
    ("emergency_relationship", "details.emergency_relationship"),
    ("emergency_phone", "details.emergency_phone"),
)
# The form in four rows that fit a landscape tablet: the address, the city line, how to reach
# the patient, the emergency contact. (field, relative width)
DETAIL_ROWS = (
    (("address_line", 3), ("address_line2", 2)),
    (("city", 3), ("state", 1), ("postal_code", 2)),
    (("phone", 2), ("email", 3)),
    (("emergency_name", 3), ("emergency_relationship", 2), ("emergency_phone", 3)),
)


def render_details(ctx: AppContext) -> None:
    state = kiosk_state()
    current = _visit(ctx).details
    st.title(tr("details.title"))
    if not state.get("editing_details"):
        address = ", ".join(p for p in (current.address_line, current.address_line2,
                                        current.city, current.state, current.postal_code) if p)
        rows = [
            (tr("details.address"), address or "—"),
            (tr("details.phone"), details.display_phone(current.phone) or "—"),
            (tr("details.email"), current.email or "—"),
            (tr("details.emergency"), " · ".join(
                p for p in (current.emergency_name, current.emergency_relationship,
                            details.display_phone(current.emergency_phone)) if p) or "—"),
        ]
        # Two columns, so the answer buttons stay in view on a landscape tablet.
        for column, pair in zip(st.columns(2, gap="medium"), (rows[:2], rows[2:]),
                                strict=True):
            for label, value in pair:
                column.markdown(f"**{label}**  \n{plain(value)}")
        st.button(tr("details.yes_right"), key="details_ok", type="primary", width="stretch",
                  on_click=_step_done, args=(ctx, "demographics", "insurance"))
        st.button(tr("details.something_changed"), key="details_edit", width="stretch",
                  on_click=lambda: state.update(editing_details=True))
        help_button()
        return
    labels = dict(DETAIL_LABELS)
    with st.form("details_form", border=False):
        typed = {}
        with st.container(key="details_fields"):
            # Filled in with what is on file: the patient changes only what changed.
            for row in DETAIL_ROWS:
                columns = st.columns([width for _, width in row], gap="small",
                                     vertical_alignment="bottom")
                for column, (name, _) in zip(columns, row, strict=True):
                    typed[name] = column.text_input(
                        tr(labels[name]), value=getattr(current, name),
                        key=f"details_{name}", max_chars=200)
        submitted = st.form_submit_button(tr("details.save"), type="primary", width="stretch")
    if submitted:
        cleaned, errors = details.validate(ContactDetails(**typed))
        if errors:
            for name, label in DETAIL_LABELS:
                if name in errors:
                    st.error(f"{tr(label)}: {tr(errors[name])}")
        else:
            with session_scope(ctx.engine) as session:
                appointment = checkin.load_appointment(session, state["appointment_id"])
                details.report_changes(session, appointment.patient, cleaned,
                                       appointment_id=appointment.id, now=utcnow(),
                                       kiosk_id=kiosk_id())
                checkin.mark_step(session, state["check_in_id"], "demographics", utcnow())
            state["editing_details"] = False
            go("insurance")
            st.rerun()
    st.button(tr("kiosk.back"), key="details_cancel", width="stretch",
              on_click=lambda: state.update(editing_details=False))
    help_button()


def render_insurance(ctx: AppContext) -> None:
    state = kiosk_state()
    view = _visit(ctx).coverage
    st.title(tr("insurance.title"))
    if state.get("insurance_mode") == "new":
        _new_insurance_form(ctx, state)
        help_button()
        return
    if view.state == CoverageState.ACTIVE:
        st.markdown(tr_plain("insurance.on_file", payer=view.payer,
                             member=view.member_id_masked))
        st.markdown(f"### {tr('insurance.still_have')}")
        st.button(tr("insurance.yes_same"), key="insurance_same", type="primary",
                  width="stretch", on_click=_confirm_same, args=(ctx,))
    else:
        key = ("insurance.expired" if view.state == CoverageState.EXPIRED
               else "insurance.missing")
        st.warning(tr_plain(key, payer=view.payer))
        st.button(tr("insurance.no_card_now"), key="insurance_no_card", width="stretch",
                  on_click=_confirm_same, args=(ctx,))
    st.button(tr("insurance.changed"), key="insurance_changed", width="stretch",
              on_click=lambda: state.update(insurance_mode="new"))
    st.button(tr("insurance.none"), key="insurance_none", width="stretch",
              on_click=_self_pay, args=(ctx,))
    help_button()


@kiosk_action
def _confirm_same(ctx: AppContext) -> None:
    state = kiosk_state()
    now = utcnow()
    with session_scope(ctx.engine) as session:
        patient = checkin.load_appointment(session, state["appointment_id"]).patient
        insurance.confirm_same(session, patient, appointment_id=state["appointment_id"],
                               day=clinic_today(ctx.settings.tz), now=now, kiosk_id=kiosk_id())
        checkin.mark_step(session, state["check_in_id"], "insurance", now)
    go("questions")


@kiosk_action
def _self_pay(ctx: AppContext) -> None:
    state = kiosk_state()
    now = utcnow()
    with session_scope(ctx.engine) as session:
        patient = checkin.load_appointment(session, state["appointment_id"]).patient
        insurance.report_self_pay(session, patient, appointment_id=state["appointment_id"],
                                  now=now, kiosk_id=kiosk_id())
        checkin.mark_step(session, state["check_in_id"], "insurance", now)
    go("questions")


PHOTO_TYPES = ["png", "jpg", "jpeg", "webp"]


def card_photo(key: str, label_key: str, take_key: str) -> object:
    """One side of the card: the kiosk's own buttons, in the patient's language, that open the
    camera ("Take a photo of the front of your card") or the photo picker. Streamlit's
    uploader stays out of sight (its words are English) and carries the photo to the server,
    opened by the buttons through the kiosk's script (kiosk/style.py)."""
    photo = st.file_uploader(tr(label_key), type=PHOTO_TYPES, key=key)
    done = "✓ " + tr("insurance.photo_added")
    st.html(
        f'<div class="kiosk-photo">'
        f'<button type="button" class="kiosk-photo-take" data-kiosk-photo="{key}" '
        f'data-capture="1">{html.escape(tr(take_key))}</button>'
        f'<button type="button" class="kiosk-photo-choose" data-kiosk-photo="{key}">'
        f'{html.escape(tr("insurance.photo_choose"))}</button>'
        f'<p class="kiosk-photo-status" data-kiosk-photo-status="{key}" role="status" '
        f'data-done="{html.escape(done)}">{html.escape(done) if photo else ""}</p></div>')
    return photo


def _new_insurance_form(ctx: AppContext, state: dict) -> None:
    st.markdown(tr("insurance.new_lead"))
    with st.form("insurance_form", border=False):
        with st.container(key="insurance_fields"):
            # Aligned at the field: a label on two lines (Spanish) does not lower its field.
            c1, c2, c3 = st.columns(3, gap="small", vertical_alignment="bottom")
            payer = c1.text_input(tr("insurance.payer"), key="ins_payer", max_chars=120)
            member_id = c2.text_input(tr("insurance.member_id"), key="ins_member",
                                      max_chars=40)
            group_id = c3.text_input(tr("insurance.group_id"), key="ins_group", max_chars=40)
            f1, f2 = st.columns(2, gap="medium")
            with f1:
                front = card_photo("ins_front", "insurance.card_front", "insurance.photo_front")
            with f2:
                back = card_photo("ins_back", "insurance.card_back", "insurance.photo_back")
        submitted = st.form_submit_button(tr("insurance.save"), type="primary", width="stretch")
    if submitted:
        now = utcnow()
        try:
            with session_scope(ctx.engine) as session:
                patient = checkin.load_appointment(session, state["appointment_id"]).patient
                insurance.report_new_coverage(
                    session, patient, payer=payer, member_id=member_id, group_id=group_id,
                    card_front=front.getvalue() if front else None,
                    card_back=back.getvalue() if back else None,
                    appointment_id=state["appointment_id"], now=now, kiosk_id=kiosk_id(),
                )
                checkin.mark_step(session, state["check_in_id"], "insurance", now)
        except InsuranceInvalid as exc:
            # Said under the form, with Back still there below it.
            st.error(tr(exc.key))
        else:
            state["insurance_mode"] = None
            go("questions")
            st.rerun()
    st.button(tr("kiosk.back"), key="insurance_cancel", width="stretch",
              on_click=lambda: state.update(insurance_mode=None))
