"""Generated SIU messages (random segments, fields, repetitions, encoding characters, event
codes and versions) applied one at a time, as a live connection would: the outcome is
applied, refused or unparsable with the project's own reasons, never an exception, and a
message that is not applied writes nothing.
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import clock
from shared.i18n import CATALOGS
from shared.imports import REASON_KEYS, Action, MessageStatus, import_hl7_message
from shared.models import Appointment
from tests.domain.hypothesis_profile import properties
from tests.domain.test_hostile_input import (
    CHICAGO,
    EDGE_VALUES,
    HOSTILE,
    rolled_back,
    snapshot,
)

GOOD = {
    "SCH": ["A-1^PMS", "A-1^PMS", "", "", "", "^ROUTINE", "FU^Follow-up", "FU", "20", "MIN",
            "^^20^202607060915"],
    "PID": ["1", "", "44501^^^PMS^MR", "", "Whitfield^Alma^June^III^Mrs", "", "19610314", "F",
            "", "", "118 Cedar Ave^^Chicago^IL^60614", "", "(312)555-0181^PRN^PH",
            "^WPN^PH^^^312^5550199"],
    "AIP": ["1", "", "13^kmurphy2", "D", "", "202607060915", "", "", "30", "MIN"],
    "AIG": ["1", "", "14^Lee^Jo", "PROV", "", "", "", "202607060915", "", "", "1", "H"],
    "AIL": ["1", "", "102^East Wing Room 2", "Family Medicine", "", "202607060915", "", "",
            "45", "MIN^minutes"],
    "PV1": ["1", "O", "^^^Lakeside Clinic", "", "", "", "15^tnguyen"],
    "IN1": ["1", "", "PHP01", "Prairie Health Plan", "", "", "", "GRP-1", *[""] * 27,
            "PHP7712093"],
    "NTE": ["1", "", "a note"],
    "ZXY": ["custom"],
}
EVENTS = ["S12", "S13", "S14", "S15", "S26", "A08", "", "S1"]
VERSIONS = ["2.2", "2.3", "2.3.1", "2.4", "2.5", "2.5.1", "", "9"]

values = st.one_of(
    st.sampled_from(EDGE_VALUES),
    st.sampled_from(["", "^", "~", "&", "\\", "\\T\\", "MR", "NET", "PRN", "555-0147", "x" * 3000,
                     "202607060915", "20260706", "202603080230", "-0500", "MIN", "H", "S15"]),
    st.lists(st.sampled_from(HOSTILE), min_size=1, max_size=4).map("".join),
    st.text(max_size=12),
)


@st.composite
def fields(draw: st.DrawFn, good: list[str]) -> list[str]:
    out = list(good)
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(out) + 2))
        out.extend([""] * (at + 1 - len(out)))
        value = draw(values)
        if draw(st.integers(0, 5)) == 0:  # a repetition, now and then a great many
            value = "~".join([value] * draw(st.sampled_from([2, 11, 3000])))
        out[at] = value
    return out


@st.composite
def siu_messages(draw: st.DrawFn) -> str:
    encoding = draw(st.one_of(st.just("^~\\&"), st.sampled_from(["^~\\", "#~\\&", "^^\\&", ""]),
                              st.text(alphabet="^~\\&|#$", max_size=5)))
    event = draw(st.sampled_from(EVENTS))
    msh = (f"MSH|{encoding}|PMS|MAIN|CHECKIN|MAIN|20260701083000||SIU^{event}|"
           f"{draw(st.text(max_size=8))}|P|{draw(st.sampled_from(VERSIONS))}")
    names = draw(st.lists(st.sampled_from(sorted(GOOD)), max_size=8))
    if draw(st.booleans()):
        names = ["SCH", "PID", *names]
    segments = [msh]
    for name in names:
        segments.append("|".join([name, *draw(fields(GOOD[name]))]))
    if draw(st.booleans()):
        segments.insert(draw(st.integers(1, len(segments))), draw(st.text(max_size=20)))
    ending = draw(st.sampled_from(["\r", "\n", "\r\n"]))
    return ending.join(segments) + ending


FULL = "\r".join("|".join([name, *GOOD[name]]) for name in ("SCH", "PID", "AIP", "AIL"))


@properties(150)
@given(text=siu_messages(), holding=st.booleans())
@example(text="MSH|^~\\&|PMS|MAIN|||20260701||SIU^S12|M1|P|2.3\r" + FULL + "\r",
         holding=False)
@example(text="MSH|^~\\&|PMS|MAIN|||20260701||SIU^S15|M2|P|2.3\r" + FULL.replace(
    "19610314", "") + "\r", holding=True)
def _property(session: Session, text: str, holding: bool) -> None:
    now = clock.now()
    with rolled_back(session):
        if holding:
            booked = "MSH|^~\\&|PMS|MAIN|||20260701||SIU^S12|M0|P|2.5\r" + FULL + "\r"
            first = import_hl7_message(session, booked, tz=CHICAGO, now=now)
            assert first.status == MessageStatus.APPLIED, first.describe()
        before = snapshot(session)
        outcome = import_hl7_message(session, text, tz=CHICAGO, now=now)
        assert outcome.status in MessageStatus
        for problem in outcome.reasons:
            assert problem.key in REASON_KEYS or problem.key in CATALOGS["en"], problem.key
            assert "import." not in problem.text("es")
        if outcome.status != MessageStatus.APPLIED:
            assert snapshot(session) == before
            return
        assert outcome.outcome is not None
        if outcome.outcome.action == Action.CREATE:
            external_id = outcome.outcome.external_id
            assert session.scalars(select(Appointment.id).where(
                Appointment.external_id == external_id)).one()


def test_any_generated_siu_message_is_applied_refused_or_unparsable_and_never_half_written(
    session: Session
) -> None:
    _property(session)
