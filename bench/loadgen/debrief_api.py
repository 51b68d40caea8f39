"""Debrief's HTTP API as the benchmarks use it: create reviews, join them (bearer tokens)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import httpx

from .plan import DocRef, Target

DOC = "timeline"  # participants may write it


def post_reviews(target: Target, count: int, prefix: str) -> list[dict[str, Any]]:
    """``POST /api/reviews`` ``count`` times (titles "<prefix> <i>"), on the processes of a
    scale-out cluster in turn; returns the answers (id, invites, ...) in order."""
    created: list[dict[str, Any]] = []
    with httpx.Client(timeout=30) as http:
        for i in range(count):
            url = f"{target.for_client(i).http_base}/api/reviews"
            resp = http.post(url, json={"title": f"{prefix} {i}"})
            if resp.status_code != 201:
                raise RuntimeError(f"POST /api/reviews -> {resp.status_code}: {resp.text[:200]}")
            created.append(resp.json())
    return created


def create_reviews(target: Target, count: int, prefix: str) -> list[DocRef]:
    """Create ``count`` reviews; each becomes one benchmark doc (its ``timeline``)."""
    return [
        DocRef(name=f"{body['id']}/{DOC}", review_id=body["id"],
               invite=body["invites"]["participant"])
        for body in post_reviews(target, count, prefix)
    ]  # fmt: skip


async def join_all(
    targets: Sequence[Target],
    invites: list[str],
    concurrency: int = 32,
    name_prefix: str = "bench",
) -> list[str]:
    """One ``POST /api/join`` per entry of ``invites``, sent to the server process of the same
    index in ``targets``; returns the bearer tokens in order."""
    if len(targets) != len(invites):
        raise ValueError("one target per invite")
    sem = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:

        async def join(i: int, invite: str) -> str:
            body = {"invite": invite, "name": f"{name_prefix}-{i}"}
            url = f"{targets[i].http_base}/api/join"
            problem = ""
            async with sem:
                for attempt in range(4):  # bounded; keep-alive races and 5xx are retried
                    try:
                        resp = await http.post(url, json=body)
                    except httpx.TransportError as exc:
                        problem = f"{type(exc).__name__}: {exc}"
                    else:
                        if resp.status_code == 200:
                            return str(resp.json()["token"])
                        problem = f"{resp.status_code}: {resp.text[:200]}"
                        if resp.status_code < 500:
                            break
                    await asyncio.sleep(0.2 * (attempt + 1))
            raise RuntimeError(f"POST /api/join failed: {problem}")

        return list(await asyncio.gather(*(join(i, inv) for i, inv in enumerate(invites))))


def ws_url(target: Target, doc: DocRef) -> str:
    """The websocket URL a client opens for ``doc`` on ``target``."""
    if target.debrief:
        return f"{target.ws_base}/ws/{doc.review_id}/{DOC}"
    if target.kind == "hocuspocus":
        return f"{target.ws_base}/"  # the doc name travels in every frame
    return f"{target.ws_base}/{doc.name}"
