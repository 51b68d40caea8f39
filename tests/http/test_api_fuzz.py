"""Schema-driven fuzzing of the whole HTTP API (issue 10) against a real server process.

Every operation of our OpenAPI document gets valid and invalid requests generated from
it (Schemathesis), sent as each role of a live review, as nobody, as a session of another
review, with a forged token and with a cookie. No answer may be a 5xx, every refusal is
the JSON error, answers match the statuses, media types and shapes the document states,
and the process is alive and healthy afterwards. The generation is derandomized, so a
failure here fails the same way on every run.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from http import cookiejar as http_cookiejar
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from debrief.http.openapi import build_schema
from support.fuzz import (
    FUZZ_ENV,
    IDENTITIES,
    Target,
    aim,
    error_is_json,
    open_target,
    unbounded,
)
from support.server import ServerProcess

DOCUMENT = build_schema()
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
OPERATIONS = {op.label: op for op in (r.ok() for r in SCHEMA.get_all_operations())}
CHECKS = [
    not_a_server_error,
    error_is_json,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
    unsupported_method,
]
# A success of these changes who may do what (closed review, ended sessions): the rest
# of the run gets a fresh review.
RESETS = ("/close", "/invites/rotate", "/revoke")
EXAMPLES = 30
REVIEW_FIELDS = (
    "title",
    "scope",
    "baseline_metrics",
    "evidence_links",
    "settings",
    "questionnaire",
    "schedule",
    "attendees",
    "recap_recipients",
)


def first(options: Sequence[Any]) -> Any:
    return options[0]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("fuzz") / "data", env=FUZZ_ENV).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def assert_alive(server: ServerProcess, http: httpx.Client) -> None:
    assert server.proc is not None and server.proc.poll() is None, server.log_path.read_text()
    assert http.get("/healthz").status_code == 200


def test_served_document_is_the_one_fuzzed(http: httpx.Client) -> None:
    served = http.get("/api/openapi.json")
    assert served.status_code == 200
    assert served.json() == httpx.Response(200, json=DOCUMENT).json()  # as JSON, not by type


def test_every_request_field_is_bounded() -> None:
    """What the document promises about sizes is what the fuzzing tests at the edges;
    a field without a bound is one the coverage pass cannot push past its limit."""
    found = [
        f"{name}{where}"
        for name, schema in DOCUMENT["components"]["schemas"].items()
        if name != "Error"
        for where in unbounded(schema)
    ]
    # The review's editable fields take several shapes each; review.apply_review_patch
    # checks their content and size (422), inside the request body limit (413).
    patch = [f"ReviewPatch.{field}: any value" for field in REVIEW_FIELDS]
    assert sorted(found) == sorted(patch)


def send(case: schemathesis.Case, who: str, server: ServerProcess, state: State) -> int:
    """Send one case as `who`, check the answer, and start afresh after a reset."""
    target = state.target
    # Credentials come from the identity alone: a generated Authorization header that is
    # not a bearer token would leave the identity's cookie in charge, and Schemathesis
    # would read that success as "generated auth accepted".
    if case.headers:
        case.headers = {k: v for k, v in case.headers.items() if k.lower() != "authorization"}
    if case.cookies:
        case.cookies = {
            k: v for k, v in case.cookies.items() if not k.startswith("debrief_session")
        }
    response = case.call_and_validate(
        base_url=server.url,
        session=state.session,
        headers=target.headers(who),
        cookies=target.cookies(who),
        checks=CHECKS,
        timeout=30,
    )
    if response.status_code < 300 and case.operation.path.endswith(RESETS):
        state.target = open_target(state.http)
    return response.status_code


@dataclass
class State:
    target: Target
    http: httpx.Client
    session: requests.Session


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_operation(label: str, server: ServerProcess, http: httpx.Client) -> None:
    operation = OPERATIONS[label]
    allowed = operation.definition.raw.get("x-roles") or ["nobody"]
    with requests.Session() as session:
        # Keep no cookie a join sets (one per review): each case carries exactly the
        # credentials it is sent with, so "invalid auth" really is invalid.
        session.cookies.set_policy(http_cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        state = State(open_target(http), http, session)
        # Coverage: boundary values and each way to break the schema, as a role allowed
        # to call the operation, so they reach the handler.
        config = SCHEMA.config.generation_for(operation=operation)
        modes = list(GenerationMode)
        for i, case in enumerate(
            SCHEMA.iter_coverage_cases(operation, generation_modes=modes, generation_config=config)
        ):
            aim(case, state.target, first)
            send(case, allowed[i % len(allowed)], server, state)

        # Fuzzing: random valid and invalid requests from anyone.
        cases = st.one_of(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )
        senders = st.sampled_from([*allowed, *allowed, *IDENTITIES])

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=cases, who=senders, data=st.data())
        def fuzz(case: schemathesis.Case, who: str, data: st.DataObject) -> None:
            aim(case, state.target, lambda options: data.draw(st.sampled_from(options)))
            send(case, who, server, state)

        fuzz()
    assert_alive(server, http)


def test_the_server_outlived_the_fuzzing(server: ServerProcess, http: httpx.Client) -> None:
    assert_alive(server, http)
    assert "Traceback" not in server.log_path.read_text(errors="replace")
