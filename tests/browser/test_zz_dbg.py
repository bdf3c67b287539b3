import pytest
from tests.browser.test_kiosk_flow import *  # noqa
from tests.browser.conftest import *  # noqa

def test_dbg(camera_page, apps, live_db, db, tmp_path):
    demo = live_db.demo
    code = _issue_code(db, demo.appointment_id, apps.secret_key, live_db.tz)
    link = tokens.checkin_link(apps.kiosk_url, code)
    video = write_y4m(tmp_path / "qr.y4m", _qr_frame(link))
    _qr_frame(link).save("/tmp/frame.png")
    page = camera_page(video)
    logs = []
    page.on("console", lambda m: logs.append(f"{m.type}: {m.text}"))
    page.on("request", lambda r: logs.append(f"REQ {r.method} {r.url}"))
    page.on("response", lambda r: logs.append(f"RESP {r.status} {r.url}"))
    goto_app(page, apps.kiosk_url)
    click_and_wait(page, _button(page, "Scan my code"))
    take_photo = _button(page, "Take Photo")
    expect(take_photo).to_be_enabled()
    page.wait_for_timeout(1000)
    page.screenshot(path="/tmp/before.png")
    take_photo.click()
    page.wait_for_timeout(4000)
    page.screenshot(path="/tmp/after.png", full_page=True)
    print("\n".join(logs[-60:]))
    print(runs_finished(page))
