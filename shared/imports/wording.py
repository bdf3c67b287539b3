"""The import's own messages, in every language of the catalogs.

They are looked up before the shared catalogs (shared/i18n), which hold the rest of the
import's words; `text` falls back to those, so a key lives in one place or the other.
"""

from __future__ import annotations

from shared.i18n import DEFAULT_LANGUAGE
from shared.i18n import t as catalog_text

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "import.reason_message_too_large":
            "The message is larger than {max_kb} KB or has more than {max_segments} segments.",
        "import.warning_repeats_trimmed":
            "{field} repeats {count} times: only the first {max} were read.",
        "import.warning_patient_not_updated":
            "The message has problems, so only the appointment was changed, not the patient.",
        "import.note_flag_rejected":
            "Name or birth date differs: the desk already rejected this change.",
        "import.zone_used": "Times without an offset were read in {zone}.",
        "import.error_not_migrated":
            "The database is not set up for this version: run "
            "`python -m shared.cli migrate` first.",
        "names.title": "Names of providers and locations",
        "names.lead": "The practice system may send only a code (a user name or a room id). "
                      "Give it the name patients read; the next import keeps it.",
        "names.providers": "Providers",
        "names.locations": "Locations",
        "names.code": "Code",
        "names.name": "Name",
        "names.save": "Save names",
        "names.saved": "Names saved.",
        "names.error_empty": "A name cannot be empty.",
        "names.error_taken": "Another location already has the name {name}.",
        "names.error_too_long": "A name has at most {max} characters.",
    },
    "es": {
        "import.reason_message_too_large":
            "El mensaje supera {max_kb} KB o tiene más de {max_segments} segmentos.",
        "import.warning_repeats_trimmed":
            "{field} se repite {count} veces: solo se leyeron las primeras {max}.",
        "import.warning_patient_not_updated":
            "El mensaje tiene problemas: solo se cambió la cita, no el paciente.",
        "import.note_flag_rejected":
            "El nombre o la fecha de nacimiento difieren: el mostrador ya rechazó este cambio.",
        "import.zone_used": "Las horas sin desfase se leyeron en {zone}.",
        "import.error_not_migrated":
            "La base de datos no está preparada para esta versión: ejecute primero "
            "`python -m shared.cli migrate`.",
        "names.title": "Nombres de proveedores y ubicaciones",
        "names.lead": "El sistema de la consulta puede enviar solo un código (un usuario o el "
                      "número de una sala). Dele el nombre que leen los pacientes; la próxima "
                      "importación lo conserva.",
        "names.providers": "Proveedores",
        "names.locations": "Ubicaciones",
        "names.code": "Código",
        "names.name": "Nombre",
        "names.save": "Guardar nombres",
        "names.saved": "Nombres guardados.",
        "names.error_empty": "Un nombre no puede quedar vacío.",
        "names.error_taken": "Otra ubicación ya se llama {name}.",
        "names.error_too_long": "Un nombre tiene como máximo {max} caracteres.",
    },
}


def text(key: str, lang: str = DEFAULT_LANGUAGE, /, **params: object) -> str:
    """The message `key` in `lang`: the import's own, else the shared catalog's."""
    own = MESSAGES.get(lang, MESSAGES[DEFAULT_LANGUAGE]).get(key)
    if own is None:
        return catalog_text(key, lang, **params)
    try:
        return own.format(**params)
    except (KeyError, IndexError, ValueError):
        return own


def has(key: str, lang: str) -> bool:
    return key in MESSAGES.get(lang, {})
