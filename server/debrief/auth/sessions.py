"""Invites and sessions, kept as storage records.

An invite is a random, revocable code tied to a review and a role. Joining with it
creates a session; the session id is signed (itsdangerous, with expiry) into the
token that browsers get as an HttpOnly cookie and other clients send as a Bearer
token. Revoking an invite ends every session joined through it.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlparse

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from debrief.auth.names import clean_name
from debrief.auth.roles import Role
from debrief.storage.base import Storage

INVITE = "invite"
SESSION = "session"
SEATS = "seats"  # per review: the live sessions counted against its caps


class AuthError(Exception):
    """Credentials missing, invalid, expired or revoked."""


# Tokens already verified, kept so that a client's every request does not check its
# token's signature again (an HMAC and two base64 decodes, ~20 µs per command).
VERIFIED_TOKENS = 4096


class SignedIds:
    """Ids signed into tokens with an expiry; a salt of each kind's own keeps one kind's
    token from passing as another's. The texts say why a token is refused."""

    def __init__(
        self, secret: str, salt: str, ttl_s: int, *, missing: str, expired: str, invalid: str
    ) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=salt)
        self.ttl_s = ttl_s
        self.missing, self.expired, self.invalid = missing, expired, invalid
        # token -> (its id, when it expires): only tokens whose signature was checked;
        # the oldest entry goes first once it is full
        self._verified: dict[str, tuple[str, float]] = {}

    def sign(self, value: str) -> str:
        token: str = self._serializer.dumps(value)
        return token

    def unsign(self, token: str | None) -> str:
        """The id in ``token``; AuthError when there is none, it expired or is forged."""
        if not token:
            raise AuthError(self.missing)
        known = self._verified.get(token)
        if known is not None:
            value, expires_at = known
            if time.time() <= expires_at:
                return value
            del self._verified[token]
            raise AuthError(self.expired)
        try:
            found, signed_at = self._serializer.loads(
                token, max_age=self.ttl_s, return_timestamp=True
            )
        except SignatureExpired as exc:
            raise AuthError(self.expired) from exc
        except BadSignature as exc:
            raise AuthError(self.invalid) from exc
        value = str(found)
        if len(self._verified) >= VERIFIED_TOKENS:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = (value, signed_at.timestamp() + self.ttl_s)
        return value


class ReviewFull(Exception):
    """The review has as many sessions of this kind as it accepts."""


@dataclass(frozen=True)
class Seats:
    """Sessions a review accepts: attendees (every role but observer) and observers.

    One invite link may be shared, and every join is a new session listed as an
    attendee, so without a cap one link could fill a review with thousands of them.
    """

    attendees: int = 100
    observers: int = 200

    def of(self, role: Role) -> int:
        return self.observers if role == Role.OBSERVER else self.attendees


@dataclass
class Invite:
    code: str
    review_id: str
    role: Role
    revoked: bool = False

    def to_record(self) -> dict[str, Any]:
        return {**asdict(self), "role": str(self.role)}

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> Invite:
        return cls(data["code"], data["review_id"], Role(data["role"]), data.get("revoked", False))


@dataclass
class Session:
    session_id: str
    review_id: str
    role: Role
    participant_id: str
    name: str
    invite: str
    created_ms: int

    def to_record(self) -> dict[str, Any]:
        return {**asdict(self), "role": str(self.role)}

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> Session:
        return cls(**{**data, "role": Role(data["role"])})


def new_code() -> str:
    return secrets.token_urlsafe(18)


def invite_code_from(text: str) -> str:
    """Accept a bare code or any join URL ending in /j/<code>."""
    text = text.strip()
    if "/" in text:
        path = urlparse(text).path.rstrip("/")
        text = path.rsplit("/", 1)[-1]
    return text


class SessionService:
    def __init__(self, storage: Storage, secret: str, ttl_s: int) -> None:
        self.storage = storage
        self.ttl_s = ttl_s
        self._ids = SignedIds(
            secret,
            "debrief-session",
            ttl_s,
            missing="no session: join the review through its invite link",
            expired="this session has expired: join again",
            invalid="this session token is not valid",
        )

    async def create_invites(self, review_id: str) -> dict[Role, Invite]:
        invites = {}
        for role in Role:
            invite = Invite(new_code(), review_id, role)
            await self.storage.put_record(INVITE, invite.code, invite.to_record(), review_id)
            invites[role] = invite
        return invites

    async def list_invites(self, review_id: str) -> list[Invite]:
        return [Invite.from_record(r) for r in await self.storage.list_records(INVITE, review_id)]

    async def revoke_invite(self, code: str) -> list[str]:
        """Revoke ``code``; return the ids of the sessions that ended with it."""
        record = await self.storage.get_record(INVITE, code)
        if record is None:
            return []
        invite = Invite.from_record(record)
        invite.revoked = True
        await self.storage.put_record(INVITE, code, invite.to_record(), invite.review_id)
        ended = []
        for data in await self.storage.list_records(SESSION, invite.review_id):
            if data["invite"] == code:
                await self.storage.delete_record(SESSION, data["session_id"])
                ended.append(data["session_id"])
        if ended:  # their seats are free again
            async with self.storage.lock(f"seats:{invite.review_id}"):
                seats = await self._live_seats(invite.review_id)
                for session_id in ended:
                    seats.pop(session_id, None)
                await self._save_seats(invite.review_id, seats)
        return ended

    async def join(
        self, invite_text: str, name: str, seats: Seats | None = None
    ) -> tuple[Session, str]:
        seats = seats or Seats()
        code = invite_code_from(invite_text)
        record = await self.storage.get_record(INVITE, code) if code else None
        if record is None:
            raise AuthError("this invite link is not known")
        invite = Invite.from_record(record)
        if invite.revoked:
            raise AuthError("this invite link has been revoked")
        session = Session(
            session_id=secrets.token_urlsafe(18),
            review_id=invite.review_id,
            role=invite.role,
            participant_id="p_" + secrets.token_hex(8),
            name=clean_name(name),
            invite=code,
            created_ms=int(time.time() * 1000),
        )
        # Counted and added under one lock, so concurrent joins cannot overshoot the cap.
        async with self.storage.lock(f"seats:{invite.review_id}"):
            taken = await self._live_seats(invite.review_id)
            observer = invite.role == Role.OBSERVER
            count = sum(1 for _, is_observer in taken.values() if is_observer == observer)
            if count >= seats.of(invite.role):
                who = "observers" if observer else "attendees"
                raise ReviewFull(
                    f"this review already has {count} {who}, as many as it accepts; "
                    "ask the moderator"
                )
            await self.storage.put_record(
                SESSION, session.session_id, session.to_record(), session.review_id
            )
            taken[session.session_id] = (session.created_ms, observer)
            await self._save_seats(invite.review_id, taken)
        return session, self.sign(session.session_id)

    async def _live_seats(self, review_id: str) -> dict[str, tuple[int, bool]]:
        """The review's live sessions: id -> (created_ms, observer).

        One small record per review, so a join reads at most the cap's worth of entries,
        not every session the review ever had. Sessions of older versions, made before
        this record existed, are not counted.
        """
        record = await self.storage.get_record(SEATS, review_id) or {}
        since_ms = (time.time() - self.ttl_s) * 1000  # expired sessions no longer count
        seats = record.get("sessions")
        if not isinstance(seats, dict):
            return {}
        return {
            str(sid): (int(entry[0]), bool(entry[1]))
            for sid, entry in seats.items()
            if isinstance(entry, list) and len(entry) == 2 and entry[0] >= since_ms
        }

    async def _save_seats(self, review_id: str, seats: dict[str, tuple[int, bool]]) -> None:
        entries = {sid: [created, observer] for sid, (created, observer) in seats.items()}
        await self.storage.put_record(SEATS, review_id, {"sessions": entries}, review_id)

    def sign(self, session_id: str) -> str:
        return self._ids.sign(session_id)

    async def authenticate(self, token: str | None) -> Session:
        return self.session_from(await self.storage.get_record(SESSION, self.session_id(token)))

    def session_id(self, token: str | None) -> str:
        """The session id signed into ``token`` (AuthError when there is none, or it is
        expired or forged): for a caller that reads the session with other records."""
        return self._ids.unsign(token)

    @staticmethod
    def session_from(record: dict[str, Any] | None) -> Session:
        """The session of a stored record; AuthError when it is gone."""
        if record is None:
            raise AuthError("this session has ended")
        return Session.from_record(record)
