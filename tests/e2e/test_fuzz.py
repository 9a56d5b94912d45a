"""Every service's public API, fuzzed from its own OpenAPI document and through the gateway's merged one.

Schemathesis generates requests from each document, valid ones and invalid ones (wrong types,
values out of range, missing fields, strings of any characters), and sends them to the real
services of the e2e stack, as a signed-in user. Every answer must be below 500, match the schema
the document gives for its status, and carry the content type the document names.

Bounded and seeded, so a run finds the same things each time and takes about a minute:
FUZZ_EXAMPLES (examples per operation and kind, default 40) and FUZZ_SEED change that; `make fuzz` runs
many more examples.
"""

import os

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.e2e.stack import Stack
from tests.helpers import register_and_login

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
FUZZ_SEED = int(os.environ.get("FUZZ_SEED", "6"))
EMOJI = "\N{GRINNING FACE}"
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
# An event stream never ends, so there is no whole answer to check: tests/e2e/test_hostile_input.py covers it.
NOT_FUZZED = r"/notifications/stream$"
# Calls after which the signed-in user needs a new token (the old one is revoked).
SIGNS_OUT = ("/auth/logout", "/auth/me/password")


class SignedInUser:
    """A real user of the stack, whose token is renewed whenever a fuzzed call has signed it out."""

    def __init__(self, gateway_url: str) -> None:
        self._gateway_url = gateway_url
        self._user = register_and_login(gateway_url, "fuzz")
        self.headers = self._user["headers"]

    def after(self, case: schemathesis.Case, response: schemathesis.Response) -> None:
        if response.status_code < 400 and case.path.endswith(SIGNS_OUT):
            login = httpx.post(
                f"{self._gateway_url}/auth/login",
                data={"username": self._user["username"], "password": self._user["password"]},
                timeout=10,
            )
            if login.status_code == 200:
                self.headers = {"Authorization": f"Bearer {login.json()['access_token']}"}


@pytest.fixture(scope="module")
def signed_in(stack: Stack) -> SignedInUser:
    return SignedInUser(stack.url("gateway"))


# What schemathesis rarely draws but clients do send: the values behind each 500 this suite has found.
HOSTILE_TEXT = st.one_of(
    st.sampled_from(
        [
            "\x00",
            "nul\x00inside",
            "line\r\nbreak",
            "\x1b[2J",
            "\x85\u2028",
            "\ud800",
            EMOJI * 200,
            EMOJI * 201,
            EMOJI * 10_000,
            "é" * 73,
            "x" * 10_000,
            "%00%ff",
            " ",
        ]
    ),
    st.text(st.characters(codec=None), max_size=300),
)
HOSTILE_NUMBERS = st.one_of(
    st.sampled_from([0, -1, 2**31, 2**32, 2**63, 2**64, 10**20, 10**30, -(10**30)]), st.integers()
)


def hostile_value(draw, value, utf8_only: bool):
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return draw(HOSTILE_NUMBERS)
    # A URL or a form cannot carry a lone surrogate at all (it is not UTF-8): only a JSON escape can.
    text = HOSTILE_TEXT.filter(lambda t: not _has_surrogate(t)) if utf8_only else HOSTILE_TEXT
    return draw(st.one_of(text, HOSTILE_NUMBERS))


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= character <= "\udfff" for character in text)


@st.composite
def made_hostile(draw, case: schemathesis.Case) -> schemathesis.Case:
    """`case` with one of its path, query or body values (sometimes more) swapped for a hostile one.

    One at a time, mostly: a request with several invalid values is refused for the first, and
    the others are never looked at. A query parameter the case left out may be the one.
    """
    if case.query is None:
        case.query = {}
    slots = [("path", case.path_parameters, name) for name in case.path_parameters or {}]
    slots += [("query", case.query, parameter.name) for parameter in case.operation.query]
    if isinstance(case.body, dict):
        slots += [("body", case.body, name) for name in case.body]
    if not slots:
        return case
    chosen = {draw(st.sampled_from(range(len(slots))))}
    if draw(st.integers(0, 3)) == 0:
        chosen |= {index for index in range(len(slots)) if draw(st.booleans())}
    for index in sorted(chosen):
        location, container, name = slots[index]
        in_json = location == "body" and "json" in (case.media_type or "")
        container[name] = hostile_value(draw, container.get(name, ""), utf8_only=not in_json)
    return case


def fuzz(base_url: str, signed_in: SignedInUser, max_examples: int = FUZZ_EXAMPLES) -> list[str]:
    """Fuzz every operation of the document at `base_url`; the failures found, one line each."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    schema.config.update(base_url=base_url, request_timeout=10)
    failures = []
    for result in schema.exclude(path_regex=NOT_FUZZED).get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operation = result.ok()
        strategies = {
            "valid": operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE),
            "invalid": operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE),
            "hostile": operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE).flatmap(
                made_hostile
            ),
        }
        for kind, strategy in strategies.items():

            @seed(FUZZ_SEED)
            @settings(
                max_examples=max_examples,
                deadline=None,
                database=None,
                # A failure is reported as found: shrinking it would cost more than the whole run.
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def run(case: schemathesis.Case) -> None:
                response = case.call(headers=signed_in.headers)
                signed_in.after(case, response)
                case.validate_response(response, checks=CHECKS, headers=signed_in.headers)

            try:
                run()
            except Unsatisfiable:
                pass  # Nothing to make invalid: an operation without parameters or body has no negative case.
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis reports its findings as a group
                failures.append(f"{operation.label} ({kind}): {type(exc).__name__}: {str(exc)[:1500]}")
    return failures


@pytest.mark.parametrize("service", ["gateway", "auth", "task", "notification"])
def test_every_generated_request_is_answered_below_500_and_as_documented(stack: Stack, signed_in, service):
    failures = fuzz(stack.url(service), signed_in)

    assert not failures, "\n\n".join(failures)
