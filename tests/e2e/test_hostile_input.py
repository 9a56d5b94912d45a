"""Requests a hostile client would send, each to the gateway and to the service behind it directly.

Every one must be answered as a client error (or as the success it is), never a 500, and no
answer may show how the system is built: no traceback, SQL, driver or internal address.
Header bytes outside ASCII go over a raw socket, since HTTP clients refuse to send them.
"""

import socket
import statistics
import time
import uuid
from urllib.parse import quote

import httpx
import pytest

from tests.e2e.stack import Stack
from tests.helpers import register_and_login

# What an answer must never contain, whatever was asked.
INTERNALS = ("traceback", "sqlalchemy", "pymysql", "psycopg", "select ", "insert ", "127.0.0.1", "localhost", 'file "')

EMOJI = "\N{GRINNING FACE}"  # 4 bytes in UTF-8, 12 as a JSON \u escape pair
LOGIN_FAILED = {"detail": "Incorrect username or password"}


@pytest.fixture(scope="module")
def user(stack: Stack) -> dict:
    return register_and_login(stack.url("auth"), "hostile")


def assert_answered_without_leaks(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    body = response.text.lower()
    leaked = [marker for marker in INTERNALS if marker in body]
    assert not leaked, f"{leaked} in {response.text[:300]!r}"


def raw_request(port: int, request: bytes) -> tuple[int, bytes]:
    """Send `request` as bytes on a new connection; the status and body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def port_of(stack: Stack, service: str) -> int:
    return int(stack.url(service).rsplit(":", 1)[1])


# (service answering directly, a path of its own that needs a token)
PROTECTED = [("auth", "/auth/me"), ("task", "/tasks/"), ("notification", "/notifications/")]


@pytest.mark.parametrize("via", ["gateway", "direct"])
@pytest.mark.parametrize(("service", "path"), PROTECTED)
@pytest.mark.parametrize(
    "header",
    [
        b"X-Anything: \xff\xfe",
        b"Accept: text/\xe9",
        b"Cookie: session=\xff",
        b"X-Forwarded-For: \xff",
        b"Content-Type: application/json; charset=\xff",
        b"Host: \xff\xfe",
    ],
)
def test_header_bytes_outside_ascii_are_no_server_error(stack: Stack, user, via, service, path, header):
    port = port_of(stack, "gateway" if via == "gateway" else service)
    token = user["headers"]["Authorization"].encode()
    request = b"GET %s HTTP/1.1\r\n" % path.encode()
    if not header.startswith(b"Host:"):
        request += b"Host: 127.0.0.1\r\n"
    request += header + b"\r\nAuthorization: " + token + b"\r\nConnection: close\r\n\r\n"

    status, body = raw_request(port, request)

    assert status == 200, body


@pytest.mark.parametrize("via", ["gateway", "direct"])
@pytest.mark.parametrize(("service", "path"), [*PROTECTED, ("notification", "/notifications/stream")])
@pytest.mark.parametrize("token", [b"\xff\xfe", "é.é.é".encode("latin-1"), b"ey\x80J.x.y"])
def test_a_token_that_is_not_ascii_is_refused_with_401(stack: Stack, via, service, path, token):
    port = port_of(stack, "gateway" if via == "gateway" else service)
    request = b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n" % (
        path.encode(),
        token,
    )

    status, body = raw_request(port, request)

    assert status == 401, body
    assert b"Could not validate credentials" in body


@pytest.fixture(params=["gateway", "direct"])
def tasks_url(request, stack: Stack) -> str:
    return stack.url("gateway" if request.param == "gateway" else "task")


@pytest.fixture(params=["gateway", "direct"])
def auth_url(request, stack: Stack) -> str:
    return stack.url("gateway" if request.param == "gateway" else "auth")


@pytest.fixture(params=["gateway", "direct"])
def notifications_url(request, stack: Stack) -> str:
    return stack.url("gateway" if request.param == "gateway" else "notification")


@pytest.mark.parametrize("skip", [10**6 + 1, 2**63, 2**64, 10**20, 10**30])
def test_an_offset_past_the_limit_is_422_not_a_database_error(tasks_url, notifications_url, user, skip):
    for url in (f"{tasks_url}/tasks/", f"{notifications_url}/notifications/"):
        response = httpx.get(url, params={"skip": skip}, headers=user["headers"], timeout=10)

        assert_answered_without_leaks(response)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", "skip"]


def test_the_largest_offset_allowed_is_an_empty_page(tasks_url, notifications_url, user):
    for url in (f"{tasks_url}/tasks/", f"{notifications_url}/notifications/"):
        response = httpx.get(url, params={"skip": 10**6}, headers=user["headers"], timeout=10)

        assert response.status_code == 200
        assert response.json() == []


@pytest.mark.parametrize("task_id", [0, -1, 2**31, 2**63, 10**30])
def test_a_task_id_no_task_can_have_is_404(tasks_url, user, task_id):
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        body = None if method in ("GET", "DELETE") else {"title": "x"}
        response = httpx.request(method, f"{tasks_url}/tasks/{task_id}", json=body, headers=user["headers"])

        assert_answered_without_leaks(response)
        assert response.status_code == 404


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "nul\x00inside"),
        ("title", "line\nbreak"),
        ("title", "carriage\rreturn"),
        ("title", "Subject\r\nBcc: everyone@example.com"),
        ("title", "escape\x1b[31m"),
        ("title", "next\x85line"),
        ("title", "line\u2028separator"),
        ("title", "delete\x7f"),
        ("description", "nul\x00inside"),
        ("description", "bell\x07"),
        ("description", "escape\x1b[31m"),
    ],
)
def test_control_characters_in_task_text_are_refused(tasks_url, user, field, value):
    body = {"title": "Plain title", field: value}

    created = httpx.post(f"{tasks_url}/tasks/", json=body, headers=user["headers"])

    assert_answered_without_leaks(created)
    assert created.status_code == 422
    assert created.json()["detail"][0]["loc"] == ["body", field]
    task = httpx.post(f"{tasks_url}/tasks/", json={"title": "To change"}, headers=user["headers"]).json()
    updated = httpx.patch(f"{tasks_url}/tasks/{task['id']}", json={field: value}, headers=user["headers"])
    assert updated.status_code == 422


def test_a_description_may_span_lines(tasks_url, user):
    description = "First line\nSecond line\r\n\tindented"

    created = httpx.post(
        f"{tasks_url}/tasks/", json={"title": "Lines", "description": description}, headers=user["headers"]
    )

    assert created.status_code == 201
    assert created.json()["description"] == description


@pytest.mark.parametrize("search", ["nul\x00", "escape\x1b"])
def test_control_characters_in_a_search_are_refused(tasks_url, user, search):
    response = httpx.get(f"{tasks_url}/tasks/", params={"search": search}, headers=user["headers"])

    assert_answered_without_leaks(response)
    assert response.status_code == 422


def test_lengths_are_characters_even_where_a_character_takes_four_bytes(tasks_url, user):
    # 200 emoji are 800 bytes; the largest description is 40,000 bytes of UTF-8 (120,000 as \u escapes).
    created = httpx.post(
        f"{tasks_url}/tasks/", json={"title": EMOJI * 200, "description": EMOJI * 10_000}, headers=user["headers"]
    )
    assert created.status_code == 201, created.text
    task = created.json()
    assert task["title"] == EMOJI * 200
    assert task["description"] == EMOJI * 10_000

    updated = httpx.put(
        f"{tasks_url}/tasks/{task['id']}", json={"description": EMOJI * 9_999 + "!"}, headers=user["headers"]
    )
    assert updated.status_code == 200, updated.text

    too_long = httpx.post(f"{tasks_url}/tasks/", json={"title": EMOJI * 201}, headers=user["headers"])
    assert too_long.status_code == 422
    found = httpx.get(f"{tasks_url}/tasks/", params={"search": EMOJI * 200}, headers=user["headers"])
    assert found.status_code == 200
    assert task["id"] in [t["id"] for t in found.json()]


@pytest.mark.parametrize(
    "body",
    [
        b'{"title": "\\ud800"}',  # a lone surrogate, as a JSON escape
        b'{"title": "\\udfff and more"}',
        b'{"title": "\xff\xfe"}',  # not UTF-8 at all
        b'{"title": "\xed\xa0\x80"}',  # a surrogate encoded as UTF-8 bytes, which UTF-8 forbids
        b"[" * 100_000 + b"]" * 100_000,  # nested past any parser's recursion limit
        b'{"title": "x", "status": 1e400}',
    ],
)
def test_text_that_is_not_unicode_in_a_json_body_is_a_client_error(tasks_url, user, body):
    headers = {**user["headers"], "Content-Type": "application/json"}

    response = httpx.post(f"{tasks_url}/tasks/", content=body, headers=headers)

    assert_answered_without_leaks(response)
    assert response.status_code in (400, 422)


def login(auth_url: str, content: bytes | dict) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    if isinstance(content, dict):
        response = httpx.post(f"{auth_url}/auth/login", data=content, timeout=10)
    else:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        response = httpx.post(f"{auth_url}/auth/login", content=content, headers=headers, timeout=10)
    return response, time.perf_counter() - started


MALFORMED_PASSWORDS = ["nul\x00inside", "x" * 73, EMOJI * 19, "\x00", " "]
MALFORMED_NAMES = ["nul\x00inside", "x" * 10_000, EMOJI * 100, "\x1b[2J", "a%b_c\\"]


def test_a_malformed_credential_is_refused_exactly_like_a_wrong_password(auth_url, user):
    wrong, _ = login(auth_url, {"username": user["username"], "password": "wrong-password"})
    attempts = [{"username": name, "password": "wrong-password"} for name in ["nobody-at-all", *MALFORMED_NAMES]]
    for name in (user["username"], "nobody-at-all"):
        attempts += [{"username": name, "password": password} for password in MALFORMED_PASSWORDS]

    for form in attempts:
        response, _ = login(auth_url, form)

        assert_answered_without_leaks(response)
        assert (response.status_code, response.json()) == (wrong.status_code, LOGIN_FAILED), form
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "form",
    [b"username=%ff%fe&password=x", b"username=%ed%a0%80&password=%ed%a0%80", b"username=a&password=%00%ff"],
)
def test_a_form_that_is_not_utf_8_is_refused_like_a_wrong_password(auth_url, form):
    response, _ = login(auth_url, form)

    assert_answered_without_leaks(response)
    assert (response.status_code, response.json()) == (401, LOGIN_FAILED)


def test_a_malformed_credential_takes_as_long_to_refuse_as_a_wrong_password(stack: Stack, user):
    """Whether an account exists must not show in the time the refusal takes either.

    Every refusal checks one bcrypt hash (the decoy's when the name or password cannot match;
    tests/unit/test_hostile_text.py counts them). Timed here end to end, alternating with a wrong
    password so that load from elsewhere on the machine weighs on both alike.
    """
    auth_url = stack.url("auth")
    wrong = {"username": user["username"], "password": "wrong-password"}
    for form in (
        {"username": user["username"], "password": "nul\x00inside"},
        {"username": user["username"], "password": "x" * 73},
        {"username": "nobody-at-all", "password": "nul\x00inside"},
        {"username": "nul\x00inside", "password": "wrong-password"},
        {"username": "x" * 10_000, "password": "wrong-password"},
    ):
        wrong_times, malformed_times = [], []
        for _ in range(7):
            wrong_times.append(login(auth_url, wrong)[1])
            malformed_times.append(login(auth_url, form)[1])

        wrong_median = statistics.median(wrong_times)
        assert statistics.median(malformed_times) == pytest.approx(wrong_median, rel=1.0, abs=0.03), form


def test_registration_and_password_change_refuse_a_nul_with_a_clear_answer(auth_url, user):
    registered = httpx.post(
        f"{auth_url}/auth/register",
        json={"username": "nul_password", "email": "nul_password@example.com", "password": "abc\x00def"},
    )
    assert_answered_without_leaks(registered)
    assert registered.status_code == 422
    assert registered.json()["detail"][0]["loc"] == ["body", "password"]

    wrong_current = httpx.post(
        f"{auth_url}/auth/me/password",
        json={"current_password": "abc\x00def", "new_password": "new-password"},
        headers=user["headers"],
    )
    assert (wrong_current.status_code, wrong_current.json()) == (400, {"detail": "Current password is incorrect"})

    nul_new = httpx.post(
        f"{auth_url}/auth/me/password",
        json={"current_password": user["password"], "new_password": "abc\x00def"},
        headers=user["headers"],
    )
    assert nul_new.status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {"username": "ctrl\x00name", "email": "ctrl@example.com", "password": "secret1"},
        {"username": "user_émoji", "email": "e@example.com", "password": "secret1"},
        {"username": "okname", "email": "nul\x00@example.com", "password": "secret1"},
        {"username": "okname", "email": "line\n@example.com", "password": "secret1"},
        {"username": "okname", "email": "a" * 300 + "@example.com", "password": "secret1"},
    ],
)
def test_registration_refuses_names_and_emails_no_account_may_have(auth_url, body):
    response = httpx.post(f"{auth_url}/auth/register", json=body)

    assert_answered_without_leaks(response)
    assert response.status_code == 422


@pytest.mark.parametrize(("service", "path"), PROTECTED)
def test_user_text_in_a_request_cannot_forge_a_log_line(stack: Stack, user, service, path):
    marker = uuid.uuid4().hex
    forged = f"2026-01-01 00:00:00,000 ERROR [{service}_service] [-] forged {marker}"
    for base in (stack.url("gateway"), stack.url(service)):
        # Decoded, the path holds a CR LF and a whole record after it; the access log writes the path.
        httpx.get(f"{base}{path}x%0d%0a{quote(forged)}", headers=user["headers"], timeout=10)
        httpx.post(f"{base}/auth/login", data={"username": f"x\r\n{forged}", "password": "x"}, timeout=10)

    logs = stack.log_of(service) + stack.log_of("gateway")
    assert marker in logs  # logged, so the request reached the log
    assert f"\n{forged}" not in logs
    assert f"\r{forged}" not in logs
