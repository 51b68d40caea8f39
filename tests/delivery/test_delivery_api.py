"""The team's delivery settings and log over HTTP, on a real server process, sending to a
real SMTP server (aiosmtpd) and a real webhook receiver that checks signatures with the
recipe of docs/webhooks.md."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.delivery_receivers import HoldingSmtp, WebhookReceiver, wait_for
from support.server import ServerProcess, free_port, wait_until
from support.teams import Team, new_team

RETRY_S = (0.4, 0.8)


@pytest.fixture
def smtp() -> Iterator[HoldingSmtp]:
    with HoldingSmtp() as server:
        yield server


@pytest.fixture
def server(tmp_path: Path, smtp: HoldingSmtp) -> Iterator[ServerProcess]:
    env = {
        **smtp.env(),
        "DEBRIEF_DELIVERY_POLL_S": "0.1",
        "DEBRIEF_DELIVERY_RETRY_S": ",".join(str(s) for s in RETRY_S),
        "DEBRIEF_DELIVERY_TIMEOUT_S": "3",
    }
    proc = ServerProcess(tmp_path / "data", env=env).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
async def team(server: ServerProcess) -> AsyncIterator[Team]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        yield await new_team(http)


async def queue(team: Team, path: str, body: Any = None) -> str:
    """POST a test message or a replay (202); the delivery's id."""
    answer = await team.call("admin", "POST", path, body)
    assert answer.status_code == 202, answer.text
    found: str = answer.json()["id"]
    return found


async def delivery(team: Team, delivery_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await team.ok("admin", "GET", f"/deliveries/{delivery_id}")
    return found


async def settled(team: Team, delivery_id: str, state: str, timeout: float = 20) -> dict:
    async def reached() -> bool:
        return (await delivery(team, delivery_id))["state"] == state

    await wait_until(reached, timeout)
    return await delivery(team, delivery_id)


async def test_only_admins_and_secrets_stay_secret(team: Team) -> None:
    assert (await team.call("member", "GET", "/channels")).status_code == 403
    assert (await team.call(None, "GET", "/channels")).status_code == 401
    shown = await team.ok("admin", "GET", "/channels")
    assert shown["email"] == {"enabled": False, "from_addr": "", "smtp": None}
    assert shown["server_smtp"] is True and "action-overdue" in shown["events"]

    smtp = {"host": "mail.example.org", "port": 587, "username": "deb", "password": "pa55word"}
    put = {"email": {"enabled": True, "from_addr": "Ops <ops@example.org>", "smtp": smtp}}
    answer = await team.call("admin", "PUT", "/channels", put)
    assert answer.status_code == 200 and "pa55word" not in answer.text
    assert answer.json()["email"]["smtp"]["password_set"] is True
    # Saved again without the password (as the settings form does): the password stays.
    put["email"]["smtp"] = {k: v for k, v in smtp.items() if k != "password"}
    again = await team.ok("admin", "PUT", "/channels", put)
    assert again["email"]["smtp"] == {"host": "mail.example.org", "port": 587,
                                      "starttls": True, "username": "deb",
                                      "password_set": True}  # fmt: skip

    bad_bodies = [
        {"email": {"enabled": True, "smtp": {**smtp, "port": 0}}},
        {"email": {"enabled": True, "smtp": {**smtp, "host": "a b\r\nc"}}},
        {"email": {"enabled": True, "from_addr": "not an address"}},
        {"email": {"enabled": "yes"}},
        {"email": {"enabled": True}, "extra": 1},
    ]
    for body in bad_bodies:
        refused = await team.call("admin", "PUT", "/channels", body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.json()["error"] == "invalid-fields"

    slack_url = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXXabcd"
    body = {"kind": "slack", "url": slack_url, "events": ["action-overdue"]}
    slack = await team.call("admin", "POST", "/webhooks", body)
    assert slack.status_code == 201 and slack.json()["secret"] is None
    body = {"kind": "json", "url": "https://example.org/hook"}
    signed = await team.ok("admin", "POST", "/webhooks", body)
    assert signed["secret"].startswith("whsec_") and signed["events"] == ["*"]
    listed = (await team.call("admin", "GET", "/channels")).text
    assert signed["secret"] not in listed and "XXXXsecret" not in listed
    assert "hooks.slack.com/…abcd" in listed

    for body, error in [
        ({"kind": "json", "url": "ftp://example.org/x"}, "invalid-url"),
        ({"kind": "json", "url": "https://example.org", "events": ["lunch"]}, "unknown-event"),
        ({"kind": "teams", "url": "https://example.org"}, "invalid-fields"),
    ]:
        refused = await team.call("admin", "POST", "/webhooks", body)
        assert refused.status_code == 422 and refused.json()["error"] == error, refused.text
    off = await team.ok("admin", "PATCH", f"/webhooks/{signed['id']}", {"enabled": False})
    assert off["enabled"] is False
    assert (await team.call("admin", "DELETE", f"/webhooks/{signed['id']}")).status_code == 200
    gone = await team.call("admin", "DELETE", f"/webhooks/{signed['id']}")
    assert gone.status_code == 404 and gone.json()["error"] == "unknown-webhook"
    assert (await team.call("admin", "POST", "/webhooks/nope/test")).status_code == 404
    assert (await team.call("admin", "POST", "/deliveries/nope/replay")).status_code == 404
    assert (await team.call("admin", "GET", "/deliveries?limit=0")).status_code == 422


async def test_failing_receiver_retries_with_backoff_then_replay(team: Team) -> None:
    with WebhookReceiver(script=[500]) as receiver:
        hook = await team.ok("admin", "POST", "/webhooks", {"kind": "json", "url": receiver.url})
        receiver.secret = hook["secret"]  # from now on it checks every signature
        queued = await team.call("admin", "POST", f"/webhooks/{hook['id']}/test")
        assert queued.status_code == 202
        delivery_id = queued.json()["delivery_id"]
        sent = await settled(team, delivery_id, "sent")
        first, second = receiver.all()
        assert (first.status, second.status) == (500, 200)
        assert first.verified and second.verified  # each attempt signed anew
        assert second.at - first.at >= RETRY_S[0] * 0.9  # waited for the backoff
        assert first.headers["X-Debrief-Delivery"] == delivery_id
        assert [a["ok"] for a in sent["attempts"]] == [False, True]
        assert "HTTP 500" in sent["attempts"][0]["detail"]

        log = await team.ok("admin", "GET", "/deliveries?limit=10")
        assert log["total"] == 1 and log["deliveries"][0]["id"] == delivery_id
        assert log["deliveries"][0]["state"] == "sent"
        assert len(log["deliveries"][0]["attempts"]) == 2

        assert (
            await team.call("member", "POST", f"/deliveries/{delivery_id}/replay")
        ).status_code == 403
        replayed = await team.call("admin", "POST", f"/deliveries/{delivery_id}/replay")
        assert replayed.status_code == 202 and replayed.json()["state"] in (
            "queued",
            "sending",
            "sent",
        )
        again = await wait_for(receiver.taken, 2)
        assert again[1].headers["X-Debrief-Delivery"] == f"{delivery_id}-r1" and again[1].verified
        done = await settled(team, delivery_id, "sent")
        assert [a["ok"] for a in done["attempts"]] == [False, True, True]


async def test_retries_run_out_then_dead(team: Team) -> None:
    with WebhookReceiver(script=[500, 502, 503]) as receiver:
        hook = await team.ok("admin", "POST", "/webhooks", {"kind": "mattermost",
                                                            "url": receiver.url})  # fmt: skip
        delivery_id = await queue(team, f"/webhooks/{hook['id']}/test")
        dead = await settled(team, delivery_id, "dead")
        assert [a["ok"] for a in dead["attempts"]] == [False, False, False]
        assert len(receiver.all()) == 3
        assert set(json.loads(receiver.all()[0].raw)) == {"text"}


async def test_bad_channel_config_fails_that_delivery_alone(team: Team, smtp: HoldingSmtp) -> None:
    closed_port = free_port()  # nobody listens there
    put = {"email": {"enabled": True, "smtp": {"host": "127.0.0.1", "port": closed_port,
                                                "starttls": False}}}  # fmt: skip
    await team.ok("admin", "PUT", "/channels", put)
    with WebhookReceiver() as receiver:
        hook = await team.ok("admin", "POST", "/webhooks", {"kind": "slack", "url": receiver.url})
        broken = await queue(team, "/channels/email/test", {"to": "ana@example.org"})
        fine = await queue(team, f"/webhooks/{hook['id']}/test")
        await settled(team, fine, "sent")
        failed = await settled(team, broken, "failed")
        assert f"127.0.0.1:{closed_port}" in failed["attempts"][0]["detail"]
        assert len(receiver.taken()) == 1
    # The admin fixes it (the server's own SMTP server) and sends the test again.
    await team.ok("admin", "PUT", "/channels", {"email": {"enabled": True, "smtp": None}})
    again = await queue(team, "/channels/email/test", {"to": "ana@example.org"})
    [mail] = await wait_for(smtp.got)
    assert mail.rcpt == ["ana@example.org"] and mail.message_id == f"<{again}@debrief>"
    assert mail.message["From"] == "Debrief <debrief@example.org>"
    assert (
        await team.call("admin", "POST", "/channels/email/test", {"to": "x"})
    ).status_code == 422


async def test_openapi_lists_the_delivery_routes(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        paths = (await http.get("/api/openapi.json")).json()["paths"]
    base = "/api/teams/{team_id}"
    assert {"get", "put"} <= set(paths[f"{base}/channels"])
    assert "post" in paths[f"{base}/webhooks"]
    assert {"patch", "delete"} <= set(paths[f"{base}/webhooks/{{webhook_id}}"])
    assert "post" in paths[f"{base}/webhooks/{{webhook_id}}/test"]
    assert "get" in paths[f"{base}/deliveries"]
    assert "post" in paths[f"{base}/deliveries/{{delivery_id}}/replay"]
