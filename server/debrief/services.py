"""The app's long-lived parts, created and closed by the lifespan (app.py)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from debrief.auth.sessions import SessionService
from debrief.delivery.worker import Worker
from debrief.metrics import Metrics
from debrief.rooms import RoomManager
from debrief.settings import Settings
from debrief.storage import Storage
from debrief.teams.service import TeamService


@dataclass
class Services:
    settings: Settings
    storage: Storage
    sessions: SessionService
    rooms: RoomManager
    metrics: Metrics
    teams: TeamService
    delivery: Worker  # the outbox's sender; enqueue(), replay(), kick()


def services(conn: HTTPConnection) -> Services:
    found: Services = conn.app.state.services
    return found
