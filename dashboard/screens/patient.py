"""A patient's page: demographics, coverage, today's answers, consent signatures, the
check-in timeline, flags and audit history; desk check-in and a new QR slip."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.orm import Session

from dashboard.auth import require_role
from dashboard.context import app_context
from shared.clinic_time import clinic_today
from shared.db import session_scope
from shared.errors import DomainError
from shared.i18n import t
from shared.models import AppointmentStatus, Channel, StaffRole, utcnow
from shared.services import checkin, clinic_settings, images
from shared.services.details import display_phone
from shared.services.records import PatientRecord, patient_record, search_patients
from shared.services.slips import format_date, format_time, issue_slip
from shared.text import plain, t_plain

TIMELINE = (
    ("started_at", "patient.step_started"),
    ("identity_verified_at", "patient.step_identity"),
    ("appointment_confirmed_at", "patient.step_appointment"),
    ("demographics_confirmed_at", "patient.step_details"),
    ("insurance_confirmed_at", "patient.step_insurance"),
    ("questions_completed_at", "patient.step_questions"),
    ("consent_completed_at", "patient.step_consent"),
    ("completed_at", "patient.step_done"),
    ("abandoned_at", "patient.step_abandoned"),
)


def page() -> None:
    user = require_role(StaffRole.REPRESENTATIVE, StaffRole.MANAGER)
    ctx = app_context()
    tz = ctx.settings.tz
    st.title(t("patient.title"))
    query = st.text_input(t("dash.search"), key="patient_search")
    with Session(ctx.engine) as session:
        found = search_patients(session, query)
        labels = {p.id: f"{p.display_name} · {p.mrn} · {p.birth_date:%m/%d/%Y}" for p in found}
    if query.strip() and not found:
        st.info(t("patient.none_found"))
    # A new result list is a new choice, starting on its first patient.
    chosen = st.selectbox(t("patient.choose"), list(labels), index=0 if labels else None,
                          format_func=labels.get,
                          key="patient_chosen_" + "-".join(map(str, labels)))
    if chosen is None:
        return
    with Session(ctx.engine) as session:
        record = patient_record(session, chosen, day=clinic_today(tz), tz=tz)
        if record is None:
            st.warning(t("review.not_found"))
            return
        _show(ctx, user, record)


def _show(ctx, user: dict, record: PatientRecord) -> None:
    tz = ctx.settings.tz
    p = record.patient
    today = clinic_today(tz)
    st.header(f"{plain(p.display_name)} · {plain(p.mrn)}")
    left, right = st.columns(2)
    with left:
        st.subheader(t("patient.demographics"))
        # Everything from the record is `plain`: it was typed at the kiosk or imported.
        address = ", ".join(x for x in (p.address_line, p.city, p.state, p.postal_code) if x)
        st.markdown(
            f"- {t('field.legal_given_name')}: "
            f"**{plain(p.legal_name)}**\n"
            f"- {t('field.birth_date')}: **{p.birth_date:%m/%d/%Y}** ({p.age_on(today)})\n"
            f"- {t('field.phone')}: **{plain(display_phone(p.phone or '')) or '—'}**\n"
            f"- {t('field.email')}: **{plain(p.email) or '—'}**\n"
            f"- {t('details.address')}: **{plain(address) or '—'}**\n"
            f"- {t('patient.language')}: **{p.preferred_language.value}**"
        )
        for c in p.contacts:
            st.markdown(f"- {t('patient.contact_' + c.kind.value)}: **{plain(c.name)}** "
                        f"({plain(c.relationship_to_patient)}) "
                        f"{plain(display_phone(c.phone or ''))}")
    with right:
        st.subheader(t("patient.coverage"))
        if not p.coverages:
            st.markdown(t("flag.coverage_missing"))
        for cov in p.coverages:
            state = t("patient.active") if cov.is_active_on(today) else t("patient.ended")
            st.markdown(f"- **{plain(cov.payer)}** {plain(cov.plan)} · "
                        f"{plain(cov.member_id_masked)} · {state}")
            cards = [(t(f"insurance.{side}"), images.thumbnail(img, long_side=220))
                     for side, img in (("card_front", cov.card_front),
                                       ("card_back", cov.card_back)) if img]
            cards = [(alt, card) for alt, card in cards if card is not None]
            if cards:
                st.image([card for _, card in cards], width=220,
                         alt=[alt for alt, _ in cards])
    _today(ctx, user, record)
    st.subheader(t("patient.answers"))
    if not record.answers:
        st.caption("—")
    for text, value, at in record.answers:
        st.markdown(f"- {plain(text)} **{plain(value)}** · {format_time(at, tz)}")
    st.subheader(t("patient.signatures"))
    if not record.signatures:
        st.caption(t("flag.consent_missing"))
    for sig, version in record.signatures:
        cols = st.columns([3, 2])
        cols[0].markdown(
            f"**{plain(version.title_en)}** v{version.version} · {plain(sig.signer_name)} "
            f"({t('consent.rel_' + sig.signer_relationship.value)}) · "
            f"{format_date(sig.signed_at, tz)}" + (f" · {plain(sig.note)}" if sig.note else ""))
        if sig.signature_png:
            cols[1].image(sig.signature_png, width=220,
                          alt=f"{t('patient.signatures')}: {sig.signer_name}")
    st.subheader(t("patient.flags"))
    for f in record.flags:
        st.markdown(f"- {t('flag.' + f.kind.value)} · {t('patient.flag_' + f.status.value)} · "
                    f"{format_date(f.raised_at, tz)} {format_time(f.raised_at, tz)}"
                    + (f" · {plain(f.resolution_note)}" if f.resolution_note else ""))
    with st.expander(t("patient.audit")):
        st.dataframe([{"when": f"{format_date(e.at, tz)} {format_time(e.at, tz)}",
                       "who": f"{e.actor_type} {e.actor_id or ''}", "what": e.action,
                       "record": f"{e.record_type} {e.record_id or ''}"} for e in record.audit],
                     hide_index=True, width="stretch")


def _today(ctx, user: dict, record: PatientRecord) -> None:
    tz = ctx.settings.tz
    st.subheader(t("patient.today"))
    if not record.appointments_today:
        st.caption(t("dash.no_appointments"))
    for a in record.appointments_today:
        st.markdown(f"**{format_time(a.start, tz)}** · {plain(a.provider.display_name)} · "
                    f"{plain(a.location.label)} · {plain(a.visit_type)} · "
                    f"{t('status.' + a.status.value)}")
        for ci in record.check_ins:
            if ci.appointment_id != a.id:
                continue
            steps = [f"{t(key)} {format_time(getattr(ci, col), tz)}"
                     for col, key in TIMELINE if getattr(ci, col)]
            st.caption(f"{t('patient.channel_' + ci.channel.value)}: " + " → ".join(steps))
        cols = st.columns(3)
        if a.status in (AppointmentStatus.BOOKED, AppointmentStatus.NOSHOW,
                        AppointmentStatus.ARRIVED):
            channel = cols[0].selectbox(t("patient.channel"), [Channel.DESK, Channel.PHONE],
                                        format_func=lambda c: t("patient.channel_" + c.value),
                                        key=f"desk_channel_{a.id}")
            if cols[1].button(t("patient.desk_check_in"), key=f"desk_checkin_{a.id}",
                              type="primary"):
                _desk_check_in(ctx, user, a.id, channel)
        if cols[2].button(t("patient.new_slip"), key=f"slip_{a.id}"):
            _new_slip(ctx, user, a.id)
        slip = st.session_state.get(f"slip_png_{a.id}")
        if slip:
            st.image(slip, width=260, alt=t("slip.title"))
            st.download_button(t("patient.download_slip"), slip, file_name="check-in-slip.png",
                               mime="image/png", key=f"slip_download_{a.id}")


def _desk_check_in(ctx, user: dict, appointment_id: int, channel: Channel) -> None:
    now = utcnow()
    try:
        with session_scope(ctx.engine) as session:
            rules = clinic_settings.load(session)
            try:
                ci = checkin.begin(session, appointment_id, channel=channel, now=now,
                                   tz=ctx.settings.tz, rules=rules,
                                   staff_user_id=user["user_id"])
            except checkin.CannotCheckIn as exc:
                st.warning(t_plain(exc.key, **exc.params))
                return
            result = checkin.complete(session, ci.id, now=now, tz=ctx.settings.tz, rules=rules)
    except DomainError as exc:
        st.error(t_plain(exc.key, **exc.params))
        return
    st.success(t("patient.checked_in_desk", status=t("status." + result.status.value)))


def _new_slip(ctx, user: dict, appointment_id: int) -> None:
    with session_scope(ctx.engine) as session:
        appointment = checkin.load_appointment(session, appointment_id)
        slip = issue_slip(session, appointment, secret_key=ctx.settings.secret_key,
                          tz=ctx.settings.tz, kiosk_url=ctx.settings.kiosk_url, now=utcnow(),
                          actor_type="staff", actor_id=user["user_id"])
    st.session_state[f"slip_png_{appointment_id}"] = slip.png

page()
