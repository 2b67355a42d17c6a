"""Delegation in a real browser (the done-when of issue 21): a bureau manager grants agency staff a role, and a
deputy asks for a role and receives it, each signed in with their own session. Screenshots in tests/artifacts/."""
import pytest
from selenium.webdriver.support.select import Select

from kernel.models import AuditEvent
from regions.models import AccessRequest, RoleBinding
from tests import factories as f
from tests.test_browser import CHROMEDRIVER, CHROMIUM, Session, browser, delete_triggers, server  # noqa: F401

pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="needs Debian's chromium and chromedriver")


def test_bureau_grants_staff_and_a_deputy_asks_and_receives(browser, server, region_world):  # noqa: F811
    world = region_world
    f.StandardSetFactory(region=world["region"])
    f.UserFactory(username="clerk")
    deputy = f.UserFactory(username="deputy")
    s = Session(browser, server)

    # 1. The Shanghai bureau manager grants a new clerk the agency-staff role of its agency
    s.sign_in(world["users"]["bureau_a"]).open("/roles/").wait_for("#grant-form")
    s.fill("username", "clerk")
    Select(s.find("#grant-form [name=role]")).select_by_value("agency_staff")
    Select(s.find("#grant-form [name=scope]")).select_by_value(f"agency:{world['agency_a'].pk}")
    s.fill("reason", "新到岗资产管理员")
    s.shot("21-01-grant-form")
    s.click("#grant-button")
    s.wait_for("#bindings [data-user='clerk'][data-role='agency_staff']")
    s.shot("21-02-granted")
    clerk_role = RoleBinding.objects.get(user__username="clerk")
    assert clerk_role.agency == world["agency_a"] and clerk_role.granted_by == world["users"]["bureau_a"]

    # 2. A deputy asks for the deputy bureau manager role of Shanghai
    s.sign_in(deputy).open("/roles/").wait_for("#ask-form")
    assert not browser.find_elements("css selector", "#grant-form")  # no role yet: nothing to grant
    Select(s.find("#ask-form [name=role]")).select_by_value("deputy_bureau_manager")
    Select(s.find("#ask-form [name=scope]")).select_by_value(f"jurisdiction:{world['city_a'].pk}")
    s.find("#ask-form [name=reason]").send_keys("分管资产处，需审批调拨")
    s.shot("21-03-ask")
    s.click("#ask-button")
    s.wait_for("#my-access-requests [data-status='pending']")
    request = AccessRequest.objects.get(requester=deputy)

    # 3. The bureau manager sees it in its queue with a light and grants it with a reason
    s.sign_in(world["users"]["bureau_a"]).open("/roles/")
    row = s.wait_for(f"#access-{request.pk}[data-light='green']")
    s.shot("21-04-queue")
    row.find_element("css selector", "[name=reason]").send_keys("同意，任期一年")
    row.find_element("css selector", "button[value=grant]").click()
    s.wait_for("#bindings [data-user='deputy'][data-role='deputy_bureau_manager']")

    # 4. The deputy sees the role granted and may now open the approval queue
    s.sign_in(deputy).open("/roles/")
    s.wait_for("#my-access-requests [data-status='granted']")
    s.wait_for(".my-role[data-role='deputy_bureau_manager']")
    s.shot("21-05-received")
    s.open("/approvals/").wait_for("#approvals")
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"role.granted", "access.requested", "access.granted"} <= actions
