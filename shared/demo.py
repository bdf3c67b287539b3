"""A realistic, made-up clinic day, so a newcomer can try the kiosk and the dashboard at once.

Everything here is generated: names are drawn from lists of common first and last names,
phone numbers sit in the fictional 555-0100..0199 range, emails use the example.com and
example.org domains reserved for documentation, and streets and cities are invented. The
same seed and the same `now` always give the same day, because every choice goes through one
`random.Random(seed)` and never through the global generator.
"""

from __future__ import annotations

import hashlib
import io
import random
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from shared.clinic_time import at_clinic_time, end_of_day
from shared.models import (
    Appointment,
    AppointmentStatus,
    Base,
    Channel,
    CheckIn,
    ConsentForm,
    ConsentFormVersion,
    ConsentRenewal,
    ConsentSignature,
    ContactKind,
    Coverage,
    KioskQuestion,
    KioskQuestionVersion,
    Language,
    Location,
    Patient,
    PatientContact,
    Provider,
    QuestionType,
    Sex,
    SignerRelationship,
    StaffRole,
    StaffUser,
    SubscriberRelationship,
)
from shared.services import audit
from shared.services.appointments import change_status
from shared.services.checkin import give_ticket
from shared.services.precheck import HOME_KIOSK_ID
from shared.services.staff import create_user

DEMO_PASSWORDS = {"rep": "frontdesk-demo", "manager": "manager-demo"}

DEMO_MRN_PREFIX = "DEMO-"
DEMO_PATIENT_MRN = "DEMO-0001"
DEMO_APPOINTMENT_PREFIX = "DEMO-A-"

# The patient a newcomer types at the kiosk: a common-but-unremarkable generated name, and a
# fixed birth date so it can be printed once and remembered.
_DEMO_GIVEN = "Elena"
_DEMO_FAMILY = "Parker"
_DEMO_BIRTH_DATE = date(1986, 3, 14)
_DEMO_PHONE = "+1 312 555 0142"
_DEMO_LEAD_MINUTES = 15

_OPEN_HOUR = 8
_CLOSE_HOUR = 17
_DAY_MINUTES = (_CLOSE_HOUR - _OPEN_HOUR) * 60
_GRID_MINUTES = 5  # every slot starts on a five-minute mark, as schedulers book them

KIOSK_ID = "kiosk-1"

S = AppointmentStatus


@dataclass(frozen=True)
class DemoInfo:
    """What `make run` prints so a newcomer knows whom to check in, and when."""

    day: date
    appointment_id: int
    patient_given_name: str
    patient_family_name: str
    birth_date: date
    appointment_local_time: str


# --- Names, places and plans -------------------------------------------------------------

_GIVEN_NAMES: dict[tuple[str, Sex], tuple[str, ...]] = {
    ("en", Sex.FEMALE): (
        "Emma", "Olivia", "Ava", "Sophia", "Abigail", "Emily", "Elizabeth", "Madison",
        "Charlotte", "Harper", "Grace", "Chloe", "Hannah", "Natalie", "Samantha", "Katherine",
        "Margaret", "Jennifer", "Linda", "Patricia", "Barbara", "Susan", "Dorothy", "Ruth",
        "Helen", "Rebecca", "Megan", "Rachel", "Lauren", "Amy",
    ),
    ("en", Sex.MALE): (
        "Liam", "Noah", "James", "William", "Benjamin", "Lucas", "Henry", "Jack", "Owen",
        "Daniel", "Matthew", "Joseph", "David", "Michael", "Christopher", "Robert", "Thomas",
        "Richard", "Charles", "Anthony", "Steven", "Kevin", "Brian", "George", "Edward",
        "Ryan", "Jacob", "Nathan", "Andrew", "Samuel",
    ),
    ("es", Sex.FEMALE): (
        "María", "Sofía", "Valentina", "Camila", "Isabella", "Lucía", "Daniela", "Gabriela",
        "Mariana", "Ana", "Carmen", "Rosa", "Guadalupe", "Alejandra", "Adriana", "Verónica",
        "Teresa", "Juana", "Yesenia", "Paola", "Ximena", "Fernanda", "Marisol", "Leticia",
    ),
    ("es", Sex.MALE): (
        "José", "Juan", "Luis", "Carlos", "Jorge", "Miguel", "Alejandro", "Diego", "Santiago",
        "Mateo", "Francisco", "Javier", "Antonio", "Manuel", "Ricardo", "Fernando", "Eduardo",
        "Roberto", "Andrés", "Emiliano", "Sebastián", "Rafael", "Héctor", "Raúl", "Arturo",
    ),
}

# Family names stay plain ASCII so they are easy to type on the kiosk's keyboard.
_FAMILY_NAMES: dict[str, tuple[str, ...]] = {
    "en": (
        "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
        "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson",
        "White", "Harris", "Clark", "Lewis", "Walker", "Hall", "Young", "King", "Wright",
        "Scott", "Green", "Baker", "Adams", "Nelson", "Hill", "Campbell", "Mitchell",
        "Roberts", "Carter", "Phillips", "Evans", "Turner", "Collins", "Stewart", "Murphy",
        "Cooper", "Reed", "Bennett", "Hughes", "Foster", "Russell", "Griffin", "Hayes",
    ),
    "es": (
        "Garcia", "Rodriguez", "Martinez", "Hernandez", "Gonzalez", "Perez", "Sanchez",
        "Ramirez", "Torres", "Flores", "Rivera", "Gomez", "Diaz", "Reyes", "Morales", "Cruz",
        "Ortiz", "Gutierrez", "Chavez", "Ramos", "Ruiz", "Alvarez", "Mendoza", "Castillo",
        "Jimenez", "Moreno", "Romero", "Herrera", "Medina", "Aguilar", "Vargas", "Castro",
        "Guzman", "Rojas", "Navarro", "Salazar",
    ),
}

_NICKNAMES = {
    "William": "Bill", "Robert": "Bob", "Elizabeth": "Liz", "Katherine": "Kate",
    "Jennifer": "Jen", "Margaret": "Peggy", "Michael": "Mike", "Christopher": "Chris",
    "Samantha": "Sam", "Benjamin": "Ben", "Richard": "Rick", "Anthony": "Tony",
    "Francisco": "Paco", "José": "Pepe", "Guadalupe": "Lupe", "Alejandro": "Alex",
    "Roberto": "Beto", "Eduardo": "Lalo", "Fernanda": "Fer", "Alejandra": "Ale",
    "Teresa": "Tere",
}

_STREETS = (
    "Maple Grove Ave", "Juniper Ln", "Birchwood Dr", "Old Mill Rd", "Sunnyside Ct",
    "Harbor View Blvd", "Willow Bend Way", "Foxglove St", "Quarry Hill Rd", "Lantern Ln",
    "Meadowlark Dr", "Copperfield Ave", "Orchard Row", "Bramble Way", "Kestrel Ct",
)
# An invented town and its invented neighbours, with ZIP codes of the usual US shape.
_CITIES = (
    ("Exampleton", "60990"), ("Exampleton", "60991"), ("North Exampleton", "60993"),
    ("Sample Springs", "60995"),
)
_STATE = "IL"
_AREA_CODES = ("312", "773", "872", "630", "708")

# Visit types and the slot lengths a scheduler would give them.
_SLOT_MINUTES: dict[str, tuple[int, ...]] = {
    "New patient": (30, 40),
    "Follow-up": (15, 20),
    "Annual physical": (30, 40),
    "Sick visit": (15, 20),
    "Well child": (20, 30),
    "Dental cleaning": (30, 40),
}


@dataclass(frozen=True)
class _LocationSpec:
    key: str
    name: str
    department: str
    directions_en: str
    directions_es: str


_LOCATIONS = (
    _LocationSpec(
        "family",
        "Main Clinic - Family Medicine",
        "Family Medicine",
        "Take the elevator to the 2nd floor and turn left. Room numbers start at 200. "
        "Wait in the seats under the blue sign; we will call your number.",
        "Tome el elevador al 2.º piso y gire a la izquierda. Los números de las salas "
        "empiezan en 200. Espere en los asientos bajo el letrero azul; llamaremos su "
        "número.",
    ),
    _LocationSpec(
        "peds",
        "Pediatrics",
        "Pediatrics",
        "Pediatrics is on the 1st floor. From the main entrance, walk past the pharmacy. "
        "The waiting room with the green wall is on your right. Strollers can stay there.",
        "Pediatría está en el 1.er piso. Desde la entrada principal, pase la farmacia. "
        "La sala de espera con la pared verde está a su derecha. Puede dejar la carriola ahí.",
    ),
    _LocationSpec(
        "dental",
        "Dental",
        "Dentistry",
        "Take the elevator to the 3rd floor and turn right. The dental office is at the end "
        "of the hall, in room 310.",
        "Tome el elevador al 3.er piso y gire a la derecha. El consultorio dental está al "
        "final del pasillo, en la sala 310.",
    ),
)


@dataclass(frozen=True)
class _ProviderSpec:
    external_id: str
    display_name: str
    specialty: str
    location_key: str
    visit_types: tuple[str, ...]  # repeats make a visit type more common
    slots: int
    min_age: int
    max_age: int


_PROVIDERS = (
    _ProviderSpec(
        "DEMO-P-01", "Dr. Alana Whitfield", "Family Medicine", "family",
        ("New patient", "Follow-up", "Follow-up", "Annual physical", "Sick visit"), 12, 18, 200,
    ),
    _ProviderSpec(
        "DEMO-P-02", "Dr. Rafael Ortega", "Family Medicine", "family",
        ("New patient", "Follow-up", "Annual physical", "Sick visit", "Sick visit"), 12, 18, 200,
    ),
    _ProviderSpec(
        "DEMO-P-03", "Dr. Priya Natarajan", "Pediatrics", "peds",
        ("Well child", "Well child", "Sick visit", "Follow-up"), 12, 0, 17,
    ),
    _ProviderSpec(
        "DEMO-P-04", "Dr. Samuel Okafor", "General Dentistry", "dental",
        ("Dental cleaning", "Dental cleaning", "Dental cleaning", "New patient", "Follow-up"),
        11, 3, 200,
    ),
)
_DEMO_PROVIDER = 0  # the demo patient sees the first family doctor
_DEMO_VISIT_TYPE = "Follow-up"

# Age buckets (years, inclusive) for everyone but the demo patient: babies to the over-85s.
# Twelve children fill the pediatrician's twelve slots; the adults fill the rest.
_CHILD_AGES = ((0, 0), (0, 0), (1, 5), (1, 5), (1, 5), (6, 12), (6, 12), (6, 12), (6, 12),
               (13, 16), (13, 16), (13, 16))
_ADULT_AGES = (((19, 29),) * 4 + ((30, 44),) * 8 + ((45, 59),) * 7 + ((60, 74),) * 7
               + ((75, 84),) * 4 + ((85, 94),) * 2)
_SPANISH_PREFERRING = 11  # of 44: a quarter of the day's patients read Spanish first
_SPANISH_NAMED_EXTRA = 7  # Spanish family names who still prefer English
_NO_COVERAGE = 3
_EXPIRED_COVERAGE = 5
_SIGNED_RECENTLY = 21  # plus the demo patient: about half the patients
_SIGNED_LONG_AGO = 3  # a yearly consent that has come due again
_PREFERRED_NAMES = 6


@dataclass
class _Person:
    """A patient before they become a row: the choices that later steps adjust."""

    origin: str  # which name lists the person's names come from
    sex: Sex
    given: str
    family: str
    birth: date
    language: Language
    preferred_name: str | None = None
    is_child: bool = False
    twin_of: int | None = None
    visits: list[tuple[int, datetime]] = field(default_factory=list)  # (provider, start)


@dataclass
class _Slot:
    provider: int
    start: datetime
    minutes: int
    visit_type: str
    person: int = -1


class _PhoneBook:
    """Hands out fictional 555-01xx numbers, each once, in a seeded order."""

    def __init__(self, rng: random.Random) -> None:
        numbers = [
            f"+1 {area} 555 {line:04d}" for area in _AREA_CODES for line in range(100, 200)
        ]
        numbers.remove(_DEMO_PHONE)
        rng.shuffle(numbers)
        self._numbers = numbers

    def next(self) -> str:
        return self._numbers.pop()


# --- Public API --------------------------------------------------------------------------


def seed_demo(session: Session, *, tz: ZoneInfo, now: datetime, seed: int = 2026) -> DemoInfo:
    """Fill an empty database with one clinic day around `now` (aware, UTC) in zone `tz`.

    The caller owns the transaction: this adds and flushes, and never commits.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if has_demo_data(session):
        raise ValueError("demo data is already present; clear it first (reset-demo)")
    rng = random.Random(seed)
    day = now.astimezone(tz).date()

    manager_id = _create_staff(session)
    locations = _create_locations(session)
    providers = _create_providers(session)
    _create_questions(session, manager_id)
    versions = _create_consent_forms(session, day, tz, manager_id)

    phones = _PhoneBook(rng)
    people = _plan_people(rng, day)
    demo_slot = _Slot(
        provider=_DEMO_PROVIDER,
        start=_demo_start(now, tz),
        minutes=20,
        visit_type=_DEMO_VISIT_TYPE,
        person=0,
    )
    slots = [*_plan_slots(rng, day, tz, people, demo_slot), demo_slot]
    patients = _create_patients(session, rng, day, people, phones)
    appointments = _create_appointments(session, rng, now, slots, patients, providers, locations)
    _create_signatures(session, rng, day, tz, people, patients, versions)
    # Everyone who has arrived already holds a waiting-room ticket, in order of arrival,
    # as the kiosk and the desk would have given them.
    arrived = sorted((a for a in appointments if a.arrived_at is not None),
                     key=lambda a: (a.arrived_at, a.id))
    for appointment in arrived:
        give_ticket(session, appointment, now=appointment.arrived_at, tz=tz)

    demo_appointment = appointments[slots.index(demo_slot)]
    _create_prechecks(session, rng, now, [a for a in appointments
                                          if a is not demo_appointment])

    audit.record(
        session,
        actor_type="cli",
        action="demo.seeded",
        record_type="clinic",
        detail={"count": len(appointments)},
    )
    session.flush()
    return DemoInfo(
        day=day,
        appointment_id=demo_appointment.id,
        patient_given_name=_DEMO_GIVEN,
        patient_family_name=_DEMO_FAMILY,
        birth_date=_DEMO_BIRTH_DATE,
        appointment_local_time=_clock(demo_appointment.start, tz),
    )


def has_demo_data(session: Session) -> bool:
    """True when a demo seed is present: the demo desk account or a DEMO- record number."""
    staff = session.scalar(select(exists().where(StaffUser.username == "rep")))
    patients = session.scalar(
        select(exists().where(Patient.mrn.like(f"{DEMO_MRN_PREFIX}%")))
    )
    return bool(staff or patients)


def demo_info(session: Session, *, tz: ZoneInfo) -> DemoInfo | None:
    """The demo patient and their latest appointment, found again on a later run."""
    patient = session.scalar(select(Patient).where(Patient.mrn == DEMO_PATIENT_MRN))
    if patient is None:
        return None
    appointment = session.scalar(
        select(Appointment)
        .where(Appointment.patient_id == patient.id)
        .order_by(Appointment.start.desc())
        .limit(1)
    )
    if appointment is None:
        return None
    # The demo visit may spill past midnight when seeded late; the seeded day is the day of
    # the earliest demo appointment, which always lies within clinic hours or before them.
    first_start = session.scalar(
        select(func.min(Appointment.start)).where(
            Appointment.external_id.like(f"{DEMO_APPOINTMENT_PREFIX}%")
        )
    )
    return DemoInfo(
        day=(first_start or appointment.start).astimezone(tz).date(),
        appointment_id=appointment.id,
        patient_given_name=patient.legal_given_name,
        patient_family_name=patient.legal_family_name,
        birth_date=patient.birth_date,
        appointment_local_time=_clock(appointment.start, tz),
    )


def clear_all(session: Session) -> None:
    """Delete every row of every table, children before parents, for reset-demo."""
    session.flush()
    for table in reversed(Base.metadata.sorted_tables):
        session.execute(table.delete())
    # The rows are gone; objects still held by this session would only mislead.
    session.expunge_all()


# --- Staff, places, questions and forms --------------------------------------------------


def _create_staff(session: Session) -> int:
    create_user(
        session,
        username="rep",
        display_name="Riley Rep",
        password=DEMO_PASSWORDS["rep"],
        role=StaffRole.REPRESENTATIVE,
    )
    manager = create_user(
        session,
        username="manager",
        display_name="Morgan Manager",
        password=DEMO_PASSWORDS["manager"],
        role=StaffRole.MANAGER,
    )
    return manager.id


def _create_locations(session: Session) -> dict[str, Location]:
    locations = {
        spec.key: Location(
            name=spec.name,
            department=spec.department,
            directions_en=spec.directions_en,
            directions_es=spec.directions_es,
        )
        for spec in _LOCATIONS
    }
    session.add_all(locations.values())
    return locations


def _create_providers(session: Session) -> list[Provider]:
    providers = [
        Provider(external_id=spec.external_id, display_name=spec.display_name,
                 specialty=spec.specialty)
        for spec in _PROVIDERS
    ]
    session.add_all(providers)
    return providers


def _choice(value: str, en: str, es: str) -> dict[str, str]:
    return {"value": value, "en": en, "es": es}


def _create_questions(session: Session, manager_id: int) -> None:
    questions: list[tuple[str, dict[str, object]]] = [
        ("chest_pain_or_breathing", {
            "type": QuestionType.YES_NO,
            "text_en": "Do you have chest pain or trouble breathing right now?",
            "text_es": "¿Tiene dolor de pecho o dificultad para respirar en este momento?",
            "help_en": "If yes, please also tell the front desk right away.",
            "help_es": "Si la respuesta es sí, avise también en la recepción de inmediato.",
            "required": True,
            "flag_rules": [
                {"when": {"equals": True}, "flag": "urgent_answer", "severity": "urgent"}
            ],
        }),
        ("pain_level", {
            "type": QuestionType.PAIN_SCALE,
            "text_en": "How much pain are you in right now?",
            "text_es": "¿Cuánto dolor tiene en este momento?",
            "help_en": "0 means no pain. 10 means the worst pain you can imagine.",
            "help_es": "0 significa sin dolor. 10 significa el peor dolor que pueda imaginar.",
            "required": True,
            "min_value": 0,
            "max_value": 10,
            "flag_rules": [
                {"when": {"at_least": 8}, "flag": "urgent_answer", "severity": "warning"}
            ],
        }),
        ("recent_travel", {
            "type": QuestionType.YES_NO,
            "text_en": "Have you travelled outside the country in the last 30 days?",
            "text_es": "¿Ha viajado fuera del país en los últimos 30 días?",
            "required": True,
        }),
        ("visit_reason", {
            "type": QuestionType.SHORT_TEXT,
            "text_en": "What is the main reason for your visit today?",
            "text_es": "¿Cuál es el motivo principal de su visita de hoy?",
            "help_en": "A few words are enough. You can skip this question.",
            "help_es": "Unas pocas palabras son suficientes. Puede saltar esta pregunta.",
            "required": False,
        }),
        ("new_allergies", {
            "type": QuestionType.YES_NO,
            "text_en": "Do you have any new allergies?",
            "text_es": "¿Tiene alguna alergia nueva?",
            "required": True,
        }),
        ("new_allergy_details", {
            "type": QuestionType.SHORT_TEXT,
            "text_en": "Which new allergies?",
            "text_es": "¿Qué alergias nuevas tiene?",
            "help_en": "For example a medicine, a food or latex.",
            "help_es": "Por ejemplo, a un medicamento, a un alimento o al látex.",
            "required": False,
            "condition": {"question": "new_allergies", "equals": True},
        }),
        ("visit_summary_delivery", {
            "type": QuestionType.SINGLE_CHOICE,
            "text_en": "How would you like to receive your visit summary?",
            "text_es": "¿Cómo quiere recibir el resumen de su visita?",
            "required": True,
            "choices": [
                _choice("portal", "Patient portal", "Portal del paciente"),
                _choice("print", "Printed copy", "Copia impresa"),
                _choice("email", "Email", "Correo electrónico"),
            ],
        }),
        ("dental_symptoms", {
            "type": QuestionType.MULTIPLE_CHOICE,
            "text_en": "Do any of these apply?",
            "text_es": "¿Le pasa alguna de estas cosas?",
            "help_en": "Choose all that apply, or none.",
            "help_es": "Elija todas las que correspondan, o ninguna.",
            "required": False,
            "visit_types": ["Dental cleaning"],
            "choices": [
                _choice("bleeding_gums", "Bleeding gums", "Encías que sangran"),
                _choice("sensitivity", "Sensitive teeth", "Dientes sensibles"),
                _choice("pain_chewing", "Pain when chewing", "Dolor al masticar"),
            ],
        }),
    ]
    for position, (key, fields) in enumerate(questions, start=1):
        question = KioskQuestion(key=key, position=position)
        question.versions.append(
            KioskQuestionVersion(version=1, created_by_id=manager_id, **fields)
        )
        session.add(question)


_CONSENT_TEXTS: dict[str, dict[str, str]] = {
    "general_consent": {
        "title_en": "Consent to treatment",
        "title_es": "Consentimiento para recibir atención",
        "body_en": (
            "I agree to be examined and treated by the doctors, nurses and other staff of "
            "this clinic.\n\n"
            "Before any test or treatment, staff will explain what it is for. I can ask "
            "questions at any time, and I can say no to a test or treatment.\n\n"
            "Some procedures need a separate form. Staff will ask me to sign that form "
            "first.\n\n"
            "This consent lasts for one year. I can take it back at any time by telling the "
            "front desk."
        ),
        "body_es": (
            "Acepto que los médicos, las enfermeras y el resto del personal de esta clínica "
            "me examinen y me den tratamiento.\n\n"
            "Antes de cualquier prueba o tratamiento, el personal me explicará para qué "
            "sirve. Puedo hacer preguntas en cualquier momento y puedo decir que no a una "
            "prueba o tratamiento.\n\n"
            "Algunos procedimientos necesitan un formulario aparte. El personal me pedirá "
            "que firme ese formulario primero.\n\n"
            "Este consentimiento dura un año. Puedo retirarlo en cualquier momento avisando "
            "en la recepción."
        ),
    },
    "privacy_notice": {
        "title_en": "Notice of privacy practices",
        "title_es": "Aviso de prácticas de privacidad",
        "body_en": (
            "The clinic keeps a record of my health and my care. The Notice of Privacy "
            "Practices explains how the clinic uses and shares that record.\n\n"
            "The clinic uses my record to treat me, to be paid for my care and to run the "
            "clinic. It shares my record with others only as the law allows.\n\n"
            "I can ask for a copy of my record, and I can ask the clinic to correct it.\n\n"
            "By signing, I say that I was offered a copy of the notice. Signing does not "
            "mean that I agree to anything else."
        ),
        "body_es": (
            "La clínica guarda un registro de mi salud y de la atención que recibo. El Aviso "
            "de Prácticas de Privacidad explica cómo la clínica usa y comparte ese "
            "registro.\n\n"
            "La clínica usa mi registro para atenderme, para cobrar por la atención y para "
            "su funcionamiento. Solo lo comparte con otros cuando la ley lo permite.\n\n"
            "Puedo pedir una copia de mi registro y puedo pedir que la clínica lo "
            "corrija.\n\n"
            "Al firmar, confirmo que me ofrecieron una copia del aviso. Firmar no significa "
            "que acepto nada más."
        ),
    },
    "financial_policy": {
        "title_en": "Financial policy",
        "title_es": "Política financiera",
        "body_en": (
            "I will give the clinic my current insurance information at each visit.\n\n"
            "The clinic will bill my insurance for me. I am responsible for any copay, "
            "deductible or amount that my insurance does not pay.\n\n"
            "Copays are due at check-in. If I cannot pay, I can ask the front desk about a "
            "payment plan or financial help.\n\n"
            "If I cannot come to an appointment, I will call at least 24 hours before."
        ),
        "body_es": (
            "Daré a la clínica la información actual de mi seguro médico en cada visita.\n\n"
            "La clínica enviará la factura a mi seguro. Yo soy responsable del copago, del "
            "deducible y de cualquier cantidad que mi seguro no pague.\n\n"
            "El copago se paga al registrarme. Si no puedo pagar, puedo preguntar en la "
            "recepción por un plan de pagos o por ayuda financiera.\n\n"
            "Si no puedo venir a una cita, llamaré por lo menos 24 horas antes."
        ),
    },
}
_CONSENT_RENEWAL = {
    "general_consent": ConsentRenewal.YEARLY,
    "privacy_notice": ConsentRenewal.ONCE,
    "financial_policy": ConsentRenewal.YEARLY,
}
# Old enough that a yearly signature from over a year ago was given on this same version.
_FORMS_EFFECTIVE_DAYS_AGO = 600


def _create_consent_forms(
    session: Session, day: date, tz: ZoneInfo, manager_id: int
) -> list[ConsentFormVersion]:
    effective = day - timedelta(days=_FORMS_EFFECTIVE_DAYS_AGO)
    versions = []
    for key, texts in _CONSENT_TEXTS.items():
        form = ConsentForm(key=key, renewal=_CONSENT_RENEWAL[key], required=True)
        version = ConsentFormVersion(
            version=1,
            effective_from=effective,
            published_at=at_clinic_time(effective - timedelta(days=7), 9, 0, tz),
            created_by_id=manager_id,
            **texts,
        )
        form.versions.append(version)
        session.add(form)
        versions.append(version)
    return versions


# --- People ------------------------------------------------------------------------------


def _birth_date(rng: random.Random, day: date, low: int, high: int) -> date:
    """A birth date for someone aged between `low` and `high` years on `day`."""
    if high == 0:
        return day - timedelta(days=rng.randint(20, 300))  # a baby, weeks to months old
    age = rng.randint(low, high)
    # Between their birthday a year ago and a few days short of the next, so the age holds.
    return day - timedelta(days=int(age * 365.25) + rng.randint(5, 355))


def _name(rng: random.Random, origin: str, sex: Sex) -> str:
    return rng.choice(_GIVEN_NAMES[(origin, sex)])


def _plan_people(rng: random.Random, day: date) -> list[_Person]:
    """Index 0 is the demo patient; children come next, then adults."""
    people = [
        _Person(origin="en", sex=Sex.FEMALE, given=_DEMO_GIVEN, family=_DEMO_FAMILY,
                birth=_DEMO_BIRTH_DATE, language=Language.EN)
    ]
    buckets = [(bucket, True) for bucket in _CHILD_AGES] + [(b, False) for b in _ADULT_AGES]
    others = len(buckets)
    # Fix the language mix by construction, so every seed has its Spanish speakers.
    order = rng.sample(range(others), others)
    spanish = set(order[:_SPANISH_PREFERRING])
    spanish_named = spanish | set(order[_SPANISH_PREFERRING:_SPANISH_PREFERRING
                                        + _SPANISH_NAMED_EXTRA])
    for index, ((low, high), child) in enumerate(buckets):
        origin = "es" if index in spanish_named else "en"
        sex = rng.choice((Sex.FEMALE, Sex.MALE))
        given = _name(rng, origin, sex)
        family = rng.choice([f for f in _FAMILY_NAMES[origin] if f != _DEMO_FAMILY])
        person = _Person(
            origin=origin,
            sex=sex,
            given=given,
            family=family,
            birth=_birth_date(rng, day, low, high),
            language=Language.ES if index in spanish else Language.EN,
            is_child=child,
        )
        people.append(person)

    adults = [i for i, p in enumerate(people) if i > 0 and not p.is_child]
    # Twins: the kiosk finds two people with one family name and birth date, and must ask
    # one more question. Drawn from the 30-44 bucket so both are independent adults.
    thirties = [i for i in adults if 30 <= _age(people[i].birth, day) <= 44]
    first, second = rng.sample(thirties, 2)
    twin = people[second]
    twin.origin = people[first].origin
    twin.family = people[first].family
    twin.birth = people[first].birth
    twin.language = people[first].language
    twin.sex = rng.choice((Sex.FEMALE, Sex.MALE))
    twin.given = rng.choice(
        [n for n in _GIVEN_NAMES[(twin.origin, twin.sex)] if n != people[first].given]
    )
    twin.preferred_name = None
    twin.twin_of = first

    # Relatives of different ages: a family name search that birth date tells apart.
    rest = [i for i in adults if i not in (first, second)]
    elder, younger = rng.sample(rest, 2)
    people[younger].family = people[elder].family
    people[younger].origin = people[elder].origin
    people[younger].given = _name(rng, people[elder].origin, people[younger].sex)

    # Some go by another name than their legal one; the kiosk greets them by it.
    nicknamed = [i for i in rest if i != younger]
    for index in rng.sample(nicknamed, _PREFERRED_NAMES):
        person = people[index]
        person.given = rng.choice(
            [n for n in _GIVEN_NAMES[(person.origin, person.sex)] if n in _NICKNAMES]
        )
        person.preferred_name = _NICKNAMES[person.given]

    # Apart from the twins, a family name and birth date name one person only.
    seen: set[tuple[str, date]] = set()
    for index, person in enumerate(people):
        if person.twin_of is not None:
            continue
        while (person.family, person.birth) in seen or (
            index != 0 and (person.family, person.birth) == (_DEMO_FAMILY, _DEMO_BIRTH_DATE)
        ):
            person.birth -= timedelta(days=rng.randint(1, 30))
        seen.add((person.family, person.birth))
    # The twin shares the moved-or-not birth date of the first twin.
    twin.birth = people[first].birth
    return people


def _age(birth: date, day: date) -> int:
    years = day.year - birth.year
    if (day.month, day.day) < (birth.month, birth.day):
        years -= 1
    return years


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _address(rng: random.Random) -> dict[str, str | None]:
    city, postal = rng.choice(_CITIES)
    return {
        "address_line": f"{rng.randint(12, 9880)} {rng.choice(_STREETS)}",
        "address_line2": f"Apt {rng.randint(1, 4)}{rng.choice('ABCD')}"
        if rng.random() < 0.25 else None,
        "city": city,
        "state": _STATE,
        "postal_code": postal,
    }


def _adult_contact(
    rng: random.Random, person: _Person, age: int, phones: _PhoneBook
) -> PatientContact:
    if age >= 70:
        relationship = rng.choice(("daughter", "son", "spouse", "niece"))
    elif age >= 35:
        relationship = rng.choice(("spouse", "partner", "sister", "brother", "friend"))
    else:
        relationship = rng.choice(("mother", "father", "partner", "friend", "sister"))
    sex = {
        "daughter": Sex.FEMALE, "niece": Sex.FEMALE, "mother": Sex.FEMALE,
        "sister": Sex.FEMALE, "son": Sex.MALE, "father": Sex.MALE, "brother": Sex.MALE,
    }.get(relationship, rng.choice((Sex.FEMALE, Sex.MALE)))
    related = relationship not in ("friend", "partner", "niece")
    family = person.family if related else rng.choice(_FAMILY_NAMES[person.origin])
    return PatientContact(
        kind=ContactKind.EMERGENCY,
        name=f"{_name(rng, person.origin, sex)} {family}",
        relationship_to_patient=relationship,
        phone=phones.next(),
    )


def _coverage(
    rng: random.Random,
    day: date,
    age: int,
    *,
    expired: bool,
    subscriber: tuple[str, SubscriberRelationship],
) -> Coverage:
    if age >= 65:
        payer, plan = rng.choice((("Medicare", "Original Medicare"),
                                  ("Acme Health", "Medicare Advantage PPO")))
    elif rng.random() < 0.3:
        payer, plan = "Medicaid", "Medicaid Managed Care"
    else:
        payer, plan = rng.choice((
            ("Blue Shield of Example", "PPO Gold"),
            ("Blue Shield of Example", "HMO Silver"),
            ("Acme Health", "Choice Plus"),
            ("Acme Health", "Bronze Saver"),
        ))
    alphabet = "ABCDEFGHJKLMNPQRTUVWXY0123456789"
    if payer == "Medicare":
        member_id = "".join(rng.choice(alphabet) for _ in range(11))
        group_id = None
    elif payer == "Medicaid":
        member_id = "".join(rng.choice("0123456789") for _ in range(10))
        group_id = None
    else:
        prefix = "XBS" if payer.startswith("Blue") else "ACM"
        digits = 9 if prefix == "XBS" else 7
        member_id = prefix + "".join(rng.choice("0123456789") for _ in range(digits))
        group_id = f"G{rng.randint(10000, 99999)}"
    if expired:
        effective_to = day - timedelta(days=rng.randint(5, 150))
        effective_from = effective_to - timedelta(days=rng.randint(300, 900))
    else:
        effective_to = None
        effective_from = day - timedelta(days=rng.randint(45, 2000))
    name, relationship = subscriber
    return Coverage(
        rank=1,
        payer=payer,
        plan=plan,
        member_id=member_id,
        group_id=group_id,
        subscriber_name=name,
        subscriber_relationship=relationship,
        effective_from=effective_from,
        effective_to=effective_to,
    )


def _create_patients(
    session: Session,
    rng: random.Random,
    day: date,
    people: list[_Person],
    phones: _PhoneBook,
) -> list[Patient]:
    others = list(range(1, len(people)))
    insurance = rng.sample(others, _NO_COVERAGE + _EXPIRED_COVERAGE)
    uninsured = set(insurance[:_NO_COVERAGE])
    expired = set(insurance[_NO_COVERAGE:])

    patients = []
    for index, person in enumerate(people):
        age = _age(person.birth, day)
        address = _address(rng)
        patient = Patient(
            mrn=f"{DEMO_MRN_PREFIX}{index + 1:04d}",
            legal_given_name=person.given,
            legal_family_name=person.family,
            preferred_name=person.preferred_name,
            birth_date=person.birth,
            sex=person.sex,
            preferred_language=person.language,
            **address,
        )
        subscriber = (f"{person.given} {person.family}", SubscriberRelationship.SELF)
        if index == 0:
            patient.phone = _DEMO_PHONE
            patient.email = "elena.parker@example.com"
            patient.contacts.append(PatientContact(
                kind=ContactKind.EMERGENCY, name="Thomas Parker",
                relationship_to_patient="spouse", phone="+1 312 555 0143",
            ))
        elif person.is_child:
            # A child's phone is the household's; the guardian signs and carries the plan.
            relationship = rng.choice(("mother", "mother", "father", "guardian"))
            guardian_sex = Sex.MALE if relationship == "father" else Sex.FEMALE
            guardian_family = (
                rng.choice(_FAMILY_NAMES[person.origin]) if relationship == "guardian"
                else person.family
            )
            guardian = f"{_name(rng, person.origin, guardian_sex)} {guardian_family}"
            patient.phone = phones.next()
            patient.contacts.append(PatientContact(
                kind=ContactKind.GUARDIAN, name=guardian,
                relationship_to_patient=relationship, phone=patient.phone,
            ))
            other = rng.choice(("father", "grandmother", "aunt")) if relationship == "mother" \
                else rng.choice(("mother", "grandmother", "uncle"))
            other_sex = Sex.MALE if other in ("father", "uncle") else Sex.FEMALE
            patient.contacts.append(PatientContact(
                kind=ContactKind.EMERGENCY,
                name=f"{_name(rng, person.origin, other_sex)} {person.family}",
                relationship_to_patient=other,
                phone=phones.next(),
            ))
            subscriber = (
                guardian,
                SubscriberRelationship.OTHER if relationship == "guardian"
                else SubscriberRelationship.CHILD,
            )
        else:
            patient.phone = phones.next()
            if rng.random() < 0.85:
                domain = rng.choice(("example.com", "example.org"))
                patient.email = (
                    f"{_ascii(person.given)}.{_ascii(person.family)}"
                    f"{rng.randint(1, 99)}@{domain}"
                )
            contact = _adult_contact(rng, person, age, phones)
            patient.contacts.append(contact)
            if contact.relationship_to_patient == "spouse" and rng.random() < 0.4:
                subscriber = (contact.name, SubscriberRelationship.SPOUSE)
        if index not in uninsured:
            patient.coverages.append(
                _coverage(rng, day, age, expired=index in expired, subscriber=subscriber)
            )
        patients.append(patient)
    # The demo patient's plan is a plain current commercial one, so the kiosk demo flows.
    demo_coverage = patients[0].coverages[0]
    demo_coverage.payer, demo_coverage.plan = "Blue Shield of Example", "PPO Gold"
    demo_coverage.member_id, demo_coverage.group_id = "XBS482913706", "G40721"
    demo_coverage.subscriber_name = f"{_DEMO_GIVEN} {_DEMO_FAMILY}"
    demo_coverage.subscriber_relationship = SubscriberRelationship.SELF
    demo_coverage.effective_from, demo_coverage.effective_to = date(day.year - 2, 1, 1), None
    session.add_all(patients)
    session.flush()
    return patients


# --- The schedule ------------------------------------------------------------------------


def _plan_provider_day(
    rng: random.Random,
    day: date,
    tz: ZoneInfo,
    provider: int,
    blocked: tuple[datetime, datetime] | None = None,
) -> list[_Slot]:
    """Visits spread over clinic hours, never overlapping, on the five-minute grid.

    `blocked` is a visit booked separately (the demo patient's): the day is planned around
    it, so the provider is not double-booked.
    """
    spec = _PROVIDERS[provider]
    visit_types = [rng.choice(spec.visit_types) for _ in range(spec.slots)]
    lengths = [rng.choice(_SLOT_MINUTES[v]) for v in visit_types]
    opens = at_clinic_time(day, _OPEN_HOUR, 0, tz)
    block_from = block_to = _DAY_MINUTES
    if blocked is not None:
        block_from = max(0, int((blocked[0] - opens).total_seconds() // 60))
        block_to = min(_DAY_MINUTES, int((blocked[1] - opens).total_seconds() // 60))
    reserve = 0
    if block_from < block_to:
        # Stepping over the block can waste at most the block plus one visit's length.
        reserve = (block_to - block_from) + max(lengths)
    else:
        block_from = block_to = _DAY_MINUTES
    spare = (_DAY_MINUTES - sum(lengths) - reserve) // _GRID_MINUTES
    weights = [rng.random() for _ in range(spec.slots + 1)]
    total = sum(weights)
    # Flooring keeps the gaps' sum within the spare time, so the last visit ends by closing.
    gaps = [int(spare * w / total) * _GRID_MINUTES for w in weights]
    slots = []
    cursor = 0
    for visit_type, minutes, gap in zip(visit_types, lengths, gaps, strict=False):
        cursor += gap
        if cursor < block_to and cursor + minutes > block_from:
            cursor = block_to
        slots.append(_Slot(provider, opens + timedelta(minutes=cursor), minutes, visit_type))
        cursor += minutes
    return slots


def _plan_slots(
    rng: random.Random, day: date, tz: ZoneInfo, people: list[_Person], demo: _Slot
) -> list[_Slot]:
    """Every provider's day, with one of today's patients in each slot."""
    demo_visit = (demo.start, demo.start + timedelta(minutes=demo.minutes))
    by_provider = [
        _plan_provider_day(rng, day, tz, p, demo_visit if p == demo.provider else None)
        for p in range(len(_PROVIDERS))
    ]
    children = [i for i, p in enumerate(people) if p.is_child]
    adults = [i for i, p in enumerate(people) if i > 0 and not p.is_child]
    twins = [i for i, p in enumerate(people) if p.twin_of is not None]
    twins += [people[i].twin_of for i in twins if people[i].twin_of is not None]

    family_slots = by_provider[0] + by_provider[1]
    # Both twins see a family doctor today, so their look-alike records meet at the kiosk.
    others = [i for i in adults if i not in twins]
    rng.shuffle(others)
    family_people = twins + others[: len(family_slots) - len(twins)]
    rng.shuffle(family_people)
    dental_people = others[len(family_slots) - len(twins):]
    rng.shuffle(children)

    def assign(slots: list[_Slot], who: list[int]) -> None:
        for slot, person in zip(slots, who, strict=True):
            slot.person = person
            people[person].visits.append((slot.provider, slot.start))

    assign(family_slots, family_people)
    assign(by_provider[2], children)
    dental = list(by_provider[3])
    rng.shuffle(dental)
    assign(dental[: len(dental_people)], dental_people)

    # The dental slots left over go to patients already here for something else, hours
    # apart, as happens when a family books a checkup and a cleaning on one day.
    spec = _PROVIDERS[3]
    candidates = [i for i in range(1, len(people)) if people[i].twin_of is None
                  and i not in twins]
    rng.shuffle(candidates)
    for slot in dental[len(dental_people):]:
        person = next(
            (i for i in candidates
             if len(people[i].visits) == 1
             and spec.min_age <= _age(people[i].birth, day) <= spec.max_age
             and all(abs((slot.start - start).total_seconds()) >= 3 * 3600
                     for _, start in people[i].visits)),
            None,
        )
        if person is None:  # no one fits the gap: any patient old enough will do
            person = next(i for i in candidates
                          if _age(people[i].birth, day) >= spec.min_age)
        assign([slot], [person])
    return [slot for provider in by_provider for slot in provider]


def _demo_start(now: datetime, tz: ZoneInfo) -> datetime:
    """A quarter of an hour from now, rounded up to the next five minutes on the clock, and
    never on the next day: late in the evening it is the day's last five-minute mark, a
    few minutes ago, so the demo patient can still check in today."""
    local = (now + timedelta(minutes=_DEMO_LEAD_MINUTES)).astimezone(tz)
    floor = local.replace(minute=local.minute - local.minute % _GRID_MINUTES,
                          second=0, microsecond=0)
    if floor < local:
        floor += timedelta(minutes=_GRID_MINUTES)
    last_mark = end_of_day(now, tz) - timedelta(minutes=_GRID_MINUTES)
    return min(floor.astimezone(UTC), last_mark).astimezone(now.tzinfo)


def _create_appointments(
    session: Session,
    rng: random.Random,
    now: datetime,
    slots: list[_Slot],
    patients: list[Patient],
    providers: list[Provider],
    locations: dict[str, Location],
) -> list[Appointment]:
    """One appointment per slot, numbered in time order, each moved to a status that fits."""
    order = sorted(range(len(slots)), key=lambda i: (slots[i].start, slots[i].provider))
    number = {slot_index: n for n, slot_index in enumerate(order, start=1)}
    appointments = []
    for index, slot in enumerate(slots):
        spec = _PROVIDERS[slot.provider]
        appointments.append(Appointment(
            external_id=f"{DEMO_APPOINTMENT_PREFIX}{number[index]:03d}",
            patient=patients[slot.person],
            provider=providers[slot.provider],
            location=locations[spec.location_key],
            start=slot.start,
            duration_minutes=slot.minutes,
            visit_type=slot.visit_type,
            status=AppointmentStatus.BOOKED,
        ))
    session.add_all(appointments)

    # Long past: most were seen; a couple never came and one was called off.
    hour_ago = now - timedelta(minutes=60)
    past = [i for i in order if slots[i].person != 0 and slots[i].start < hour_ago]
    noshows = 2 if len(past) >= 8 else (1 if len(past) >= 3 else 0)
    cancels = 1 if len(past) >= 4 else 0
    picked = rng.sample(past, noshows + cancels)
    outcome = dict.fromkeys(past, S.FULFILLED)
    outcome.update(dict.fromkeys(picked[:noshows], S.NOSHOW))
    outcome.update(dict.fromkeys(picked[noshows:], S.CANCELLED))
    # Started within the last hour: somewhere between the waiting room and the exam room.
    for i in order:
        if slots[i].person != 0 and hour_ago <= slots[i].start <= now:
            minutes_in = (now - slots[i].start).total_seconds() / 60
            weights = (1, 2, 4) if minutes_in > 30 else (2, 3, 2)
            outcome[i] = rng.choices((S.ARRIVED, S.CHECKED_IN, S.IN_ROOM), weights)[0]

    for i in order:
        if i in outcome:
            _play_out(appointments[i], rng, now, outcome[i])
    session.flush()
    return appointments


def _play_out(
    appointment: Appointment, rng: random.Random, now: datetime, target: AppointmentStatus
) -> None:
    """Walk the appointment through the desk's steps up to `target`, none after `now`."""
    start = appointment.start
    if target == S.CANCELLED:
        change_status(appointment, S.CANCELLED, start - timedelta(hours=rng.randint(3, 40)))
        return
    if target == S.NOSHOW:
        change_status(appointment, S.NOSHOW, start + timedelta(minutes=30))
        return
    arrived = start - timedelta(minutes=rng.randint(3, 20))
    checked_in = arrived + timedelta(minutes=rng.randint(2, 7))
    in_room = max(checked_in, start) + timedelta(minutes=rng.randint(0, 15))
    completed = in_room + timedelta(
        minutes=max(10, appointment.duration_minutes + rng.randint(-5, 10))
    )
    if target == S.FULFILLED:
        # A visit that started over an hour ago is over; it ended a moment before now.
        completed = min(completed, now - timedelta(minutes=1))
    steps = [(S.ARRIVED, arrived), (S.CHECKED_IN, checked_in), (S.IN_ROOM, in_room),
             (S.FULFILLED, completed)]
    for status, at in steps:
        if at > now:
            break
        change_status(appointment, status, at)
        if status == target:
            break


# --- Signatures --------------------------------------------------------------------------


def _signature_png(rng: random.Random) -> bytes:
    """A small scribble that stands in for a signature drawn on the kiosk."""
    image = Image.new("L", (240, 80), 255)
    draw = ImageDraw.Draw(image)
    points = []
    x = 14
    while x < 226:
        points.append((x, 40 + rng.randint(-24, 24)))
        x += rng.randint(7, 18)
    draw.line(points, fill=20, width=3, joint="curve")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _create_signatures(
    session: Session,
    rng: random.Random,
    day: date,
    tz: ZoneInfo,
    people: list[_Person],
    patients: list[Patient],
    versions: list[ConsentFormVersion],
) -> None:
    """About half the patients signed every form recently; a few signed over a year ago."""
    others = rng.sample(range(1, len(people)), _SIGNED_RECENTLY + _SIGNED_LONG_AGO)
    ago: dict[int, tuple[int, int]] = {0: (20, 60)}
    ago.update(dict.fromkeys(others[:_SIGNED_RECENTLY], (7, 120)))
    ago.update(dict.fromkeys(others[_SIGNED_RECENTLY:], (380, 520)))
    for index in sorted(ago):
        person, patient = people[index], patients[index]
        if person.is_child:
            guardian = next(c for c in patient.contacts if c.kind == ContactKind.GUARDIAN)
            signer = guardian.name
            relationship = (
                SignerRelationship.GUARDIAN if guardian.relationship_to_patient == "guardian"
                else SignerRelationship.PARENT
            )
        else:
            signer = f"{person.given} {person.family}"
            relationship = SignerRelationship.SELF
        low, high = ago[index]
        signed_day = day - timedelta(days=rng.randint(low, high))
        signed_at = at_clinic_time(signed_day, rng.randint(8, 16), rng.randrange(0, 60, 5), tz)
        png = _signature_png(rng)
        for version in versions:
            body = version.body_es if person.language == Language.ES else version.body_en
            session.add(ConsentSignature(
                form_version_id=version.id,
                patient_id=patient.id,
                signer_name=signer,
                signer_relationship=relationship,
                signature_png=png,
                language=person.language,
                text_sha256=hashlib.sha256(body.encode()).hexdigest(),
                signed_at=signed_at,
                kiosk_id=KIOSK_ID,
            ))


# --- Formatting --------------------------------------------------------------------------


def _clock(instant: datetime, tz: ZoneInfo) -> str:
    """'2:40 PM': the wall-clock time in the clinic, written the way the desk says it."""
    local = instant.astimezone(tz)
    hour = local.hour % 12 or 12
    return f"{hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"


def _create_prechecks(session: Session, rng: random.Random, now: datetime,
                      appointments: list[Appointment]) -> None:
    """Some patients still to come checked in ahead on their phone the evening before (and
    a few started and stopped), so the board's Pre-check column and its "Not pre-checked"
    list have something to show. The demo patient is left out: their walk-through is the
    kiosk's."""
    evening = now - timedelta(hours=16)
    to_come = [a for a in appointments
               if a.status == AppointmentStatus.BOOKED and a.start > now]
    # Two in five done, one in five started and left, the rest not opened.
    for n, appointment in enumerate(to_come):
        if n % 5 > 2:
            continue
        done = n % 5 < 2
        started = evening + timedelta(minutes=rng.randint(0, 180))
        session.add(CheckIn(
            appointment=appointment, channel=Channel.HOME, kiosk_id=HOME_KIOSK_ID,
            started_at=started, identity_verified_at=started,
            last_step="done" if done else "insurance",
            completed_at=started + timedelta(minutes=rng.randint(3, 9)) if done else None))
