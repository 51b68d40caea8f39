"""Prometheus metrics, one registry per app so several apps (tests) never clash."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
# The loop's timers have a millisecond's grain: finer buckets would only count that.
LOOP_LAG_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.connections = Gauge("debrief_connections", "Open websocket connections", registry=r)
        self.rooms = Gauge("debrief_rooms", "Docs loaded in memory", registry=r)
        self.updates_in = Counter(
            "debrief_updates_received", "Doc updates received from clients", registry=r
        )
        self.updates_out = Counter(
            "debrief_updates_broadcast", "Merged update frames broadcast", registry=r
        )
        self.frames_out = Counter("debrief_frames_sent", "Frames queued to peers", registry=r)
        self.bytes_in = Counter("debrief_bytes_received", "Websocket bytes received", registry=r)
        self.bytes_out = Counter("debrief_bytes_sent", "Websocket bytes queued", registry=r)
        self.writes_denied = Counter(
            "debrief_writes_denied", "Updates refused for lack of write permission", registry=r
        )
        self.writes_throttled = Counter(
            "debrief_writes_throttled",
            "Updates held back because their connection or review wrote faster than its rate",
            registry=r,
        )
        self.slow_peers = Counter(
            "debrief_slow_peers_closed", "Peers closed because their queue overflowed", registry=r
        )
        self.broadcast_latency = Histogram(
            "debrief_broadcast_latency_seconds",
            "From an update's arrival to its frame being queued to every peer",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.loop_lag = Histogram(
            "debrief_event_loop_lag_seconds",
            "How late the event loop ran a timer that was due (loop_lag.py): its stalls",
            buckets=LOOP_LAG_BUCKETS,
            registry=r,
        )

    def render(self) -> bytes:
        data: bytes = generate_latest(self.registry)
        return data
