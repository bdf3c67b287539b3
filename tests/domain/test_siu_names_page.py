"""The manager names a provider and a location that the practice system sent only as codes,
on the settings page; the codes are shown as plain text."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.config import get_settings
from shared.db import session_scope
from shared.imports import apply_import, plan_import, read_file
from shared.models import Location, Provider, utcnow
from tests.apps.conftest import app_db, dashboard_as  # noqa: F401 (a fixture)
from tests.domain.test_siu_real_feeds import siu


def test_a_manager_names_codes_on_the_settings_page(app_db) -> None:  # noqa: F811
    from shared import demo

    with session_scope(app_db) as session:
        demo.seed_demo(session, tz=get_settings().tz, now=utcnow())
        rows = read_file(siu(aip="13^kmurphy2", ail="102**bold**").encode(), "hl7")
        apply_import(session, plan_import(session, rows))
    at = dashboard_as("manager", "settings")
    assert "102**bold**" in [t.value for t in at.text]
    with Session(app_db) as session:
        provider = session.scalars(select(Provider).where(Provider.external_id == "13")).one()
    at.text_input(key=f"name_provider_{provider.id}").input("Dr. Kate Murphy")
    at.button(key="names_save").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success][-1] == "Names saved."
    with Session(app_db) as session:
        provider = session.get(Provider, provider.id)
        assert (provider.display_name, provider.name_set_by_staff) == ("Dr. Kate Murphy", True)
        location = session.scalars(select(Location).where(
            Location.external_id == "102**bold**")).one()
        assert not location.name_set_by_staff
