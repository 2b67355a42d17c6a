"""GraphiQL renders with the network off: its JS and CSS are vendored from npm and served from our static
files. Chromium resolves no host name but the test server's (localhost), so any CDN request would fail."""
import pytest

from tests.test_browser import ARTIFACTS, CHROMEDRIVER, CHROMIUM, FLAGS, delete_triggers, server  # noqa: F401

pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="needs Debian's chromium and chromedriver")
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture
def offline_browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    ARTIFACTS.mkdir(exist_ok=True)
    yield driver
    driver.quit()


def test_graphiql_renders_offline_from_static_files(offline_browser, server):  # noqa: F811
    driver = offline_browser
    with pytest.raises(WebDriverException, match="ERR_NAME_NOT_RESOLVED"):  # the CDN is out of reach
        driver.get("https://cdn.jsdelivr.net/npm/react@17.0.2/umd/react.production.min.js")
    driver.get(server.url + "/graphql/")
    WebDriverWait(driver, 20).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".graphiql-container")))
    WebDriverWait(driver, 20).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".graphiql-editor")))
    resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    scripts = [r for r in resources if r.endswith(".js")]
    assert scripts and all(r.startswith(server.url + "/static/") for r in scripts), resources
    assert not [r for r in resources if not r.startswith(server.url)], resources
    driver.save_screenshot(str(ARTIFACTS / "graphiql-offline.png"))
