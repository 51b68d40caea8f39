"""Rate limits per client IP and per session: each refusal a 429 with Retry-After.

Counted with the `limits` library in moving windows, in this process's memory. With
several processes (scale-out behind a proxy) each keeps its own counters, so a client
spread over N processes gets up to N times a limit: still bounded, and nothing to share.
"""

from __future__ import annotations

import bisect
import functools
import ipaddress
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse

from debrief.services import services
from debrief.settings import Settings


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused and when trying again can work."""

    error: str
    detail: str
    retry_after_s: int

    def response(self) -> JSONResponse:
        return JSONResponse(
            {"error": self.error, "detail": self.detail},
            status_code=429,
            headers={"retry-after": str(self.retry_after_s)},
        )


EXPIRE_EVERY_S = 30.0
# A key's list longer than this is cut back to its window (see
# LoopMemoryStorage.acquire_entry) whenever its length is a multiple of TRIM_EVERY:
# a search of the list every 64 hits, not at each.
TRIM_EXPIRED_ABOVE, TRIM_EVERY = 256, 64


class LoopMemoryStorage(MemoryStorage):
    """`limits`' memory storage without its expiry thread.

    The stock one starts a `threading.Timer` after every hit whose previous timer has
    run: hundreds of thread starts during a wave of joins, each blocking the event loop
    until the new thread runs. Windows are judged by their timestamps anyway; expiring
    only frees memory, which RateLimits does on the loop every EXPIRE_EVERY_S.
    """

    def _MemoryStorage__schedule_expiry(self) -> None:  # the name-mangled hook
        pass

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """The moving window's hit, with the key's list kept short.

        `limits` puts each hit at the front of the key's list (newest first), which
        costs a copy of the whole list, and drops old entries only when expired. With a
        high limit (an address behind a shared proxy or NAT) a key's list would grow with
        every hit for EXPIRE_EVERY_S: ~150,000 entries at 5,000 hits a second, and a
        hit costing several times its usual few microseconds. So after each hit, what
        can no longer decide anything goes: entries past the limit-th (a hit is judged
        by that one alone) and, once the list is long, now and then, entries already
        out of the window.
        """
        acquired = super().acquire_entry(key, limit, expiry, amount)
        if acquired:
            events = self.events[key]
            del events[limit:]
            size = len(events)
            if size > TRIM_EXPIRED_ABOVE and not size % TRIM_EVERY:
                now = time.time()
                if events[-1].expiry <= now:  # newest first: expiries descend
                    del events[bisect.bisect_left(events, -now, key=lambda e: -e.expiry) :]
        return acquired

    def expire(self) -> None:
        self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


class RateLimits:
    """Every limit of one app; `limits` does the counting."""

    def __init__(self, settings: Settings) -> None:
        self.trust_proxy = settings.trust_proxy
        self.joins = parse(settings.rate_joins)
        self.bad_invites = parse(settings.rate_bad_invites)
        self.creates = parse(settings.rate_creates)
        self.session_commands = parse(settings.rate_session_commands)
        self.ip_commands = parse(settings.rate_ip_commands)
        self.storage = LoopMemoryStorage()
        self._limiter = MovingWindowRateLimiter(self.storage)
        self._expired_at = time.monotonic()

    def _retry_after(self, item: RateLimitItem, key: str) -> int:
        reset, _ = self._limiter.get_window_stats(item, key)
        return max(1, math.ceil(reset - time.time()))

    def _tidy(self) -> None:
        now = time.monotonic()
        if now - self._expired_at > EXPIRE_EVERY_S:
            self._expired_at = now
            self.storage.expire()

    def _hit(self, item: RateLimitItem, key: str, error: str, detail: str) -> Refusal | None:
        self._tidy()
        if self._limiter.hit(item, key):
            return None
        return Refusal(error, detail, self._retry_after(item, key))

    def join(self, ip: str) -> Refusal | None:
        """Before a join: refused while the IP is locked out by bad invites, or too fast."""
        if not self._limiter.test(self.bad_invites, ip):
            return Refusal(
                "too-many-bad-invites",
                "too many unknown invite links came from your network; wait and try again",
                self._retry_after(self.bad_invites, ip),
            )
        return self._hit(
            self.joins, ip, "too-many-joins", "too many joins from your network; wait a moment"
        )

    def guessing(self, ip: str) -> Refusal | None:
        """Before a secret link in a path (a personal page, a feed) is looked up: refused
        while the IP is locked out by unknown links, like joins are."""
        if self._limiter.test(self.bad_invites, ip):
            return None
        return Refusal(
            "too-many-bad-invites",
            "too many unknown links came from your network; wait and try again",
            self._retry_after(self.bad_invites, ip),
        )

    def bad_invite(self, ip: str) -> None:
        """Count a join that failed on its invite (unknown or revoked)."""
        self._limiter.hit(self.bad_invites, ip)

    def create(self, ip: str) -> Refusal | None:
        return self._hit(
            self.creates, ip, "too-many-reviews", "too many reviews created from your network"
        )

    def command_from(self, ip: str) -> Refusal | None:
        return self._hit(
            self.ip_commands, ip, "too-many-requests", "too many requests from your network"
        )

    def command_by(self, session_id: str) -> Refusal | None:
        return self._hit(
            self.session_commands, session_id, "too-many-requests",
            "too many requests from this session; slow down a little",
        )  # fmt: skip


def rate_limits(conn: HTTPConnection) -> RateLimits:
    """The app's RateLimits, created on first use (like the MeetingService)."""
    state = conn.app.state
    found: RateLimits | None = getattr(state, "rate_limits", None)
    if found is None:
        found = state.rate_limits = RateLimits(services(conn).settings)
    return found


def client_ip(conn: HTTPConnection, trust_proxy: bool) -> str:
    """The peer's address; behind a trusted proxy, the last X-Forwarded-For hop.

    The last hop is the one our proxy appended; earlier ones are whatever the client
    claimed. IPv6 is keyed by its /64: one host usually holds a whole /64.
    """
    host = conn.client.host if conn.client else ""
    if trust_proxy:
        hops = [h.strip() for v in conn.headers.getlist("x-forwarded-for") for h in v.split(",")]
        hops = [h for h in hops if h]
        if hops:
            host = hops[-1]
    return address_key(host)


@functools.lru_cache(maxsize=4096)  # parsing an address costs more than the rest of a limit
def address_key(host: str) -> str:
    """What the limits count ``host`` under: the address, an IPv6 host by its /64."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def peer_ip(conn: HTTPConnection) -> str:
    return client_ip(conn, rate_limits(conn).trust_proxy)
