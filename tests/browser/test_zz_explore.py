import pytest

from tests.browser.conftest import click_and_wait, goto_app


@pytest.mark.browser
def test_explore(new_page, apps, live_db):
    page = new_page(1366, 768)
    goto_app(page, apps.dashboard_url)
    page.get_by_role("textbox", name="Username").fill("rep")
    page.get_by_role("textbox", name="Password").fill("frontdesk-demo")
    click_and_wait(page, page.get_by_role("button", name="Sign in"))
    page.get_by_text("appointments today").wait_for()
    df = page.locator("[data-testid='stDataFrame']")
    print("DF count", df.count())
    html = df.inner_html()
    print(len(html))
    df.locator("canvas").first.wait_for()
    html = df.inner_html()
    print(html[-3500:])
    print(df.locator("table").count(), df.locator("[role=grid]").count(), df.locator("canvas").count())
    print("Parker" in html, "Parker" in page.content())
    print(df.get_by_role("gridcell").count())
    print([c.inner_text() for c in df.get_by_role("gridcell").all()[:30]])
    print(page.evaluate("window.__stRunsFinished"))
    page.wait_for_timeout(6000)
    print(page.evaluate("window.__stRunsFinished"))
    print(live_db.demo)
