"""docs/api.md runs as printed: its curl examples, in order, against the stack, each answering as shown.

Every ```bash block of the guide is run with bash, in order, in one shell session's worth of variables (what a
block assigns, such as TOKEN or TASK_ID, is there for the blocks after it). A fenced block right after it is what
it prints, and is compared with what it printed:

- ```json: the same JSON (one document, or one per line), except the values of VOLATILE_KEYS, which only keep
  their type (ids, tokens, timestamps);
- ```http (curl -i): the same status line, the same header names, the same header values except VOLATILE_HEADERS,
  then the body as above;
- ```text: the same lines once numbers, uuids and hex ids are masked.

A block whose shown answer is an error (`{"detail": ...}` or an HTTP status of 400 or more) must get exactly that;
every other curl call must succeed (a status below 400). The only changes to the commands: the stack's addresses
for http://localhost:8000-8003, $TOKEN for YOUR_TOKEN_HERE, and usernames and emails made unique to this run (in
the shown answers too), so that the guide runs again and again against the same databases.
"""

import json
import re
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.stack import Stack
from tests.helpers import ROOT

GUIDE = ROOT / "docs" / "api.md"
VOLATILE_KEYS = {
    "id", "user_id", "task_id", "event_id", "access_token", "created_at", "updated_at", "key", "prefix", "last_used_at",
}  # fmt: skip
VOLATILE_HEADERS = {"date", "content-length", "x-request-id"}
# Ports of the guide's addresses, and the stack's service of each.
SERVICES = {"8000": "gateway", "8001": "auth", "8002": "task", "8003": "notification"}
# Every curl call reports its status on stderr, after whatever it printed, without changing its output.
PRELUDE = """set -e
curl() { command curl -sS --write-out '%{stderr}\\nguide-status %{http_code}\\n' "$@"; }
"""
READ_ONLY = re.compile(r"-X\s*(POST|PUT|PATCH|DELETE)|\s(-d|--data\S*)\s")
# Shown answers of reads (notifications arrive asynchronously) are waited for this long.
READ_RETRY_SECONDS = 10.0


@dataclass
class Example:
    line: int
    command: str
    output: str | None = None
    language: str = ""


def examples(markdown: str) -> list[Example]:
    """Each ```bash block with the fenced block right after it, if any, as its shown output."""
    blocks = [
        (markdown.count("\n", 0, match.start()) + 1, match.group(1), match.group(2), match.start(), match.end())
        for match in re.finditer(r"^```(\w*)\n(.*?)^```$", markdown, re.MULTILINE | re.DOTALL)
    ]
    found: list[Example] = []
    for index, (line, language, body, _, end) in enumerate(blocks):
        if language != "bash":
            continue
        example = Example(line, body)
        if index + 1 < len(blocks):
            _, next_language, next_body, next_start, _ = blocks[index + 1]
            if next_language != "bash" and not markdown[end:next_start].strip():
                example.output, example.language = next_body, next_language
        found.append(example)
    return found


def uniquely_named(text: str, suffix: str) -> str:
    text = re.sub(r"\b(testuser|otheruser)\b", rf"\1_{suffix}", text)
    return re.sub(r"\b(test|other)@example\.com\b", rf"\1_{suffix}@example.com", text)


def for_the_stack(command: str, stack: Stack, suffix: str) -> str:
    for port, service in SERVICES.items():
        command = command.replace(f"http://localhost:{port}", stack.url(service))
    return uniquely_named(command.replace("YOUR_TOKEN_HERE", "$TOKEN"), suffix)


def masked(text: str) -> list[str]:
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>", text)
    text = re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)?", "<time>", text)
    text = re.sub(r"\b[0-9a-f]{32}\b", "<hex>", text)
    return re.sub(r"\d+(\.\d+)?", "<n>", text).rstrip("\n").split("\n")


def parsed_json(text: str) -> list:
    """One JSON document, or one per line."""
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def compare_json(actual, expected, where: str = "$") -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: {actual!r} is not an object"
        assert sorted(actual) == sorted(expected), f"{where}: keys {sorted(actual)}, shown {sorted(expected)}"
        for key, value in expected.items():
            if key in VOLATILE_KEYS:
                assert type(actual[key]) is type(value), f"{where}.{key}: {actual[key]!r}, shown {value!r}"
            else:
                compare_json(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: {actual!r}, shown {expected!r}"
        for index, (got, shown) in enumerate(zip(actual, expected, strict=True)):
            compare_json(got, shown, f"{where}[{index}]")
    else:
        assert actual == expected, f"{where}: {actual!r}, shown {expected!r}"


def compare_body(actual: str, expected: str, language: str) -> None:
    if language == "text" or not expected.strip():
        assert masked(actual) == masked(expected), f"printed:\n{actual}"
    else:
        try:
            got = parsed_json(actual)
        except json.JSONDecodeError as error:
            raise AssertionError(f"not JSON ({error}):\n{actual}") from None
        compare_json(got, parsed_json(expected))


def compare_http(actual: str, expected: str) -> None:
    actual = actual.replace("\r\n", "\n")
    head, _, body = actual.partition("\n\n")
    shown_head, _, shown_body = expected.partition("\n\n")
    status, *headers = head.split("\n")
    shown_status, *shown_headers = shown_head.split("\n")
    assert status == shown_status, f"{status!r}, shown {shown_status!r}"
    got = dict(header.split(": ", 1) for header in headers)
    shown = dict(header.split(": ", 1) for header in shown_headers)
    assert sorted(got) == sorted(shown), f"headers {sorted(got)}, shown {sorted(shown)}"
    for name, value in shown.items():
        if name not in VOLATILE_HEADERS:
            assert got[name] == value, f"header {name}: {got[name]!r}, shown {value!r}"
    compare_body(body, shown_body, "json" if shown_body.strip() else "text")


def shown_status_class(example: Example) -> str:
    """ "error" if the shown answer is an error, else "success" (also when no answer is shown)."""
    if example.output is None:
        return "success"
    if example.language == "http":
        return "error" if int(example.output.split()[1]) >= 400 else "success"
    if example.language == "json":
        documents = parsed_json(example.output)
        if any(isinstance(document, dict) and "detail" in document for document in documents):
            return "error"
    return "success"


def run(example: Example, command: str, state: Path) -> tuple[str, list[int]]:
    assigned = sorted(set(re.findall(r"^\s*([A-Z_][A-Z0-9_]*)=", example.command, re.MULTILINE)))
    save = f"\ndeclare -p {' '.join(assigned)} >> {state}\n" if assigned else "\n"
    script = f"{PRELUDE}[ -f {state} ] && source {state}\n{command}{save}"
    result = subprocess.run(
        ["bash", "-c", script], cwd=state.parent, capture_output=True, text=True, timeout=60, check=False
    )
    where = f"docs/api.md line {example.line}"
    assert result.returncode == 0, f"{where}: exited with {result.returncode}\n{command}\n{result.stderr}"
    return result.stdout, [int(code) for code in re.findall(r"^guide-status (\d{3})$", result.stderr, re.MULTILINE)]


def check(example: Example, printed: str, statuses: list[int]) -> None:
    assert statuses, "no curl call ran"
    if shown_status_class(example) == "error":
        assert all(status >= 400 for status in statuses), f"statuses {statuses}, but an error is shown"
    else:
        assert all(status < 400 for status in statuses), f"statuses {statuses}, but a success is shown"
    if example.output is None:
        return
    if example.language == "http":
        compare_http(printed, example.output)
    else:
        compare_body(printed, example.output, example.language)


def test_the_guide_has_its_examples() -> None:
    found = examples(GUIDE.read_text(encoding="utf-8"))

    assert len(found) >= 40
    assert sum(example.output is not None for example in found) >= 30
    for example in found:
        # Nothing but the local system: every address is one the test can point at the stack.
        addresses = set(re.findall(r"https?://[\w.:-]+", example.command))
        assert addresses <= {f"http://localhost:{port}" for port in SERVICES}, f"line {example.line}: {addresses}"
        assert example.language in {"", "json", "http", "text"}, f"line {example.line}: ```{example.language}"


def test_the_guide_runs_as_printed(stack: Stack, tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    state = tmp_path / "variables.sh"
    for example in examples(GUIDE.read_text(encoding="utf-8")):
        command = for_the_stack(example.command, stack, suffix)
        if example.output is not None:
            example.output = uniquely_named(example.output, suffix)
        deadline = time.monotonic() + (0 if READ_ONLY.search(example.command + " ") else READ_RETRY_SECONDS)
        while True:
            printed, statuses = run(example, command, state)
            try:
                check(example, printed, statuses)
                break
            except AssertionError as error:
                failure = str(error)
            if time.monotonic() > deadline:
                pytest.fail(f"docs/api.md line {example.line}:\n{example.command}\n{failure}", pytrace=False)
            time.sleep(0.2)


def test_the_guide_lists_every_endpoint_the_gateway_documents(stack: Stack) -> None:
    """The overview table names exactly the endpoints of the merged OpenAPI document, plus the undocumented ones."""
    guide = GUIDE.read_text(encoding="utf-8")
    rows = [line.split("|")[1] for line in guide.splitlines() if re.match(r"\| `(GET|POST|PUT|PATCH|DELETE) /", line)]
    listed = {
        (method, re.sub(r"\{\w+\}", "{id}", path).rstrip("/") or "/")
        for row in rows
        for method, path in re.findall(r"`(GET|POST|PUT|PATCH|DELETE) (/\S*)`", row)
    }
    document = httpx.get(f"{stack.url('gateway')}/openapi.json", timeout=10).json()
    documented = {
        (method.upper(), re.sub(r"\{\w+\}", "{id}", path))
        for path, operations in document["paths"].items()
        for method in operations
    }

    assert sorted(listed) == sorted(documented | {("GET", "/metrics"), ("GET", "/docs"), ("GET", "/openapi.json")})
