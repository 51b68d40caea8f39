"""API tokens of a team: what a script uses instead of a team link and a session.

A token reads ``dbt_<id>_<secret>``. Only the SHA-256 of the secret is stored (record
"api-token", grouped by team), so a leaked database does not leak working tokens; the
token itself is shown once, when it is made. Checking compares digests in constant
time. Revoking deletes the record, so the very next request with it is refused.

Scopes: "read" may call the team's member GET routes; "write" may also create reviews
and change an action's status. No token ever reaches an admin route (links, people's
personal links, tokens, feeds, deleting reviews).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from debrief.auth.sessions import AuthError
from debrief.meeting.errors import NotFound, ValidationError
from debrief.meeting.values import clean_text
from debrief.storage.base import Storage

API_TOKEN = "api-token"  # id: token id; grouped by team
PREFIX = "dbt_"
SCOPES = ("read", "write")
MAX_TOKEN_NAME = 80
MAX_TOKENS = 50  # per team
USED_EVERY_MS = 60_000  # last_used_ms is written at most this often per token
_ID = re.compile(r"^[0-9a-f]{16}$")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_token(text: str | None) -> bool:
    """Whether a bearer value is meant as an API token (and not a team session)."""
    return bool(text) and str(text).startswith(PREFIX)


def split(token: str) -> tuple[str, str] | None:
    """(id, secret) of a token's text, or None when it is not shaped like one."""
    if not token.startswith(PREFIX):
        return None
    token_id, sep, secret = token[len(PREFIX) :].partition("_")
    if not sep or not _ID.match(token_id) or not 20 <= len(secret) <= 100:
        return None
    return token_id, secret


@dataclass(frozen=True)
class ApiToken:
    id: str
    team_id: str
    name: str
    scope: str


def view(record: dict[str, Any]) -> dict[str, Any]:
    """A token as the admin's list shows it: never its hash."""
    return {k: record.get(k) for k in ("id", "name", "scope", "created_ms", "created_by",
                                       "last_used_ms")}  # fmt: skip


class ApiTokens:
    """Stateless: everything is in storage."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def create(
        self, team_id: str, name: str, scope: str, created_by: str
    ) -> tuple[dict[str, Any], str]:
        """A new token; answers its view and the token text (shown this once)."""
        clean = clean_text(name, "name", max_len=MAX_TOKEN_NAME, min_len=1, single_line=True)
        if scope not in SCOPES:
            raise ValidationError("scope must be read or write", field="scope")
        async with self.storage.lock(f"api-tokens:{team_id}"):
            if len(await self.storage.list_records(API_TOKEN, team_id)) >= MAX_TOKENS:
                raise ValidationError(
                    f"a team has at most {MAX_TOKENS} tokens; revoke one first",
                    error="too-many-tokens",
                )
            token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
            record: dict[str, Any] = {
                "id": token_id,
                "team_id": team_id,
                "name": clean,
                "scope": scope,
                "hash": digest(secret),
                "created_ms": now_ms(),
                "created_by": created_by,
                "last_used_ms": None,
            }
            await self.storage.put_record(API_TOKEN, token_id, record, team_id)
        return view(record), f"{PREFIX}{token_id}_{secret}"

    async def list(self, team_id: str) -> list[dict[str, Any]]:
        records = await self.storage.list_records(API_TOKEN, team_id)
        return [view(r) for r in sorted(records, key=lambda r: r.get("created_ms") or 0)]

    async def revoke(self, team_id: str, token_id: str) -> None:
        record = await self.storage.get_record(API_TOKEN, token_id) if _ID.match(token_id) else None
        if record is None or record.get("team_id") != team_id:
            raise NotFound("this team has no token with that id", error="unknown-token")
        async with self.storage.lock(f"api-tokens:{team_id}"):
            await self.storage.delete_record(API_TOKEN, token_id)

    async def authenticate(self, token: str) -> ApiToken:
        parts = split(token)
        record = await self.storage.get_record(API_TOKEN, parts[0]) if parts else None
        # Compared even without a record, so a wrong id and a wrong secret take as long.
        expected = str((record or {}).get("hash") or digest(""))
        matches = hmac.compare_digest(digest(parts[1] if parts else ""), expected)
        if parts is None or record is None or not matches:
            raise AuthError("this API token is unknown or was revoked")
        found = ApiToken(
            str(record["id"]),
            str(record["team_id"]),
            str(record.get("name", "")),
            str(record.get("scope", "read")),
        )
        used = record.get("last_used_ms")
        if not isinstance(used, int) or now_ms() - used > USED_EVERY_MS:
            await self._mark_used(found)
        return found

    async def _mark_used(self, token: ApiToken) -> None:
        # Under the team's token lock and re-read: a revoke that ran meanwhile must not
        # be undone by writing the record back.
        async with self.storage.lock(f"api-tokens:{token.team_id}"):
            record = await self.storage.get_record(API_TOKEN, token.id)
            if record is not None:
                record = {**record, "last_used_ms": now_ms()}
                await self.storage.put_record(API_TOKEN, token.id, record, token.team_id)
