"""Configuration: command-line flags first, then DEBRIEF_* environment variables."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


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
    web_dist: Path = field(
        default_factory=lambda: Path(
            os.environ.get("DEBRIEF_WEB_DIST", Path(__file__).resolve().parents[2] / "web/dist")
        )
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
