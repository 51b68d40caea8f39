"""Server CPU per meeting command (issue 15), without websocket clients.

The `meeting` scenario's throughput phase, cut down to what survives a loaded box: a fresh
server (``debrief``: SQLite; ``debrief-redis``: 2 processes + Redis), ``reviews`` reviews
of ``people`` participants, ``connections`` keep-alive connections (lean_http.py) sending
one kind of command as fast as they go; printed: the server's CPU (all its processes) per
command, and the statuses. Each participant's commands go over one connection in order,
so a vote's retract follows its cast. With ``--builds A,B`` each build gets its own
server and they are loaded by turns in short slices (A B B A A B ...), so that whatever
else the machine runs weighs on both alike.

    .venv/bin/python -m bench.loadgen.meeting_cpu --servers debrief,debrief-redis \
        --commands note,vote,phase,timer [--builds OLD_EXE,NEW_EXE] [--profile DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

from . import debrief_api, procstat, profiling, servers
from .lean_http import LeanHttp, build_request
from .meeting import COMMAND_LIMITS, create_reviews
from .meeting_gen import NOTE_BODY, MeetingReview
from .plan import Target

COMMANDS = ("note", "vote", "phase", "timer")


async def _tokens(target: Target, reviews: list[MeetingReview], people: int) -> list[list[str]]:
    """Per review: the moderator's token first, then its participants'."""
    invites = [
        r.moderator_invite if i == 0 else r.participant_invite
        for r in reviews
        for i in range(people + 1)
    ]
    targets = [target.for_client(i // (people + 1)) for i in range(len(invites))]
    flat = await debrief_api.join_all(targets, invites, name_prefix="cpu")
    return [flat[i * (people + 1) : (i + 1) * (people + 1)] for i in range(len(reviews))]


def _prepare_votes(target: Target, review: MeetingReview, tokens: list[str]) -> str:
    """Reveal one note and open voting on it; its id is the vote target."""
    base = f"{target.for_client(review.index).http_base}/api/reviews/{review.review_id}"
    mod = {"Authorization": f"Bearer {tokens[0]}"}
    part = {"Authorization": f"Bearer {tokens[1]}"}
    with httpx.Client(timeout=30) as http:
        http.post(f"{base}/notes", json={"kind": "worked-well", "text": "x"}, headers=part)
        http.post(f"{base}/reveal", json={"section": "worked-well"}, headers=mod)
        http.post(f"{base}/voting/open", json={"section": "worked-well"}, headers=mod)
        revealed = http.get(f"{base}/notes/mine", headers=part).json()["notes"][0]["id"]
    return str(revealed)


def _agenda(target: Target, review: MeetingReview, token: str) -> list[str]:
    base = f"{target.for_client(review.index).http_base}/api/reviews/{review.review_id}"
    with httpx.Client(timeout=30) as http:
        body = http.get(f"{base}/agenda", headers={"Authorization": f"Bearer {token}"}).json()
    return [str(item["id"]) for item in body["agenda"]]


def _requests(
    command: str, target: Target, reviews: list[MeetingReview], tokens: list[list[str]]
) -> list[list[bytes]]:
    """Per sender (a participant, or a review's moderator): the requests it cycles through."""
    out: list[list[bytes]] = []
    for review, toks in zip(reviews, tokens, strict=True):
        t = target.for_client(review.index)
        host = f"{t.host}:{t.port}"
        base = f"/api/reviews/{review.review_id}"
        if command == "note":
            out += [[build_request("POST", f"{base}/notes", host, tok, NOTE_BODY)]
                    for tok in toks[1:]]  # fmt: skip
        elif command == "vote":
            body = {"target": _prepare_votes(target, review, toks)}
            out += [[build_request("POST", f"{base}/votes", host, tok, body),
                     build_request("POST", f"{base}/votes/retract", host, tok, body)]
                    for tok in toks[1:]]  # fmt: skip
        elif command == "phase":
            ids = _agenda(target, review, toks[0])[:2]
            out.append([build_request("POST", f"{base}/phase", host, toks[0], {"phase_id": i})
                        for i in ids])  # fmt: skip
        elif command == "timer":
            out.append([build_request("POST", f"{base}/timer/start", host, toks[0],
                                      {"minutes": 5}),
                        build_request("POST", f"{base}/timer/reset", host, toks[0])])  # fmt: skip
        else:
            raise ValueError(f"unknown command {command!r}")
    return out


class Load:
    """One server build under test: its keep-alive connections, each with the requests it
    cycles through, and what its slices of load counted."""

    def __init__(self, label: str, server: servers.RunningServer, senders: list[list[bytes]]):
        self.label, self.server, self.senders = label, server, senders
        self.conns: list[LeanHttp] = []
        self.plans: list[list[bytes]] = []
        # Where each connection's plan goes on in the next slice: a slice that ends
        # between a vote and its retraction (or a timer's start and reset) must not
        # leave the vote behind, or the voter runs out of votes slices later (409s).
        self.next_at: list[int] = []
        self.done = 0
        self.cpu_s = 0.0
        self.redis_cpu_s = 0.0  # the scale-out setup's Redis, apart from the servers'
        self.statuses: Counter[int] = Counter()

    async def open(self, connections: int) -> None:
        n = min(connections, len(self.senders))
        # connection i sends its senders' requests in turn, each sender's in its own order
        self.plans = [[req for reqs in self.senders[i::n] for req in reqs] for i in range(n)]
        self.next_at = [0] * n
        await self._connect()
        for c, plan in zip(self.conns, self.plans, strict=True):  # warm-up: one round each
            for req in plan:
                await c.request(req)
        self.close()

    async def _connect(self) -> None:
        target = self.server.target
        self.conns = [
            await LeanHttp.open(target.host, target.for_client(i).port)
            for i in range(len(self.plans))
        ]

    async def slice(self, seconds: float, profile: Path | None) -> None:
        """Load for ``seconds``; adds what completed and the server's CPU meanwhile."""
        await self._connect()  # anew: the server closes keep-alive connections left idle
        pids = self.server.pids
        profiler = profiling.Profiler(pids[0], profile) if profile else None
        cpu0 = procstat.sample_all(pids).cpu_s
        redis = [self.server.redis_pid] if self.server.redis_pid else []
        redis0 = procstat.sample_all(redis).cpu_s
        end = time.monotonic() + seconds

        async def loop(i: int, c: LeanHttp, plan: list[bytes]) -> None:
            at = self.next_at[i]
            while time.monotonic() < end:
                status, _ = await c.request(plan[at])
                at = (at + 1) % len(plan)
                self.statuses[status] += 1
                self.done += 1
            self.next_at[i] = at

        await asyncio.gather(
            *(loop(i, c, p) for i, (c, p) in enumerate(zip(self.conns, self.plans, strict=True)))
        )
        self.cpu_s += procstat.sample_all(pids).cpu_s - cpu0
        self.redis_cpu_s += procstat.sample_all(redis).cpu_s - redis0
        if profiler is not None:
            profiler.stop()
        self.close()

    def close(self) -> None:
        for c in self.conns:
            c.close()

    def line(self, kind: str, command: str, seconds: float) -> str:
        per = 1000 * self.cpu_s / self.done if self.done else float("nan")
        codes = ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items()))
        redis = ""
        if self.server.redis_pid is not None and self.done:
            redis = f", Redis {1000 * self.redis_cpu_s / self.done:4.2f}"
        return (
            f"{kind:13} {command:6} {self.label:8} {self.done / seconds:6.0f}/s  server CPU "
            f"{per:5.2f} ms per command{redis} ({self.cpu_s:.1f} s / {self.done})  "
            f"statuses {codes}"
        )


def _start(kind: str, exe: str, log_dir: Path) -> servers.RunningServer:
    if exe:
        os.environ["DEBRIEF_BENCH_EXE"] = exe
    else:
        os.environ.pop("DEBRIEF_BENCH_EXE", None)
    return servers.start(kind, log_dir)  # type: ignore[arg-type]


def run(kind: str, command: str, args: argparse.Namespace) -> str:
    """Each build's server set up alike, then loaded by turns in short slices, so that
    the rest of the machine weighs on every build alike."""
    for k, v in COMMAND_LIMITS.items():
        os.environ.setdefault(k, v)
    log_dir = Path(tempfile.mkdtemp(prefix="debrief-cpu-"))
    builds = args.builds.split(",") if args.builds else [""]
    loads: list[Load] = []
    try:
        for i, exe in enumerate(builds):
            server = _start(kind, exe, log_dir)
            loads.append(Load(f"build{i}" if exe else "this", server, []))
            reviews = create_reviews(server.target, args.reviews)
            tokens = asyncio.run(_tokens(server.target, reviews, args.people))
            loads[-1].senders = _requests(command, server.target, reviews, tokens)
        load0 = os.getloadavg()[0]
        asyncio.run(_slices(loads, kind, command, args))
    finally:
        for load in loads:
            load.server.stop()
    seconds = args.seconds * args.slices
    lines = [f"{load.line(kind, command, seconds)}  load {load0:.1f}" for load in loads]
    if args.profile:
        for load in loads:
            lines.append(f"-- {load.label} ({builds[loads.index(load)] or 'this tree'})")
            lines.append(profiling.summarise(_profile_path(args, kind, command, load), args.top))
    return "\n".join(lines)


def _profile_path(args: argparse.Namespace, kind: str, command: str, load: Load) -> Path:
    return Path(args.profile) / f"{kind}-{command}-{load.label}.txt"


async def _slices(loads: list[Load], kind: str, command: str, args: argparse.Namespace) -> None:
    for load in loads:
        await load.open(args.connections)
    for i in range(args.slices):
        for load in loads if i % 2 == 0 else loads[::-1]:
            # py-spy samples the middle slice only (attaching costs a little)
            profile = i == args.slices // 2 and args.profile
            path = _profile_path(args, kind, command, load) if profile else None
            await load.slice(args.seconds, path)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--servers", default="debrief")
    ap.add_argument("--commands", default="note")
    ap.add_argument("--reviews", type=int, default=50)
    ap.add_argument("--people", type=int, default=8)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=2.0, help="per slice")
    ap.add_argument("--slices", type=int, default=4, help="per build, taken by turns")
    ap.add_argument(
        "--builds",
        default="",
        help="debrief executables to compare, by commas (empty: this tree's); each gets its "
        "own server",
    )
    ap.add_argument("--profile", default="", help="a folder: py-spy each run into it")
    ap.add_argument("--top", type=int, default=30)
    args = ap.parse_args()
    for kind in args.servers.split(","):
        for command in args.commands.split(","):
            print(run(kind, command, args), flush=True)


if __name__ == "__main__":
    main()
