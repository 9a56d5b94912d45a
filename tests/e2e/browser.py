"""Headless Chromium from Debian's packages (`chromium`, `chromium-driver`), driven through Selenium.

No browser is ever downloaded: the driver is /usr/bin/chromedriver and the browser /usr/bin/chromium,
which `make client-tools` installs. Every host name but the loopback ones resolves to nothing, so a
page that needs the internet fails here the way it would on a private network.
"""

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1600",
    # As on a network without internet access: no name but the loopback ones resolves.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]


@contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    """A fresh browser (its own profile, deleted after), logging every request it sends."""
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    assert not missing, f"{', '.join(missing)} missing: `make client-tools` installs chromium and chromium-driver"
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def requested_urls(driver: webdriver.Chrome) -> list[str]:
    """Every network request (http, https, ws, wss) the browser sent since the last call, from DevTools.

    Sent, not only answered: a request that failed (as one to a CDN would, here) is listed too.
    """
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if url.split(":", 1)[0] in ("http", "https", "ws", "wss"):
                urls.append(url)
    return urls


def console_errors(driver: webdriver.Chrome) -> list[str]:
    """What the pages logged as errors since the last call (failed loads, uncaught exceptions)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def resource_urls(driver: webdriver.Chrome) -> list[str]:
    """What the page itself loaded (scripts, styles, images, fetches), from its Resource Timing entries."""
    return driver.execute_script("return performance.getEntriesByType('resource').map(entry => entry.name)")
