"""Web app load (issue 15): how soon the meeting view is usable after opening its link.

A real `debrief serve` (temp data dir) per web build, a review with realistic content made
through the HTTP API (an incident agenda at "Contributing factors", 40 imported timeline
events, 24 revealed notes in 3 themes, 2 private notes of the measured participant), then
the participant's review link opened in Debian's Chromium, each load in a fresh browser
context (empty HTTP cache, no code cache), with the CPU slowed 4x through CDP
(`Emulation.setCPUThrottlingRate`) and without throttling. Network: loopback, not throttled,
unless --latency MS adds that much to each request's wait for its answer (CDP network
emulation; websocket handshakes included, frames on an open websocket not).

"Usable" is measured the same way for every build, by a probe the bench injects (so builds
without the app's own marker can be compared): the end of the first frame (its layout and
paint done) that starts with
  - the meeting view in the DOM (`main.meeting`),
  - the participant's note box there and enabled (`main.meeting textarea:not([disabled])`),
  - and all three docs (room, timeline, recap) synced with the server
    (`window.debrief.synced(doc)`, the review handle the app exposes).
Times are from navigation start (performance.timeOrigin). The app's own
`debrief:meeting-ready` mark (set with `data-ready` on `main.meeting`) is reported beside it
where the build has it.

    .venv/bin/python bench/web_load.py                       # web/dist, 10 loads per mode
    .venv/bin/python bench/web_load.py --loads 20 --build before=/tmp/old --build after=web/dist
    .venv/bin/python bench/web_load.py --trace bench/results/web-trace  # + a traced load per mode

Builds given with --build are measured interleaved (load i of every build, then load i+1).
With --trace, one extra load per build and mode is recorded as a Chromium trace (open it in
the DevTools Performance panel) and its script parse/compile/evaluate time is summarised.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, CDPSession, sync_playwright
from playwright.sync_api import Error as PlaywrightError

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from loadgen import procstat, servers  # noqa: E402

CHROMIUM = os.environ.get("DEBRIEF_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1366, "height": 900}
MODES = {"4x": 4.0, "1x": 1.0}
READY_TIMEOUT_MS = 30_000

# Runs in the page before any of its scripts: checks "usable" once per animation frame and
# keeps the largest contentful paint seen so far.
PROBE = """
(() => {
  const probe = { usableMs: null, lcpMs: null }
  probe.done = new Promise((resolve) => (probe.resolve = resolve))
  window.__webLoad = probe
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) probe.lcpMs = e.startTime
    }).observe({ type: 'largest-contentful-paint', buffered: true })
  } catch (e) {}
  const docs = ['room', 'timeline', 'recap']
  const check = () => {
    const review = window.debrief
    const usable =
      document.querySelector('main.meeting textarea:not([disabled])') &&
      review && docs.every((d) => review.synced(d))
    // A task queued from the frame's callback runs after that frame's layout and paint:
    // "usable" is when the complete view is on screen, not merely in the DOM.
    if (usable)
      setTimeout(() => {
        probe.usableMs = performance.now()
        probe.resolve(probe.usableMs)
      })
    else requestAnimationFrame(check)
  }
  requestAnimationFrame(check)
})()
"""

COLLECT = """
() => {
  const nav = performance.getEntriesByType('navigation')[0]
  const paints = performance.getEntriesByType('paint')
  const paint = Object.fromEntries(paints.map((e) => [e.name, e.startTime]))
  const mark = performance.getEntriesByName('debrief:meeting-ready')[0]
  const resources = performance.getEntriesByType('resource')
  const scripts = resources.filter((r) => r.initiatorType === 'script' || r.name.endsWith('.js'))
  const sum = (rs, k) => rs.reduce((a, r) => a + (r[k] || 0), 0)
  const before = (ms) => resources.filter((r) => r.startTime < ms).map((r) => ({
    name: r.name.replace(location.origin, ''), type: r.initiatorType,
    start: Math.round(r.startTime), end: Math.round(r.responseEnd),
  }))
  const usable = window.__webLoad.usableMs
  return {
    usable_ms: usable,
    app_mark_ms: mark ? mark.startTime : null,
    fcp_ms: paint['first-contentful-paint'] ?? null,
    lcp_ms: window.__webLoad.lcpMs,
    dom_content_loaded_ms: nav ? nav.domContentLoadedEventEnd : null,
    js_files: scripts.length,
    js_transfer_bytes: sum(scripts, 'transferSize'),
    js_decoded_bytes: sum(scripts, 'decodedBodySize'),
    requests_before_usable: before(usable ?? Infinity),
  }
}
"""


@dataclass
class Build:
    label: str
    dist: Path  # a built web app (web/dist or a copy)
    server: servers.RunningServer | None = None
    url: str = ""  # the participant's review link
    cookie: dict[str, Any] = field(default_factory=dict)


@dataclass
class Load:
    build: str
    mode: str
    usable_ms: float
    app_mark_ms: float | None
    fcp_ms: float | None
    lcp_ms: float | None
    dom_content_loaded_ms: float | None
    script_s: float  # CDP Performance.getMetrics ScriptDuration at "usable"
    task_s: float  # ... TaskDuration (all main-thread work)
    js_files: int
    js_transfer_bytes: int
    js_decoded_bytes: int
    requests_before_usable: list[dict[str, Any]]


# ---------------------------------------------------------------------------- the review


def _ok(resp: httpx.Response) -> Any:
    if resp.status_code >= 300:
        what = f"{resp.request.method} {resp.request.url}"
        raise RuntimeError(f"{what} -> {resp.status_code}: {resp.text[:300]}")
    return resp.json() if resp.content else None


TIMELINE_CSV = "time,text,source\n" + "".join(
    f"2026-11-24T14:{i:02d}:00Z,{text} ({i}),{src}\n"
    for i, (text, src) in enumerate(
        [
            ("Deploy 4812 starts rolling out to the checkout service", "deploy"),
            ("Error rate on POST /checkout rises above 2 %", "alert"),
            ("Pager fires for the checkout on-call", "alert"),
            ("On-call acknowledges and opens the incident channel", "chat"),
            ("Queue depth on payments-worker passes 10k", "alert"),
        ]
        * 8
    )
)

TITLE = "Checkout errors after the Tuesday deploy"
OWN_NOTES = ("Our dashboards lag by two minutes", "I did not know the rollback needed a DB step")
TRACE_CATEGORIES = [
    "devtools.timeline",
    "disabled-by-default-devtools.timeline",
    "v8",
    "v8.execute",
    "blink.user_timing",
    "loading",
    # JS call stacks sampled, as the Performance panel records them
    "disabled-by-default-v8.cpu_profiler",
]

NOTES = [
    "The canary stage only checked the HTTP status, not the payment confirmation rate",
    "The runbook for the payments queue still pointed at the old dashboard",
    "Nobody on the call knew who owned the retry settings of the worker",
    "The deploy went out at 16:55, near the end of the day, with two people on leave",
    "Alert thresholds were tuned for last year's traffic",
    "The rollback needed a manual database step that was not written down",
    "The incident channel had 40 people in it and no one keeping notes",
    "We waited 12 minutes for a second approval to roll back",
]


def seed_review(base: str, browser: Browser) -> tuple[str, dict[str, Any]]:
    """Create the review; return the participant's link and their session cookie."""
    with httpx.Client(base_url=base, timeout=30, headers={"Origin": base}) as mod:
        created = _ok(mod.post("/api/reviews", json={"title": TITLE}))
        rid, invites = created["id"], created["invites"]
        api = f"/api/reviews/{rid}"
        _ok(mod.post("/api/join", json={"invite": invites["moderator"], "name": "Morgan"}))
        _ok(mod.post(f"{api}/status", json={"status": "live"}))
        _ok(mod.post(f"{api}/phase", json={"phase_id": "factors"}))
        timeline = {"content": TIMELINE_CSV, "filename": "timeline.csv"}
        _ok(mod.post(f"{api}/timeline/import", json=timeline))
        for i in range(8):
            with httpx.Client(base_url=base, timeout=30, headers={"Origin": base}) as person:
                joining = {"invite": invites["participant"], "name": f"Person {i}"}
                _ok(person.post("/api/join", json=joining))
                for j in range(3):
                    text = NOTES[(i + j) % len(NOTES)] + f" [{i}.{j}]"
                    _ok(person.post(f"{api}/notes", json={"text": text}))
        _ok(mod.post(f"{api}/reveal", json={"section": "contributing-factor"}))
        revealed = _revealed_ids(browser, base, rid, _cookie(mod, base))
        for t, title in enumerate(["Alerting and canaries", "Ownership", "Rollback path"]):
            theme = _ok(mod.post(f"{api}/themes", json={"title": title, "category": "process-gap"}))
            chosen = revealed[t * 6 : t * 6 + 6]
            assign = {"theme_id": theme["id"], "note_ids": chosen}
            _ok(mod.post(f"{api}/themes/assign", json=assign))
    with httpx.Client(base_url=base, timeout=30, headers={"Origin": base}) as me:
        _ok(me.post("/api/join", json={"invite": invites["participant"], "name": "Pat"}))
        for text in OWN_NOTES:
            _ok(me.post(f"{api}/notes", json={"kind": "worked-well", "text": text}))
        return f"{base}/r/{rid}/meeting", _cookie(me, base)


def _cookie(client: httpx.Client, base: str) -> dict[str, Any]:
    """The session cookie ``client`` got from POST /api/join, for a browser context."""
    ((name, value),) = client.cookies.items()
    return {"name": name, "value": value, "url": base}


def _revealed_ids(browser: Browser, base: str, rid: str, cookie: dict[str, Any]) -> list[str]:
    """Ids of the revealed notes: they live in the room doc only (the board has no GET)."""
    context = browser.new_context()
    try:
        context.add_cookies([cookie])  # type: ignore[list-item]
        page = context.new_page()
        page.goto(f"{base}/r/{rid}/meeting")
        page.wait_for_function("() => window.debrief && window.debrief.synced('room')")
        ids: list[str] = page.evaluate("() => [...window.debrief.docs.room.getMap('notes').keys()]")
        return ids
    finally:
        context.close()


# ---------------------------------------------------------------------------- the loads


def load_once(
    browser: Browser, build: Build, mode: str, trace_to: Path | None = None, latency_ms: float = 0
) -> Load:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        context.add_cookies([build.cookie])  # type: ignore[list-item]
        context.add_init_script(PROBE)
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable")
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": MODES[mode]})
        if latency_ms:
            # Chromium adds it to every request's wait for its answer, websocket handshakes
            # included (not to the frames on an open websocket).
            cdp.send("Network.enable")
            conditions = {"offline": False, "latency": latency_ms}
            cdp.send(
                "Network.emulateNetworkConditions",
                {**conditions, "downloadThroughput": -1, "uploadThroughput": -1},
            )
        if trace_to is not None:
            browser.start_tracing(
                page=page, path=str(trace_to), screenshots=True, categories=TRACE_CATEGORIES
            )
        page.goto(build.url, wait_until="commit")
        await_usable(cdp)
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        # LCP settles on the first input or when the page is hidden; it has had its chance by now.
        got = page.evaluate(COLLECT)
        if trace_to is not None:
            browser.stop_tracing()
        return Load(
            build=build.label,
            mode=mode,
            script_s=metrics.get("ScriptDuration", 0.0),
            task_s=metrics.get("TaskDuration", 0.0),
            **got,
        )
    finally:
        context.close()


# Waits in the page for the probe's promise, through CDP: Playwright's own waits
# (wait_for_function) first evaluate its injected script in the page, ~120 ms of main
# thread at 4x in the middle of the load, which no user's browser runs.
AWAIT_USABLE = """new Promise((resolve) => {
  const wait = () => (window.__webLoad ? window.__webLoad.done.then(resolve) : setTimeout(wait, 5))
  wait()
})"""


def await_usable(cdp: CDPSession) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_MS / 1000
    while True:
        try:
            got = cdp.send(
                "Runtime.evaluate",
                {"expression": AWAIT_USABLE, "awaitPromise": True, "returnByValue": True},
            )
        except PlaywrightError:  # evaluated in the page before the navigation, now gone
            got = {"exceptionDetails": "context gone"}
        if "exceptionDetails" not in got:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the meeting view was not usable: {got['exceptionDetails']}")


# Trace events whose time is script work on the main thread (parse, compile, evaluate).
SCRIPT_EVENTS = {
    "v8.compile": "compile",
    "v8.compileModule": "compile",
    "V8.CompileCode": "compile",
    "v8.parseOnBackground": "parse (background)",
    "v8.evaluateModule": "evaluate",
    "EvaluateScript": "evaluate",
    "FunctionCall": "function calls",
    "v8.run": "run",
}


def summarise_trace(path: Path) -> dict[str, float]:
    """Main-thread ms per kind of script work (outermost events only), from a Chromium trace.

    The page's main thread is the renderer main thread with the most events (a trace also
    holds the about:blank renderer and others); background parsing is counted apart."""
    loaded = json.loads(path.read_text())
    events: list[dict[str, Any]] = (
        loaded.get("traceEvents", []) if isinstance(loaded, dict) else loaded
    )
    mains = {
        (e["pid"], e["tid"])
        for e in events
        if e.get("name") == "thread_name" and e.get("args", {}).get("name") == "CrRendererMain"
    }
    busy = Counter(
        (e.get("pid"), e.get("tid")) for e in events if (e.get("pid"), e.get("tid")) in mains
    )
    if not busy:
        return {}
    main = busy.most_common(1)[0][0]
    spans: list[tuple[float, float, str]] = []
    for e in events:
        kind = SCRIPT_EVENTS.get(e.get("name", ""))
        if not kind or e.get("ph") != "X" or "dur" not in e:
            continue
        on_main = (e.get("pid"), e.get("tid")) == main
        if on_main or (kind == "parse (background)" and e.get("pid") == main[0]):
            spans.append((e["ts"], e["ts"] + e["dur"], kind))
    spans.sort()
    totals: dict[str, float] = {}
    outer_end = 0.0
    for start, end, kind in spans:
        if kind != "parse (background)":
            if start < outer_end:
                continue  # nested in an event already counted
            outer_end = end
        totals[kind] = totals.get(kind, 0.0) + (end - start) / 1000
    return {k: round(v, 1) for k, v in sorted(totals.items())}


# ---------------------------------------------------------------------------- report


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


COLUMNS = (
    "build",
    "CPU",
    "loads",
    "usable p50 ms",
    "usable p90 ms",
    "app mark p50",
    "FCP p50",
    "LCP p50",
    "script s p50",
    "main-thread s p50",
    "JS files",
    "JS KiB",
    "p90 <= 1 s",
)


def row(label: str, mode: str, ls: list[Load]) -> str:
    def med(key: str) -> float:
        return statistics.median(float(getattr(x, key) or 0) for x in ls)

    usable = [x.usable_ms for x in ls]
    marks = [x.app_mark_ms for x in ls if x.app_mark_ms is not None]
    cells = [
        label,
        mode,
        str(len(ls)),
        f"{statistics.median(usable):.0f}",
        f"{pct(usable, 90):.0f}",
        f"{statistics.median(marks):.0f}" if marks else "-",
        f"{med('fcp_ms'):.0f}",
        f"{med('lcp_ms'):.0f}",
        f"{med('script_s'):.2f}",
        f"{med('task_s'):.2f}",
        str(ls[0].js_files),
        f"{ls[0].js_transfer_bytes / 1024:.0f}",
        "yes" if pct(usable, 90) <= 1000 else "no",
    ]
    return "| " + " | ".join(cells) + " |"


def table(loads: list[Load], builds: list[Build]) -> str:
    rows = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for b in builds:
        for mode in MODES:
            ls = [x for x in loads if x.build == b.label and x.mode == mode]
            if ls:
                rows.append(row(b.label, mode, ls))
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--loads", type=int, default=10, help="cold loads per build and CPU mode")
    parser.add_argument(
        "--build",
        action="append",
        default=[],
        metavar="LABEL=DIST",
        help="a built web app to serve (repeatable); default: current=web/dist",
    )
    parser.add_argument("--trace", type=Path, help="also record a traced load per build and mode")
    parser.add_argument(
        "--latency",
        type=float,
        default=0,
        metavar="MS",
        help="network latency Chromium adds to each request (CDP network emulation); default 0",
    )
    parser.add_argument("--out", type=Path, default=BENCH / "results")
    args = parser.parse_args()

    specs = args.build or [f"current={ROOT / 'web/dist'}"]
    builds = [
        Build(label, Path(dist).resolve()) for label, dist in (s.split("=", 1) for s in specs)
    ]
    for b in builds:
        if not (b.dist / "index.html").exists():
            parser.error(f"{b.dist} has no index.html: build it first (make web)")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    log_dir = args.out / f"web-load-{stamp}"
    loads: list[Load] = []
    traces: dict[str, dict[str, float]] = {}
    started = datetime.now(UTC)
    chromium = ""
    busy0, wall0, load0 = procstat.system_busy_s(), time.monotonic(), os.getloadavg()[0]
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            for b in builds:
                b.server = servers.start("debrief", log_dir, env={"DEBRIEF_WEB_DIST": str(b.dist)})
                base = f"http://{servers.HOST}:{b.server.target.ports[0]}"
                b.url, b.cookie = seed_review(base, browser)
            for b in builds:  # warm-up: the server's first answers, Chromium's first process
                load_once(browser, b, "1x")
            for i in range(args.loads):
                for mode in MODES:
                    for b in builds:
                        got = load_once(browser, b, mode, latency_ms=args.latency)
                        loads.append(got)
                        print(
                            f"{i + 1:>3} {b.label:>10} {mode}: usable {got.usable_ms:.0f} ms, "
                            f"FCP {got.fcp_ms or 0:.0f} ms, script {got.script_s:.2f} s",
                            flush=True,
                        )
            if args.trace:
                args.trace.mkdir(parents=True, exist_ok=True)
                for b in builds:
                    for mode in MODES:
                        path = args.trace / f"{b.label}-{mode}.json"
                        load_once(browser, b, mode, trace_to=path, latency_ms=args.latency)
                        traces[f"{b.label} {mode}"] = summarise_trace(path)
            chromium = browser.version
            browser.close()
    finally:
        for b in builds:
            if b.server is not None:
                b.server.stop()
    wall = time.monotonic() - wall0
    busy_cores = (procstat.system_busy_s() - busy0) / wall
    head = (
        f"Measured {started:%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores, Chromium "
        f"{chromium}; load average {load0:.1f} at the start, {busy_cores:.2f} cores busy "
        f"on average during the run ({wall:.0f} s)"
        + (f"; network latency {args.latency:g} ms per request." if args.latency else ".")
    )
    print()
    print(head)
    print()
    print(table(loads, builds))
    for name, kinds in traces.items():
        print(f"- trace {name}: " + ", ".join(f"{k} {v} ms" for k, v in kinds.items()))
    for b in builds:  # the last throttled load of each build: what it fetched, when (ms)
        last = [x for x in loads if x.build == b.label and x.mode == "4x"][-1:]
        for x in last:
            fetched = ", ".join(
                f"{r['name']} {r['start']}-{r['end']}" for r in x.requests_before_usable
            )
            print(f"- requests before usable ({b.label}, 4x): {fetched}")
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"web-load-{stamp}.json"
    saved = {
        "head": head,
        "latency_ms": args.latency,
        "loads": [asdict(x) for x in loads],
        "traces": traces,
    }
    out.write_text(json.dumps(saved, indent=1))
    print(f"\nwritten {out}")


if __name__ == "__main__":
    main()
