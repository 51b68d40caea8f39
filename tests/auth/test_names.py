"""Display names: what everyone sees is what the name says, nothing hidden in it."""

from __future__ import annotations

import unicodedata

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from debrief.auth.names import MAX_NAME, clean_name
from debrief.meeting.floor import UNNAMED
from support.api import create_review
from support.server import ServerProcess


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Ana", "Ana"),
        ("  Ana   Lee  ", "Ana Lee"),
        ("Ana\x00Lee", "AnaLee"),  # NUL
        ("Ana\x07", "Ana"),  # BEL
        ("Ana\nLee\r\nKim\tJo", "Ana Lee Kim Jo"),  # line breaks and tabs become spaces
        ("Ana\u2028Lee", "Ana Lee"),  # line separator
        ("\u202eeviL", "eviL"),  # right-to-left override
        ("Ana\u2066x\u2069", "Anax"),  # bidi isolates
        ("Mod\u200b", "Mod"),  # zero-width space
        ("Mo\u200dd", "Mod"),  # zero-width joiner
        ("\ufeffMod", "Mod"),  # byte order mark
        ("Mod\u3164", "Mod"),  # Hangul filler, a "letter" that shows nothing
        ("Mod\ufe0f", "Mod"),  # variation selector
        ("\uff2d\uff4f\uff44", "Mod"),  # full-width letters fold to the plain ones
        ("e\u0301", "\u00e9"),  # composed
        ("\u200b\u200b", ""),  # nothing visible: the unnamed default
        ("\x00\x07\n", ""),
        ("Jos\u00e9 \u5f20\u4f1f \U0001f600", "Jos\u00e9 \u5f20\u4f1f \U0001f600"),  # kept
    ],
)
def test_clean_name(raw: str, shown: str) -> None:
    assert clean_name(raw) == shown


def test_long_names_are_cut() -> None:
    assert clean_name("x" * 500) == "x" * MAX_NAME
    assert clean_name("a " * 200) == ("a " * 40).strip()


@given(st.text(max_size=300))
def test_no_control_or_format_characters_survive(raw: str) -> None:
    name = clean_name(raw)
    assert len(name) <= MAX_NAME
    assert name == name.strip()
    assert "  " not in name
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in name)
    assert clean_name(name) == name  # cleaning is stable


@pytest.mark.parametrize(
    ("raw", "shown"),
    [("Mod\u200b", "Mod"), ("\u202eEve\x00\x07\nLee", "Eve Lee"), ("\u200d\u200b", "")],
)
async def test_join_stores_the_clean_name(server: ServerProcess, raw: str, shown: str) -> None:
    review = await create_review(server.url)
    async with httpx.AsyncClient(base_url=server.url) as http:
        joined = await http.post(
            "/api/join", json={"invite": review["invites"]["participant"], "name": raw}
        )
        assert joined.status_code == 200, joined.text
        assert joined.json()["name"] == shown
        token = joined.json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        attendees = await http.get(f"/api/reviews/{review['id']}/attendees", headers=headers)
    listed = attendees.json()["attendees"]
    assert [a["name"] for a in listed] == [shown or UNNAMED]
