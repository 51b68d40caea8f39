"""`debrief team-links`: the operator's way into a team, e.g. the default team.

Reviews made before teams existed land in the default team on the first start of this
version; nobody holds its links yet. This prints a team's admin and member links (and
can replace one), read from the same storage the server uses, so an operator hands
the admin link to whoever runs the team.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from debrief.settings import Settings
from debrief.teams.keys import DEFAULT_TEAM_ID
from debrief.teams.service import TEAM_ROLES, TeamService

HELP = __doc__


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "team-links",
        help="print a team's admin and member links (default team unless --team)",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--team", default=DEFAULT_TEAM_ID, help="team id (default: t_default)")
    parser.add_argument(
        "--rotate", choices=TEAM_ROLES, help="replace this role's link (old sessions end)"
    )
    parser.add_argument("--base-url", default=None, help="server address the links start with")
    parser.add_argument("--data", "--data-dir", type=Path, default=None, help="data directory")
    parser.add_argument("--redis", default=None, help="redis://host:6379/0 in scale-out mode")


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    if args.data is not None:
        settings.data_dir = args.data
    if args.redis:
        settings.redis_url = args.redis
    base = args.base_url or settings.public_url or f"http://{settings.host}:{settings.port}"
    return asyncio.run(_print_links(settings, args.team, args.rotate, base.rstrip("/")))


async def _print_links(settings: Settings, team_id: str, rotate: str | None, base: str) -> int:
    from debrief.app import make_storage  # the app module is heavy; only this command needs it

    storage = make_storage(settings)
    await storage.open()
    try:
        teams = TeamService(storage, settings.resolve_secret(), settings.session_ttl_s)
        if team_id == DEFAULT_TEAM_ID:
            await teams.ensure_default_team()
        team = await storage.get_record("team", team_id)
        if team is None:
            print(f"debrief team-links: there is no team {team_id!r}")
            return 1
        if rotate:
            await teams.rotate_link(team_id, rotate)
        live = [link for link in await teams.links(team_id) if not link["revoked"]]
        for role in TEAM_ROLES:
            if not any(link["role"] == role for link in live):
                fresh, _, _ = await teams.rotate_link(team_id, role)
                live.append(fresh)
        print(f"{team['name']} ({team_id})")
        for link in sorted(live, key=lambda link: (link["role"], link["code"])):
            print(f"  {link['role']:<7} {base}/tj/{link['code']}")
        return 0
    finally:
        await storage.close()
