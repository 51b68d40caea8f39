"""Bad input gets a clear error, and nobody else in the room is disturbed."""

from __future__ import annotations

import httpx
import pytest
import websockets
from pycrdt import Map

from debrief.protocol import update_frame
from support.api import create_review, join, participant_review
from support.server import ServerProcess
from support.yclient import YClient, synced_client


async def room_of_two(server: ServerProcess) -> tuple[str, YClient, YClient, str]:
    review, tok = await participant_review(server.url)
    good = await synced_client(server.ws_url, review["id"], "timeline", tok)
    bad = await synced_client(server.ws_url, review["id"], "timeline", tok)
    good.doc.get("m", type=Map)["before"] = 1
    await bad.wait_for(lambda: "before" in bad.doc.get("m", type=Map))
    return review["id"], good, bad, tok


async def still_works(server: ServerProcess, review_id: str, good: YClient, tok: str) -> None:
    other = await synced_client(server.ws_url, review_id, "timeline", tok)
    assert other.doc.get("m", type=Map).to_py() == {"before": 1}
    good.doc.get("m", type=Map)["after"] = 2
    await other.wait_for(lambda: "after" in other.doc.get("m", type=Map))
    await other.close()
    await good.close()


@pytest.mark.parametrize(
    "frame",
    [
        b"",  # empty
        b"\x09\x00",  # unknown message type
        b"\x00\x07\x00",  # unknown sync type
        b"\x00\x02\x10abc",  # length prefix past the end
        update_frame(b"\x05\xff\xff garbage that is not a Yjs update"),
        b"\x01\x05\x01\x01\x01",  # truncated awareness
        b"\x00\x00\x01\x00extra",  # trailing bytes
    ],
)
async def test_malformed_frame_closes_1002(server: ServerProcess, frame: bytes) -> None:
    review_id, good, bad, tok = await room_of_two(server)
    await bad.send_raw(frame)
    assert await bad.wait_closed() == 1002
    assert "malformed" in bad.close_reason
    await still_works(server, review_id, good, tok)


async def test_text_frame_closes_1003(server: ServerProcess) -> None:
    review_id, good, bad, tok = await room_of_two(server)
    await bad.send_raw("hello")
    assert await bad.wait_closed() == 1003
    await still_works(server, review_id, good, tok)


async def test_oversized_frame_closes_1009(server: ServerProcess) -> None:
    review_id, good, bad, tok = await room_of_two(server)
    await bad.send_raw(update_frame(b"\x00" * (1024 * 1024 + 10)))
    assert await bad.wait_closed() == 1009
    await still_works(server, review_id, good, tok)


async def test_no_or_bad_credentials_close_4401(server: ServerProcess) -> None:
    review = await create_review(server.url)
    for token in (None, "not-a-token"):
        c = await YClient(server.ws_url, review["id"], "timeline", token).connect()
        assert await c.wait_closed() == 4401


async def test_unknown_doc_and_review_close_4404(server: ServerProcess) -> None:
    review, tok = await participant_review(server.url)
    for rid, doc in ((review["id"], "secrets"), ("r_nope", "timeline")):
        c = await YClient(server.ws_url, rid, doc, tok).connect()
        assert await c.wait_closed() == 4404


async def test_session_of_another_review_closes_4403(server: ServerProcess) -> None:
    one, two = await create_review(server.url), await create_review(server.url)
    tok = (await join(server.url, one["invites"]["participant"]))["token"]
    c = await YClient(server.ws_url, two["id"], "timeline", tok).connect()
    assert await c.wait_closed() == 4403


@pytest.mark.parametrize("path", ["/ws/a/b/c", "/ws/only-one", "/ws/", "/no-such-socket"])
async def test_a_websocket_to_no_doc_is_refused_with_403(server: ServerProcess, path: str) -> None:
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(server.ws_url + path)
    assert refused.value.response.status_code == 403


async def test_cookie_from_foreign_origin_is_refused_before_accept(server: ServerProcess) -> None:
    review, tok = await participant_review(server.url)
    cookie = {"Cookie": f"debrief_session={tok}"}
    url = f"{server.ws_url}/ws/{review['id']}/timeline"
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(url, additional_headers=cookie, origin="http://evil.example")
    assert refused.value.response.status_code == 403
    same = await YClient(
        server.ws_url, review["id"], "timeline", None, headers={**cookie, "Origin": server.url}
    ).connect()
    await same.wait_synced()
    await same.close()


async def test_api_errors_are_json(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        cases = [
            (await http.post("/api/reviews", content=b"{nope"), 400, "bad-json"),
            (await http.post("/api/reviews", json={"title": ""}), 422, "invalid-fields"),
            (
                await http.post("/api/reviews", json={"title": "x", "extra": 1}),
                422,
                "invalid-fields",
            ),
            (await http.post("/api/reviews", json=["x"]), 422, "invalid-fields"),
            (await http.post("/api/join", json={"invite": "nope"}), 403, "invite-invalid"),
            (await http.post("/api/join", json={}), 422, "invalid-fields"),
            (await http.get("/api/nowhere"), 404, "not-found"),
            (await http.get("/api/reviews"), 405, "method-not-allowed"),
        ]
    for response, status, error in cases:
        assert response.status_code == status, response.text
        assert response.json()["error"] == error
        assert response.json()["detail"]
