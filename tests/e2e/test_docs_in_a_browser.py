"""The API docs in a real browser, on a network without internet access: headless Chromium (tests/e2e/browser.py).

Every name but the loopback ones fails to resolve in that browser, and each test checks that every request a
page sent, and every resource it loaded, was on the server's own origin. At the gateway, Swagger UI signs in
through Authorize (the OAuth2 password flow, to /auth/login) and calls GET /auth/me with the token it got.
"""

import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.browser import chromium, console_errors, requested_urls, resource_urls
from tests.e2e.stack import Stack

WAIT_SECONDS = 20
READ_ME = "#operations-auth-read_me_auth_me_get"
OAUTH2_FORM = (
    "//div[contains(@class,'modal-ux')]//div[contains(@class,'auth-container')]"
    "[.//h4[starts-with(normalize-space(), 'OAuth2PasswordBearer')]]"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    with chromium() as driver:
        yield driver


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def open_page(browser: webdriver.Chrome, url: str) -> WebDriverWait:
    requested_urls(browser)  # what earlier pages sent is not this page's
    console_errors(browser)
    browser.get(url)
    return WebDriverWait(browser, WAIT_SECONDS)


def assert_everything_came_from(browser: webdriver.Chrome, server: str) -> None:
    sent = requested_urls(browser)
    loaded = resource_urls(browser)

    assert sent, "the browser's network log is empty"
    assert [url for url in sent if origin(url) != server] == [], "requests that left the server"
    assert loaded, "the page loaded nothing"
    assert [url for url in loaded if origin(url) != server] == [], "resources from elsewhere"
    assert console_errors(browser) == []


def test_swagger_ui_at_the_gateway_signs_in_with_authorize_and_calls_an_endpoint(stack: Stack, browser):
    gateway = stack.url("gateway")
    suffix = uuid.uuid4().hex[:10]
    user = {"username": f"docs_{suffix}", "email": f"docs_{suffix}@example.com", "password": "test123"}
    httpx.post(f"{gateway}/auth/register", json=user, timeout=10).raise_for_status()

    wait = open_page(browser, f"{gateway}/docs")
    wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, ".swagger-ui .auth-wrapper button.authorize"))).click()
    # The password flow's form in the dialog (which lists any other security scheme beside it).
    password_flow = wait.until(EC.visibility_of_element_located((By.XPATH, OAUTH2_FORM)))
    password_flow.find_element(By.ID, "oauth_username").send_keys(user["username"])
    password_flow.find_element(By.ID, "oauth_password").send_keys(user["password"])
    password_flow.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper button.authorize").click()
    # Signed in: the form now offers to log out.
    wait.until(EC.visibility_of_element_located((By.XPATH, f"{OAUTH2_FORM}//button[.='Logout']")))
    browser.find_element(By.XPATH, OAUTH2_FORM).find_element(By.CSS_SELECTOR, "button.btn-done").click()
    wait.until(EC.invisibility_of_element_located((By.CSS_SELECTOR, ".modal-ux")))

    wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, f"{READ_ME} .opblock-summary-control"))).click()
    wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, f"{READ_ME} .try-out__btn"))).click()
    wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, f"{READ_ME} button.execute"))).click()
    status = (By.CSS_SELECTOR, f"{READ_ME} .live-responses-table .response .response-col_status")
    wait.until(EC.visibility_of_element_located(status))

    assert browser.find_element(*status).text.strip() == "200"
    body = browser.find_element(By.CSS_SELECTOR, f"{READ_ME} .live-responses-table .response-col_description pre")
    assert f'"username": "{user["username"]}"' in body.text
    assert "Authorization: Bearer " in browser.find_element(By.CSS_SELECTOR, f"{READ_ME} .curl-command").text
    sent = requested_urls(browser)
    assert f"{gateway}/auth/login" in sent and f"{gateway}/auth/me" in sent
    assert [url for url in sent if origin(url) != gateway] == [], "requests that left the gateway"
    loaded = resource_urls(browser)
    assert {f"{gateway}/docs/assets/swagger/swagger-ui-bundle.js", f"{gateway}/openapi.json"} <= set(loaded)
    assert [url for url in loaded if origin(url) != gateway] == [], "resources from elsewhere"
    assert console_errors(browser) == []


def test_redoc_at_the_gateway_renders_the_merged_document(stack: Stack, browser):
    gateway = stack.url("gateway")

    wait = open_page(browser, f"{gateway}/redoc")
    heading = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".api-content h1")))

    assert heading.text.startswith("Task Manager API")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-section-id^='tag/tasks']")))
    assert_everything_came_from(browser, gateway)


@pytest.mark.parametrize(("service", "title"), [("auth", "Auth"), ("task", "Task"), ("notification", "Notification")])
def test_each_services_own_docs_render_from_the_service(stack: Stack, browser, service: str, title: str):
    url = stack.url(service)

    wait = open_page(browser, f"{url}/docs")
    swagger_title = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".swagger-ui .info .title")))
    assert swagger_title.text.startswith(f"{title} Service")
    wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".swagger-ui .opblock")))
    assert_everything_came_from(browser, url)

    wait = open_page(browser, f"{url}/redoc")
    heading = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".api-content h1")))
    assert heading.text.startswith(f"{title} Service")
    assert_everything_came_from(browser, url)
