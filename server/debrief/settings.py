"""Configuration: command-line flags first, then DEBRIEF_* environment variables."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from debrief.rooms.write_rates import WriteLimits


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


def _env_list(name: str) -> list[str]:
    raw = os.environ.get(name, "")
    return [item.strip().rstrip("/") for item in raw.split(",") if item.strip()]


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = field(default_factory=lambda: Path(os.environ.get("DEBRIEF_DATA", "./data")))
    # Redis URL; when set, Redis replaces SQLite for everything (scale-out mode).
    redis_url: str | None = field(default_factory=lambda: os.environ.get("DEBRIEF_REDIS_URL"))
    redis_prefix: str = field(
        default_factory=lambda: os.environ.get("DEBRIEF_REDIS_PREFIX", "debrief:")
    )
    # Scale-out: seconds a process's heartbeat lives; when it stops (the process died)
    # the others drop the presence of its clients within about this long.
    node_ttl_s: float = field(default_factory=lambda: _env_float("DEBRIEF_NODE_TTL", 15.0))
    # When set, creating a review needs "Authorization: Bearer <admin_token>".
    admin_token: str | None = field(
        default_factory=lambda: os.environ.get("DEBRIEF_ADMIN_TOKEN") or None
    )
    # Signs session tokens; kept in <data>/secret.key when not given.
    secret_key: str | None = field(
        default_factory=lambda: os.environ.get("DEBRIEF_SECRET_KEY") or None
    )
    # Base of invite links, e.g. https://debrief.example.org (else the request's own).
    public_url: str | None = field(
        default_factory=lambda: os.environ.get("DEBRIEF_PUBLIC_URL", "").rstrip("/") or None
    )
    # Extra browser origins allowed on the websocket (same-origin is always allowed).
    allowed_origins: list[str] = field(default_factory=lambda: _env_list("DEBRIEF_ALLOWED_ORIGINS"))
    session_ttl_s: int = field(
        default_factory=lambda: _env_int("DEBRIEF_SESSION_TTL", 30 * 24 * 3600)
    )
    cookie_secure: bool = field(
        default_factory=lambda: os.environ.get("DEBRIEF_COOKIE_SECURE", "") == "1"
    )
    max_frame_bytes: int = field(default_factory=lambda: _env_int("DEBRIEF_MAX_FRAME", 1024 * 1024))
    # --- What one client may send over HTTP (sizes, rates, caps per review) ---
    # Largest request body in bytes; a bigger one is refused with 413 as it arrives.
    max_body_bytes: int = field(default_factory=lambda: _env_int("DEBRIEF_MAX_BODY", 256 * 1024))
    # The same for a timeline import: a file of up to 12 MB sent as a JSON string, whose
    # escaping (quotes, backslashes, newlines) can nearly double it.
    max_import_bytes: int = field(
        default_factory=lambda: _env_int("DEBRIEF_MAX_IMPORT_BODY", 24 * 1024 * 1024)
    )
    # Rates as "N/second", "N/minute", "N per 10 seconds" (the `limits` notation), counted
    # in a moving window, in this process's memory: with several processes (scale-out)
    # each keeps its own counters, so the effective limit is N times the processes.
    # Joins per client IP (a whole office behind one NAT joining at once stays under it).
    rate_joins: str = field(
        default_factory=lambda: os.environ.get("DEBRIEF_RATE_JOINS", "60/minute")
    )
    # Failed joins (unknown or revoked invite) per IP; past it every join from that IP,
    # good invite or not, is refused until the window has passed (stops invite guessing).
    rate_bad_invites: str = field(
        default_factory=lambda: os.environ.get("DEBRIEF_RATE_BAD_INVITES", "10/minute")
    )
    # Reviews created per IP (without an admin token anyone may create one).
    rate_creates: str = field(
        default_factory=lambda: os.environ.get("DEBRIEF_RATE_CREATES", "30/minute")
    )
    # Commands (every /api/reviews/{id}/... request) per session and per IP.
    rate_session_commands: str = field(
        default_factory=lambda: os.environ.get("DEBRIEF_RATE_SESSION", "20/second")
    )
    rate_ip_commands: str = field(
        default_factory=lambda: os.environ.get("DEBRIEF_RATE_IP", "100/second")
    )
    # Sessions a review accepts: attendees (moderator, scribe, participant) and observers.
    max_attendees: int = field(default_factory=lambda: _env_int("DEBRIEF_MAX_ATTENDEES", 100))
    max_observers: int = field(default_factory=lambda: _env_int("DEBRIEF_MAX_OBSERVERS", 200))
    # Notes (and questionnaire answers) per review, on top of the 200 per person.
    max_review_notes: int = field(
        default_factory=lambda: _env_int("DEBRIEF_MAX_REVIEW_NOTES", 2_000)
    )
    # Behind the reverse proxy of deploy/: take the client IP from the last
    # X-Forwarded-For hop (the one the proxy added). Never set it without such a proxy:
    # clients could then pick their own IP and escape the per-IP limits.
    trust_proxy: bool = field(
        default_factory=lambda: os.environ.get("DEBRIEF_TRUST_PROXY", "") == "1"
    )
    # Frames a peer may have waiting before it is closed with 1013 as too slow.
    peer_queue_frames: int = field(default_factory=lambda: _env_int("DEBRIEF_PEER_QUEUE", 2048))
    # Unsent bytes a peer may have buffered before it is closed with 1013 as too slow.
    peer_buffer_bytes: int = field(
        default_factory=lambda: _env_int("DEBRIEF_PEER_BUFFER", 16 * 1024 * 1024)
    )
    # Seconds a room stays loaded after its last peer leaves.
    unload_grace_s: float = field(default_factory=lambda: _env_float("DEBRIEF_UNLOAD_GRACE", 5.0))
    # Updates appended to a doc's log before it is compacted into a snapshot.
    compact_every: int = field(default_factory=lambda: _env_int("DEBRIEF_COMPACT_EVERY", 500))
    # Seconds of silence before a peer gets a no-op frame (y-websocket gives up at 30).
    keepalive_s: float = field(default_factory=lambda: _env_float("DEBRIEF_KEEPALIVE", 10.0))
    # --- What one websocket client may hold or send (presence, sockets, handshakes) ---
    # Presence client ids per connection (a browser tab uses one per doc); more: close 1008.
    presence_ids: int = field(default_factory=lambda: _env_int("DEBRIEF_PRESENCE_IDS", 4))
    # Presences a room shows; a newcomer's beyond it are refused, nobody is evicted.
    presences_per_room: int = field(
        default_factory=lambda: _env_int("DEBRIEF_PRESENCES_PER_ROOM", 500)
    )
    # Bytes of JSON in one presence state; more: close 1002.
    presence_state_bytes: int = field(
        default_factory=lambda: _env_int("DEBRIEF_PRESENCE_STATE_BYTES", 8 * 1024)
    )
    # Presence messages per second per connection, and the burst; faster: close 1008.
    presence_rate: float = field(default_factory=lambda: _env_float("DEBRIEF_PRESENCE_RATE", 20.0))
    presence_burst: float = field(
        default_factory=lambda: _env_float("DEBRIEF_PRESENCE_BURST", 50.0)
    )
    # Websockets one session may have open on this process (3 docs x a few tabs); more:
    # close 4429.
    sockets_per_session: int = field(
        default_factory=lambda: _env_int("DEBRIEF_SOCKETS_PER_SESSION", 12)
    )
    # Seconds a connection has to send its complete request headers (slow-loris).
    header_timeout_s: float = field(
        default_factory=lambda: _env_float("DEBRIEF_HEADER_TIMEOUT", 10.0)
    )
    # --- Issue 14 items 3+7: slow clients ---
    # Seconds a server-side close may take: a client that stopped reading never gets the
    # close frame behind what it has not read, so its connection is then dropped.
    peer_close_timeout_s: float = field(
        default_factory=lambda: _env_float("DEBRIEF_PEER_CLOSE_TIMEOUT", 5.0)
    )
    # --- Issue 14 item 1: what one connection and one review may write, and doc size ---
    # Bytes and updates a second one websocket may write, and its burst; faster
    # writers are read more slowly (backpressure), never closed for it.
    write_rate_bytes: float = field(
        default_factory=lambda: _env_float("DEBRIEF_WRITE_RATE", 256 * 1024)
    )
    write_burst_bytes: float = field(
        default_factory=lambda: _env_float("DEBRIEF_WRITE_BURST", 2 * 1024 * 1024)
    )
    write_rate_updates: float = field(
        default_factory=lambda: _env_float("DEBRIEF_WRITE_UPDATES", 100.0)
    )
    # The same for all connections of one review together (its three docs).
    review_write_rate_bytes: float = field(
        default_factory=lambda: _env_float("DEBRIEF_REVIEW_WRITE_RATE", 512 * 1024)
    )
    review_write_burst_bytes: float = field(
        default_factory=lambda: _env_float("DEBRIEF_REVIEW_WRITE_BURST", 4 * 1024 * 1024)
    )
    review_write_rate_updates: float = field(
        default_factory=lambda: _env_float("DEBRIEF_REVIEW_WRITE_UPDATES", 1000.0)
    )
    # Stored bytes one review doc may grow to; clients' updates past it are refused.
    max_doc_bytes: int = field(
        default_factory=lambda: _env_int("DEBRIEF_MAX_DOC_BYTES", 16 * 1024 * 1024)
    )
    # --- Issue 14 items 5+6: a stalled or full data disk ---
    # Seconds a storage write may be in flight before storage counts as stalled: writes
    # are then refused at once (HTTP 503, a refusal on the websocket) until it recovers.
    storage_stall_s: float = field(
        default_factory=lambda: _env_float("DEBRIEF_STORAGE_STALL_S", 5.0)
    )
    # Full garbage collections: freeze their survivors, thaw every this many seconds
    # (gc_schedule.py); DEBRIEF_GC_FREEZE=0 leaves Python's collector as it is.
    gc_freeze: bool = field(default_factory=lambda: os.environ.get("DEBRIEF_GC_FREEZE", "1") != "0")
    gc_thaw_s: float = field(default_factory=lambda: _env_float("DEBRIEF_GC_THAW_S", 600.0))
    # How long a thread may hold Python's GIL while another waits for it (milliseconds;
    # Python's own default is 5). SQLite's writer thread needs the GIL back after every
    # statement: with the event loop busy it waited up to 5 ms each time, holding up
    # every command behind it (cli.py).
    switch_interval_ms: float = field(
        default_factory=lambda: _env_float("DEBRIEF_SWITCH_INTERVAL_MS", 0.1)
    )
    # --- Candour: changes after a reveal are held and published together ---
    # A lone held change goes out after a random wait in this range (seconds); two
    # people's changes, a reveal or a close publish at once (meeting/held.py).
    hold_min_s: float = field(default_factory=lambda: _env_float("DEBRIEF_HOLD_MIN", 20.0))
    hold_max_s: float = field(default_factory=lambda: _env_float("DEBRIEF_HOLD_MAX", 60.0))
    # --- Delivery (issue 13): email, webhooks, reminders ---
    # The SMTP server used when a team has not set its own (host empty: no server email).
    smtp_host: str = field(default_factory=lambda: os.environ.get("DEBRIEF_SMTP_HOST", ""))
    smtp_port: int = field(default_factory=lambda: _env_int("DEBRIEF_SMTP_PORT", 587))
    smtp_username: str = field(default_factory=lambda: os.environ.get("DEBRIEF_SMTP_USERNAME", ""))
    smtp_password: str = field(default_factory=lambda: os.environ.get("DEBRIEF_SMTP_PASSWORD", ""))
    # Upgrade the connection with STARTTLS before anything else is said (refuse to go on
    # without it); "0" only for a relay on the same host or a test server.
    smtp_starttls: bool = field(
        default_factory=lambda: os.environ.get("DEBRIEF_SMTP_STARTTLS", "1") != "0"
    )
    smtp_from: str = field(
        default_factory=lambda: os.environ.get("DEBRIEF_SMTP_FROM", "debrief@localhost")
    )
    # A CA bundle (PEM) to trust for SMTP's TLS besides the system's (a private CA).
    smtp_ca_file: str = field(default_factory=lambda: os.environ.get("DEBRIEF_SMTP_CA_FILE", ""))
    # Seconds between two looks at the outbox for due deliveries (a new one is sent at
    # once by the process that queued it; the others find it at their next look).
    delivery_poll_s: float = field(
        default_factory=lambda: _env_float("DEBRIEF_DELIVERY_POLL_S", 5.0)
    )
    # Seconds a process holds a delivery it is sending; when it dies mid-send another
    # process sends it once this has passed. Each attempt is cut off at 3/4 of it.
    delivery_lease_s: float = field(
        default_factory=lambda: _env_float("DEBRIEF_DELIVERY_LEASE_S", 180.0)
    )
    # Seconds one network step (connect, one SMTP command, one HTTP read) may take.
    delivery_timeout_s: float = field(
        default_factory=lambda: _env_float("DEBRIEF_DELIVERY_TIMEOUT_S", 30.0)
    )
    # Deliveries one process sends at the same time.
    delivery_concurrency: int = field(
        default_factory=lambda: _env_int("DEBRIEF_DELIVERY_CONCURRENCY", 4)
    )
    # Seconds to wait before each retry of a failed delivery; after the last: "dead".
    delivery_retry_s: list[float] = field(
        default_factory=lambda: [
            float(x)
            for x in _env_list("DEBRIEF_DELIVERY_RETRY_S") or ["60", "300", "1800", "7200", "43200"]
        ]
    )
    # Reminders: "due soon" this many days before an action's due date; the nudge when an
    # incident review is not scheduled this many days after the incident; "starting soon"
    # this many minutes before a scheduled review; the scheduler looks every tick.
    due_soon_days: int = field(default_factory=lambda: _env_int("DEBRIEF_DUE_SOON_DAYS", 3))
    nudge_days: int = field(default_factory=lambda: _env_int("DEBRIEF_NUDGE_DAYS", 5))
    start_soon_min: int = field(default_factory=lambda: _env_int("DEBRIEF_START_SOON_MIN", 60))
    # ISO weekday of each owner's weekly digest (1 = Monday .. 7 = Sunday; 0: none)
    digest_day: int = field(default_factory=lambda: _env_int("DEBRIEF_DIGEST_DAY", 1))
    scheduler_tick_s: float = field(
        default_factory=lambda: _env_float("DEBRIEF_SCHEDULER_TICK_S", 60.0)
    )
    web_dist: Path = field(
        default_factory=lambda: Path(
            os.environ.get("DEBRIEF_WEB_DIST", Path(__file__).resolve().parents[2] / "web/dist")
        )
    )

    def write_limits(self) -> WriteLimits:
        return WriteLimits(
            bytes_per_s=self.write_rate_bytes,
            burst_bytes=max(self.write_burst_bytes, self.max_frame_bytes),
            updates_per_s=self.write_rate_updates,
            burst_updates=self.write_rate_updates * 4,
            review_bytes_per_s=self.review_write_rate_bytes,
            review_burst_bytes=max(self.review_write_burst_bytes, self.max_frame_bytes),
            review_updates_per_s=self.review_write_rate_updates,
            review_burst_updates=self.review_write_rate_updates * 4,
            max_doc_bytes=self.max_doc_bytes,
        )

    def resolve_secret(self) -> str:
        """The signing key; generated once and kept in the data dir so restarts keep sessions."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret.key"
        if path.exists():
            self.secret_key = path.read_text().strip()
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self.secret_key = secrets.token_urlsafe(48)
            path.write_text(self.secret_key)
            path.chmod(0o600)
        return self.secret_key
