"""Done-when of issue 10, in a real browser on the demo data (`make run` loads the same): an agency user
of Hangzhou requests a Shanghai item, the Shanghai and Hangzhou bureau managers approve from their
queues, the Hangzhou user confirms the handover — each signing in through the sign-in page with the
demo password. Screenshots in tests/artifacts/demo-*.png. Skipped, with the reason, without chromium."""
import pytest

from exchange import models as ex
from tests.test_browser import (  # noqa: F401 (fixtures)
    CHROMEDRIVER,
    CHROMIUM,
    By,
    Select,
    Session,
    browser,
    delete_triggers,
    server,
)

pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="needs Debian's chromium and chromium-driver")


def sign_in(s, username):
    from regions.demo import DEMO_PASSWORD

    s.driver.delete_all_cookies()
    s.open("/accounts/login/?next=/")
    s.fill("username", username)
    s.fill("password", DEMO_PASSWORD)
    s.find("form[action='/accounts/login/'] button[type=submit]").click()
    s.wait_for("#who")
    assert s.find("#who").text == username
    return s


def test_two_demo_cities_complete_a_transfer_in_the_browser(browser, server):  # noqa: F811
    from django.core.management import call_command

    call_command("load_demo")
    s = Session(browser, server)
    printer = ex.Listing.objects.get(title__contains="LaserJet")

    sign_in(s, "hz_edu").open("/?text=LaserJet")
    s.wait_for("#map[data-loaded='1']")
    s.shot("demo-1-catalogue")
    s.find("#listings a").click()
    s.wait_for("#request-form")
    s.fill("quantity", "1")
    s.fill("justification", "教研室打印需要")
    s.click("#check-button")
    assert s.wait_for("#check-result").get_attribute("data-breaches") == "0"
    s.shot("demo-2-check")
    s.click("#submit-button")
    s.wait_for("#transfer-status[data-status='approving']")
    transfer = ex.Transfer.objects.get(listing=printer)

    for username in ("sh_bureau", "hz_bureau"):
        sign_in(s, username).open("/approvals/")
        row = s.wait_for(f"#approvals .step a[href='/transfers/{transfer.pk}/']")
        row.find_element(By.XPATH, "./ancestor::section").find_element(By.CSS_SELECTOR,
                                                                       "button[value=approve]").click()
        s.wait_for(".messages")
        s.shot(f"demo-3-approved-by-{username}")
    transfer.refresh_from_db()
    assert transfer.status == "handover", [(st.kind, st.decision) for st in transfer.steps.all()]

    sign_in(s, "hz_edu").open(f"/transfers/{transfer.pk}/")
    s.wait_for("#handover-form")
    Select(s.find("[name=received_condition]")).select_by_value("good")
    s.click("#confirm-button")
    s.wait_for("#transfer-status[data-status='completed']")
    s.shot("demo-4-completed")
    transfer.refresh_from_db()
    assert transfer.status == "completed" and transfer.received_asset.agency.code == "11330100MB0002002D"
