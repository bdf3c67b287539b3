"""Import the clinic's schedule, for managers: upload a file, see what each row would do,
then import. Nothing is written until "Import" is pressed."""

from __future__ import annotations

import logging

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from dashboard.auth import require_role
from dashboard.context import app_context
from shared.db import session_scope
from shared.errors import DomainError
from shared.i18n import t
from shared.imports import (
    Action,
    ImportUnreadable,
    RowOutcome,
    ScheduleRow,
    apply_import,
    detect_format,
    plan_import,
    read_file,
    totals,
)
from shared.models import StaffRole
from shared.text import t_plain

log = logging.getLogger("dashboard.schedule_import")
FORMAT_CHOICES = ("auto", "csv", "fhir", "hl7")


def _read(name: str, data: bytes, choice: str) -> list[ScheduleRow] | None:
    fmt = detect_format(name, data) if choice == "auto" else choice
    try:
        return read_file(data, fmt, tz=app_context().settings.tz)
    except ImportUnreadable as exc:
        # The params quote the file (a column name, what was found): text, not Markdown.
        st.error(t_plain(exc.key, **exc.params))
    except Exception as exc:  # a file no rule foresaw: say so, never show a traceback
        log.error("schedule file not read (%s)", type(exc).__name__)  # no file content: PHI
        st.error(t("import.error_unexpected"))
    return None


def _table(outcomes: list[RowOutcome], key: str) -> None:
    frame = pd.DataFrame(
        [
            {
                t("import.col_row"): o.row,
                t("import.col_appointment"): o.external_id or "",
                t("import.col_action"): t(f"import.action_{o.action.value}"),
                t("import.col_reason"): o.describe(),
            }
            for o in outcomes
        ],
        columns=[t("import.col_row"), t("import.col_appointment"), t("import.col_action"),
                 t("import.col_reason")],
    )
    st.dataframe(frame, hide_index=True, width="stretch", key=key)


def _apply(outcomes: list[RowOutcome], user_id: int) -> None:
    try:
        with session_scope(app_context().engine) as session:
            result = apply_import(session, outcomes, actor_type="staff", actor_id=user_id)
    except DomainError as exc:
        st.error(t_plain(exc.key, **exc.params))
        return
    except SQLAlchemyError as exc:
        log.error("schedule import failed (%s)", type(exc).__name__)
        st.error(t("import.error_failed"))
        return
    counts = totals(result.outcomes)
    st.success(t("import.done", created=counts[Action.CREATE], updated=counts[Action.UPDATE],
                 unchanged=counts[Action.UNCHANGED], refused=counts[Action.REFUSE]))
    _table(result.outcomes, "import_result_table")


def page() -> None:
    user = require_role(StaffRole.MANAGER)
    ctx = app_context()
    st.title(t("import.title"))
    st.caption(t("import.lead"))
    uploaded = st.file_uploader(t("import.file"), type=["csv", "json", "hl7", "txt"],
                                key="import_file")
    choice = st.selectbox(t("import.format"), FORMAT_CHOICES, key="import_format",
                          format_func=lambda f: t(f"import.format_{f}"))
    if uploaded is None:
        return
    rows = _read(uploaded.name, uploaded.getvalue(), choice)
    if rows is None:
        return
    if not rows:
        st.info(t("import.no_rows"))
        return
    with Session(ctx.engine) as session:
        outcomes = plan_import(session, rows)
    counts = totals(outcomes)
    st.markdown(t("import.summary", **{a.value: n for a, n in counts.items()}))
    writes = counts[Action.CREATE] + counts[Action.UPDATE]
    if st.button(t("import.apply"), type="primary", key="import_apply", disabled=not writes):
        _apply(outcomes, user["user_id"])
        return
    if not writes:
        st.info(t("import.nothing_to_apply"))
    _table(outcomes, "import_plan_table")


page()
