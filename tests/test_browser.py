"""The workbench in a real browser (Debian's chromium, headless, via selenium) against `live_server`:
two cities' agency staff and bureau managers list → request → approve → hand over, each signed in with
their own session. Screenshots go to tests/artifacts/. Skipped, with the reason, without chromium."""
import re
import shutil
from pathlib import Path

import pytest
from django.test import Client

from exchange import models as ex
from kernel.models import AuditEvent
from tests import factories_exchange as fx

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                reason="needs Debian's chromium and chromium-driver (apt-get install chromium "
                                       "chromium-driver)")
webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (pip install -r requirements.txt)")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.select import Select  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,1000"]


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    ARTIFACTS.mkdir(exist_ok=True)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def delete_triggers(django_db_blocker):
    """The SQLite BEFORE DELETE triggers (append-only tables) dropped for `live_server`'s flush, created
    again once the module's tests are done."""
    stash = []
    yield stash
    if stash:
        from django.db import connection

        with django_db_blocker.unblock(), connection.cursor() as cursor:
            for sql in stash:
                cursor.execute(sql)


@pytest.fixture
def server(live_server, delete_triggers):
    """`live_server`, whose teardown flush deletes every row: SQLite's flush is a DELETE, which the
    append-only triggers refuse (PostgreSQL truncates, which row triggers do not see). So the DELETE
    triggers are set aside for the flush and restored by `delete_triggers` afterwards."""
    yield live_server
    from django.db import connection

    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        for name, sql in cursor.fetchall():
            if re.search(r"BEFORE\s+DELETE", sql, re.IGNORECASE):
                cursor.execute(f'DROP TRIGGER "{name}"')
                delete_triggers.append(sql)


class Session:
    """One signed-in person in the browser (a session cookie from Django's test client)."""

    def __init__(self, driver, live_server):
        self.driver, self.base = driver, live_server.url

    def sign_in(self, user):
        client = Client()
        client.force_login(user)
        self.driver.delete_all_cookies()
        self.driver.get(self.base + "/healthz")
        self.driver.add_cookie({"name": "sessionid", "value": client.cookies["sessionid"].value, "path": "/"})
        return self

    def sign_in_with_form(self, username, password, next_path):
        """Through the real sign-in page (django.contrib.auth + axes)."""
        self.driver.delete_all_cookies()
        self.open(f"/accounts/login/?next={next_path}")
        self.fill("username", username)
        self.fill("password", password)
        self.shot("00-sign-in")
        self.find("form[action='/accounts/login/'] button[type=submit]").click()
        return self

    def open(self, path):
        self.driver.get(self.base + path)
        return self

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def fill(self, name, value):
        field = self.find(f"[name={name}]")
        field.clear()
        field.send_keys(value)

    def click(self, css):
        self.find(css).click()

    def wait_for(self, css, timeout=10):
        return WebDriverWait(self.driver, timeout).until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))

    def shot(self, name):
        self.driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def test_request_approve_handover_in_the_browser(browser, server, region_world):
    world = region_world
    fx.standard_set(world["region"], own_window_days=0)
    ex.AssetClass.objects.create(code="2010104", name_zh="台式计算机", name_en="Desktop computer", kind="equipment")
    users = world["users"]
    s = Session(browser, server)

    # 1. Shanghai agency staff lists an idle desktop
    s.sign_in_with_form("staff_a", "pw-123456", "/assets/new/").wait_for("#asset-form")
    s.fill("description", "联想台式机 M720（闲置）")
    s.fill("quantity", "3")
    s.fill("original_value", "4500.00")
    browser.execute_script("document.querySelector('[name=acquired_on]').value = '2017-03-01'")
    s.shot("01-list-asset")
    s.click("#list-button")
    s.wait_for("#request-form, #item")
    listing = ex.Listing.objects.get()

    # 2. Hangzhou agency staff finds it on the catalogue map, checks the standards, then requests
    s.sign_in(users["staff_b"]).open("/")
    s.wait_for("#map[data-loaded='1']")
    s.wait_for(".leaflet-interactive")
    s.shot("02-catalogue-map")
    s.open(f"/listings/{listing.pk}/")
    s.fill("quantity", "2")
    s.fill("justification", "新入职两名科员，需配置办公电脑")
    s.click("#check-button")
    result = s.wait_for("#check-result")
    assert result.get_attribute("data-breaches") == "0"
    assert s.find("[name=justification]").get_attribute("value") == "新入职两名科员，需配置办公电脑"
    assert ex.TransferRequest.objects.count() == 0  # the check saved nothing
    s.shot("03-standards-check")
    s.click("#submit-button")
    s.wait_for("#transfer-status[data-status='approving']")
    transfer = ex.Transfer.objects.get()
    s.shot("04-transfer-approving")

    # 3. Both bureaus approve from their queues (a refusal without reason is shown in place first)
    s.sign_in(users["bureau_a"]).open("/approvals/")
    s.wait_for("#approvals [data-light='green']")
    s.shot("05-approval-queue")
    s.click(f"#step-{transfer.steps.get(kind='giving_bureau').pk} button[value=refuse]")
    s.wait_for(".has-error .errorlist")
    s.shot("06-refuse-needs-reason")
    s.click(f"#step-{transfer.steps.get(kind='giving_bureau').pk} button[value=approve]")
    s.wait_for(".messages")
    s.sign_in(users["bureau_b"]).open("/approvals/")
    s.click(f"#step-{transfer.steps.get(kind='receiving_bureau').pk} button[value=approve]")
    s.wait_for(".messages")
    transfer.refresh_from_db()
    assert transfer.status == "handover"

    # 4. The receiving agency confirms the handover
    s.sign_in(users["staff_b"]).open(f"/transfers/{transfer.pk}/")
    s.wait_for("#handover-form")
    Select(s.find("[name=received_condition]")).select_by_value("good")
    s.fill("note", "两台外观完好，已入库")
    s.shot("07-handover-form")
    s.click("#confirm-button")
    s.wait_for("#transfer-status[data-status='completed']")
    s.shot("08-completed")
    transfer.refresh_from_db()
    assert transfer.status == "completed" and transfer.received_quantity == 2 and transfer.certificate_code
    actions = list(AuditEvent.objects.filter(transfer=transfer).values_list("action", flat=True))
    assert actions[0] == "transfer.allocated"
    assert {"approval.approved", "transfer.approved", "transfer.completed"} <= set(actions)

    # 5. The coordinator sees the flow on the dashboard
    s.sign_in(users["coordinator"]).open("/dashboard/")
    assert "上海市" in s.wait_for("#flows").text
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-hans"
    s.shot("09-dashboard")

    # 6. The English switch
    Select(s.find("#language-form select")).select_by_value("en")
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
    assert "Shanghai" in s.find("#flows").text
    s.shot("10-dashboard-english")
