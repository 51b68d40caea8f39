"""Fixtures of the delivery tests: a real SMTP server, and a real Debrief server sending to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from support.delivery_sinks import SmtpSink
from support.server import ServerProcess


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def mail_server(tmp_path: Path, smtp: SmtpSink) -> Iterator[ServerProcess]:
    """Sends its mail to ``smtp``. Time-based reminders are test_scheduler.py's: here the
    scheduler looks once an hour and sends no weekly digest."""
    env = {**smtp.env(), "DEBRIEF_SCHEDULER_TICK_S": "3600", "DEBRIEF_DIGEST_DAY": "0"}
    proc = ServerProcess(tmp_path / "data", env=env).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
async def mail_http(mail_server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``mail_server`` (tests/conftest.py's ``http`` is the shared server's)."""
    async with httpx.AsyncClient(base_url=mail_server.url) as client:
        yield client
