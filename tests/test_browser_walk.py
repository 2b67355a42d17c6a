"""The whole job in a real browser (headless chromium via selenium), in Chinese and again in English, each
page also at phone width (390 px): staff registers an asset with a photo → a bureau of another city finds
it by class on the map and requests it → both bureaus read the justification and approve on the transfer
page → the receiver confirms → both sides see the compensation → the coordinator closes the period → the
auditor finds the transfer by its certificate number, exports the list to XLSX and downloads the
certificate. Every page is checked for the other language's words (proper names of the data aside) and
for sideways scrolling on the phone; screenshots go to tests/artifacts/walk-<language>/."""
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from exchange import models as ex
from ledger.models import SettlementPeriod
from tests import factories_exchange as fx
from tests.test_browser import ARTIFACTS, CHROMEDRIVER, CHROMIUM, FLAGS, Session, delete_triggers, server  # noqa: F401

pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="needs Debian's chromium and chromium-driver")
webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (pip install -r requirements.txt)")
from selenium.webdriver.support.select import Select  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

DESKTOP, PHONE = (1366, 900), (390, 844)
# Words that are the same in both interfaces: formats, units, codes.
SAME_IN_BOTH = {"PDF", "CSV", "XLSX", "CNY", "km", "m²", "JT", "JPEG", "PNG", "WebP"}
ASCII_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]{2,}")
CJK = re.compile(r"[\u3400-\u9fff]+")

TEXT_OF_PAGE = """
const copy = document.body.cloneNode(true);
copy.querySelectorAll('script, style, code, #language-form, #who, [data-proper]').forEach(e => e.remove());
copy.querySelectorAll('input[placeholder], textarea[placeholder]').forEach(e => copy.append(' ' + e.placeholder));
return copy.textContent;
"""


def png():
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (139, 30, 30)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(params=["zh-Hans", "en"])
def walk(request, server, region_world, tmp_path):  # noqa: F811
    language = request.param
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "en" if language == "en" else "zh-CN,zh"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(60)
    folder = ARTIFACTS / f"walk-{language}"
    folder.mkdir(parents=True, exist_ok=True)
    photo = tmp_path / "desk.png"
    photo.write_bytes(png())
    yield Walk(driver, server, region_world, language, folder, photo)
    driver.quit()


class Walk(Session):
    def __init__(self, driver, live_server, world, language, folder, photo):
        super().__init__(driver, live_server)
        self.world, self.language, self.folder, self.photo = world, language, folder, photo
        self.proper = set()  # data typed or seeded in one language (names), allowed in the other's pages
        self.step = 0

    @property
    def english(self):
        return self.language == "en"

    def page(self, name, ready="main"):
        """Check the page's language, then screenshot it at desktop and phone width."""
        self.wait_for(ready)
        assert self.driver.find_element("tag name", "html").get_attribute("lang") == (
            "en" if self.english else "zh-hans"), name
        self.check_language(name)
        self.step += 1
        for label, (width, height) in (("desktop", DESKTOP), ("phone", PHONE)):
            self.driver.set_window_size(width, height)
            if label == "phone":
                wide = self.driver.execute_script("return document.documentElement.scrollWidth")
                assert wide <= width, f"{name}: {wide}px wide on a {width}px phone"
            full = self.driver.execute_script("return document.body.scrollHeight")
            self.driver.set_window_size(width, min(full + 80, 5000))
            self.driver.save_screenshot(str(self.folder / f"{self.step:02d}-{name}-{label}.png"))
        self.driver.set_window_size(*DESKTOP)

    def check_language(self, name):
        text = self.driver.execute_script(TEXT_OF_PAGE)
        for proper in sorted(self.proper, key=len, reverse=True):
            text = text.replace(proper, " ")
        if self.english:
            foreign = CJK.findall(text)
        else:
            foreign = [w for w in ASCII_WORD.findall(text) if w not in SAME_IN_BOTH]
        assert not foreign, f"{self.language} page {name} shows {sorted(set(foreign))[:20]}"


def fetch(driver, url):
    """(status, content type, first bytes) of a same-origin download, fetched by the page itself."""
    return driver.execute_async_script("""
      const done = arguments[arguments.length - 1];
      fetch(arguments[0], {credentials: 'same-origin'}).then(async r => {
        const bytes = new Uint8Array(await r.arrayBuffer());
        done([r.status, r.headers.get('content-type'), Array.from(bytes.slice(0, 4)), bytes.length]);
      });""", url)


def test_the_whole_job_in_one_language_at_desktop_and_phone_width(walk):
    w, world, users = walk, walk.world, walk.world["users"]
    fx.standard_set(world["region"], own_window_days=0)
    klass = ex.AssetClass.objects.create(code="2010104", name_zh="台式计算机", name_en="Desktop computer",
                                         kind="equipment")
    today = timezone.localdate()
    period = SettlementPeriod.objects.create(region=world["region"], start=today - timedelta(days=40),
                                             end=today - timedelta(days=1))
    english = w.english
    description = "Lenovo M720 desktop (idle)" if english else "联想台式机 M720（闲置）"
    justification = "Two new clerks need a desktop each" if english else "新入职两名科员，需配置办公电脑"
    # Names that exist in one language only (usernames, the test standard's title, the factory agencies and
    # what the users type); jurisdiction, region, class and agency names have both.
    w.proper |= {description, justification, "测试标准", *(u.username for u in users.values())}
    w.proper |= {a.name_en if english else a.name_zh for a in (world["agency_a"], world["agency_b"])}
    if english:
        w.proper |= {"上海甲单位", "杭州乙单位"}
    else:
        w.proper |= {"Agency"}

    # 1. Agency staff of city A registers the idle desktop with a photo and lists it
    w.sign_in(users["staff_a"]).open("/assets/new/")
    w.fill("description", description)
    w.fill("quantity", "3")
    w.fill("original_value", "4500.00")
    w.driver.execute_script("document.querySelector('[name=acquired_on]').value = '2019-03-01'")
    Select(w.find("[name=asset_class]")).select_by_value(str(klass.pk))
    w.find("[name=photos]").send_keys(str(w.photo))
    w.page("register-asset", "#asset-form")
    w.click("#list-button")
    w.wait_for("#item")
    listing = ex.Listing.objects.get()
    assert listing.asset.photos.count() == 1

    # 2. Agency staff of city B filters the catalogue by class, sees it on the map and requests it
    w.sign_in(users["staff_b"]).open(f"/?asset_class={klass.pk}")
    w.wait_for("#map[data-loaded='1']")
    w.wait_for(".leaflet-interactive")
    assert w.find(f"#listing-{listing.pk} img.thumb")  # the photo's thumbnail
    w.page("catalogue-by-class", f"#listing-{listing.pk}")
    w.open(f"/listings/{listing.pk}/")
    w.fill("quantity", "2")
    w.fill("justification", justification)
    w.page("request", "#request-form")
    w.click("#submit-button")
    w.wait_for("#transfer-status[data-status='approving']")
    transfer = ex.Transfer.objects.get()

    # 3. Each bureau reads the justification on the transfer page and approves there
    for bureau in ("bureau_a", "bureau_b"):
        w.sign_in(users[bureau]).open(f"/transfers/{transfer.pk}/")
        w.wait_for("#decide-form")
        assert justification in w.find("main").text
        w.page(f"decide-{bureau}", "#approve-button")
        w.click("#approve-button")
        w.wait_for(".messages")
    transfer.refresh_from_db()
    assert transfer.status == "handover"

    # 4. The receiver confirms the handover
    w.sign_in(users["staff_b"]).open(f"/transfers/{transfer.pk}/")
    w.fill("note", "Both in good order" if english else "两台外观完好，已入库")
    w.proper.add("Both in good order" if english else "两台外观完好，已入库")
    w.page("handover", "#handover-form")
    w.click("#confirm-button")
    w.wait_for("#transfer-status[data-status='completed']")
    transfer.refresh_from_db()
    assert transfer.certificate_code and transfer.received_quantity == 2

    # 5. Both sides see the compensation
    w.proper.add(transfer.certificate_code)
    for side in ("staff_b", "staff_a"):
        w.sign_in(users[side]).open(f"/transfers/{transfer.pk}/")
        assert w.wait_for("#compensation").text.strip()
        w.page(f"compensation-{side}", "#compensation")

    # 6. The coordinator closes the settlement period
    w.sign_in(users["coordinator"]).open("/settlement/")
    w.page("settlement", f"#close-{period.pk}")
    w.click(f"#close-{period.pk}")
    w.wait_for(f"#period-{period.pk}[data-status='closed']")
    w.page("settlement-closed", f"#period-{period.pk}")

    # 7. The auditor finds the transfer by its certificate number, exports the list, gets the certificate
    w.sign_in(users["auditor"]).open(f"/transfers/?certificate={transfer.certificate_code}")
    assert w.wait_for("#total").get_attribute("data-total") == "1"
    w.page("auditor-search", f"#transfer-{transfer.pk}")
    status, kind, head, size = fetch(w.driver, w.find("#export-xlsx").get_attribute("href"))
    assert status == 200 and "spreadsheetml" in kind and head[:2] == [0x50, 0x4B] and size > 1000  # "PK": XLSX
    w.open(f"/transfers/{transfer.pk}/")
    w.click("#certificate-form button")
    link = WebDriverWait(w.driver, 60).until(
        lambda d: (d.refresh() or True) and d.find_elements("css selector", "#jobs a[href*='/download/']"))[0]
    w.page("certificate-ready", "#jobs")
    status, kind, head, size = fetch(w.driver, link.get_attribute("href"))
    assert status == 200 and kind == "application/pdf" and bytes(head) == b"%PDF"
