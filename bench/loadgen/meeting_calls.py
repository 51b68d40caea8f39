"""Storage calls per meeting command (issue 15): what each command asks of the store.

Runs the app in this process (Starlette's TestClient), sets a review up as the meeting
bench does, then sends each command a few times and counts the calls into the storage
object (and, on Redis, the round trips: each ``RedisStorage.call``, a pipeline counting
once; a lock's SET NX (with the records ``lock_reading`` reads) and its release are two).

    .venv/bin/python bench/loadgen/meeting_calls.py            # SQLite and Redis (6379, db 0,
                                                             # a fresh key prefix)
    .venv/bin/python bench/loadgen/meeting_calls.py --backends sqlite
"""

from __future__ import annotations

import argparse
import inspect
import os
import secrets
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from debrief.app import create_app
from debrief.settings import Settings

ROUNDS = 5
# Not storage calls: the SQLite threads' hops (shown), and locks (in-process on SQLite; on
# Redis their SET NX, reads and release are in the round trips).
LOCAL = ("_read", "_write", "lock", "lock_reading")


def _count(storage: Any, counts: Counter[str]) -> None:
    """Wrap every public coroutine method of ``storage`` (and ``call``) to count it."""
    for name, fn in inspect.getmembers(storage, inspect.iscoroutinefunction):
        if name.startswith("_") and name != "_write" and name != "_read":
            continue

        def wrapped(*args: Any, _fn: Callable[..., Any] = fn, _name: str = name, **kw: Any) -> Any:
            counts[_name] += 1
            return _fn(*args, **kw)

        setattr(storage, name, wrapped)
    for name in ("lock", "lock_reading"):  # context managers: counted, not storage calls
        fn = getattr(storage, name, None)
        if fn is None:  # older builds
            continue

        def entered(*args: Any, _fn: Callable[..., Any] = fn, _name: str = name, **kw: Any) -> Any:
            counts[_name] += 1
            return _fn(*args, **kw)

        setattr(storage, name, entered)


def measure(backend: str) -> dict[str, Counter[str]]:
    os.environ.setdefault("DEBRIEF_RATE_SESSION", "1000000/second")
    data = Path(tempfile.mkdtemp(prefix="debrief-calls-"))
    settings = Settings(host="127.0.0.1", port=0)
    settings.data_dir = data
    if backend == "redis":
        settings.redis_url = "redis://127.0.0.1:6379/0"
        os.environ["DEBRIEF_REDIS_PREFIX"] = f"debrief-calls-{secrets.token_hex(4)}:"
    app = create_app(settings)
    per: dict[str, Counter[str]] = {}
    with TestClient(app) as http:
        created = http.post("/api/reviews", json={"title": "calls"}).json()
        rid = created["id"]

        def join(role: str) -> dict[str, str]:
            tok = http.post("/api/join", json={"invite": created["invites"][role]}).json()
            return {"Authorization": f"Bearer {tok['token']}"}

        mod, part = join("moderator"), join("participant")
        base = f"/api/reviews/{rid}"
        http.post(f"{base}/notes", json={"kind": "worked-well", "text": "x"}, headers=part)
        http.post(f"{base}/reveal", json={"section": "worked-well"}, headers=mod)
        http.post(f"{base}/voting/open", json={"section": "worked-well"}, headers=mod)
        for i in range(20):
            http.post(f"{base}/notes", json={"kind": "other", "text": f"n{i}"}, headers=part)
        agenda = http.get(f"{base}/agenda", headers=mod).json()["agenda"]
        target = http.get(f"{base}/notes/mine", headers=part).json()["notes"][0]["id"]
        storage = app.app.state.services.storage  # DocSockets wraps the Starlette app
        counts: Counter[str] = Counter()
        _count(storage, counts)
        commands: list[tuple[str, Callable[[int], Any]]] = [
            ("note", lambda i: http.post(f"{base}/notes", json={"kind": "contributing-factor",
                                                                 "text": "n"}, headers=part)),
            ("vote", lambda i: http.post(f"{base}/votes" if i % 2 == 0 else f"{base}/votes/retract",
                                         json={"target": target}, headers=part)),
            ("phase", lambda i: http.post(f"{base}/phase",
                                          json={"phase_id": agenda[i % 2]["id"]}, headers=mod)),
            ("timer", lambda i: http.post(f"{base}/timer/start" if i % 2 == 0
                                          else f"{base}/timer/reset", json={"minutes": 5}
                                          if i % 2 == 0 else None, headers=mod)),
        ]  # fmt: skip
        for name, send in commands:
            counts.clear()
            for i in range(ROUNDS):
                resp = send(i)
                assert resp.status_code < 300, (name, resp.status_code, resp.text)
            per[name] = Counter({k: v / ROUNDS for k, v in counts.items()})
        counts.clear()
        resp = http.post(f"{base}/reveal", json={"section": "other"}, headers=mod)
        assert resp.status_code == 200, resp.text
        per["reveal (20 notes)"] = Counter(counts)
    return per


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backends", default="sqlite,redis")
    args = ap.parse_args()
    for backend in args.backends.split(","):
        for name, counts in measure(backend).items():
            trips = counts.pop("call", None)
            detail = ", ".join(f"{k} {v:g}" for k, v in sorted(counts.items()))
            total = sum(v for k, v in counts.items() if k not in LOCAL)
            extra = f"; Redis round trips {trips:g}" if trips is not None else ""
            print(f"{backend:6} {name:18} {total:g} storage calls{extra}: {detail}")


if __name__ == "__main__":
    main()
