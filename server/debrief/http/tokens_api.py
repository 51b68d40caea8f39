"""A team's API tokens over HTTP (team admin): make one (shown once), list, revoke.

How a token is checked and what each scope may call: teams/tokens.py and
http/team_commands.py (TOKEN_WRITES).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

from debrief.http.team_commands import ADMINS, TeamCall, TeamCommandSet
from debrief.teams.tokens import MAX_TOKEN_NAME, ApiTokens

api = TeamCommandSet("api-tokens")


class CreateToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=4 * MAX_TOKEN_NAME,
                      description="what the token is for, e.g. the incident tool")  # fmt: skip
    scope: Literal["read", "write"] = Field(
        description="read: the team's reviews, actions and people; write: also create "
        "reviews and change an action's status"
    )


@api.command("POST", "/tokens", "Make an API token (admin); the token is shown only in "
             "this answer", roles=ADMINS, body=CreateToken, status=201)  # fmt: skip
async def create_token(call: TeamCall, body: CreateToken) -> Any:
    view, token = await ApiTokens(call.svc.storage).create(
        call.team_id, body.name, body.scope, call.session.name
    )
    answer = {**view, "token": token, "header": f"Authorization: Bearer {token}"}
    return JSONResponse(answer, status_code=201, headers={"cache-control": "no-store"})


@api.command("GET", "/tokens", "The team's API tokens, without their secrets (admin)",
             roles=ADMINS)  # fmt: skip
async def list_tokens(call: TeamCall, body: None) -> Any:
    return {"tokens": await ApiTokens(call.svc.storage).list(call.team_id)}


@api.command("DELETE", "/tokens/{token_id}", "Revoke an API token at once (admin)",
             roles=ADMINS)  # fmt: skip
async def revoke_token(call: TeamCall, body: None) -> Any:
    token_id = call.request.path_params["token_id"]
    await ApiTokens(call.svc.storage).revoke(call.team_id, token_id)
    return {"revoked": token_id}
