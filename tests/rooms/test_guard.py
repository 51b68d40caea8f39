"""rooms/guard.py with real pycrdt docs: clients write, the guard judges their updates
against the documented schema and the writer's rights, and audits what it accepts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from pycrdt import Array, Doc, Map, Text, TransactionEvent

from debrief.protocol.scan import scan_update
from debrief.rooms.audit import AuditEntry, AuditTrail
from debrief.rooms.doc_schema import (
    MAX_EVENT_TEXT,
    MAX_EVENTS,
    MAX_FOLLOWUPS,
    MAX_RECAP_TEXT,
    RECAP,
    TIMELINE,
)
from debrief.rooms.guard import DocGuard, GuardRefused, Writer

MOD = Writer("p-mod", "Mo", "moderator")
SCRIBE = Writer("p-scribe", "Sam", "scribe")
ANA = Writer("p-ana", "Ana", "participant")
BEN = Writer("p-ben", "Ben", "participant")
NOW = 1_700_000_000_000


class Server:
    """What the room holds for one doc: its doc, the accepted updates, and a guard
    whose shadow is rebuilt from them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.doc: Doc[Any] = Doc()
        self.builds = 0  # how often the guard rebuilt its shadow
        self.guard = DocGuard(name, self._base)

    def _base(self) -> list[bytes]:
        self.builds += 1
        return [self.doc.get_update()]

    def receive(self, update: bytes, writer: Writer) -> list[AuditEntry]:
        entries = self.guard.check(update, writer, NOW)
        self.doc.apply_update(update)
        return entries

    def edit(self, change: Callable[[Doc[Any]], None]) -> None:
        """A server-side edit (an import): written, then followed by the guard."""
        with capture(self.doc) as updates:
            change(self.doc)
        for update in updates:
            self.guard.follow(update)


class Client:
    def __init__(self, server: Server, client_id: int) -> None:
        self.doc: Doc[Any] = Doc(client_id=client_id)
        self.doc.apply_update(server.doc.get_update())

    def pull(self, server: Server) -> None:
        self.doc.apply_update(server.doc.get_update(self.doc.get_state()))

    def change(self, edit: Callable[[Doc[Any]], None]) -> bytes:
        """Run one transaction; return its update."""
        with capture(self.doc) as updates:
            with self.doc.transaction():
                edit(self.doc)
        assert len(updates) == 1
        return updates[0]


@contextmanager
def capture(doc: Doc[Any]) -> Iterator[list[bytes]]:
    updates: list[bytes] = []

    def collect(event: TransactionEvent) -> None:
        updates.append(event.update)

    subscription = doc.observe(collect)
    try:
        yield updates
    finally:
        doc.unobserve(subscription)


def events(doc: Doc[Any]) -> Map[Any]:
    return doc.get("events", type=Map)


def actions(doc: Doc[Any]) -> Map[Any]:
    return doc.get("actions", type=Map)


def event(event_id: str, by: str | None, **fields: Any) -> Map[Any]:
    values: dict[str, Any] = {
        "id": event_id,
        "time": "2025-03-01T09:14:00Z",
        "text": "The alert fired",
        "source": "alert",
        "link": "https://grafana.example/d/1",
        "markers": ["first-signal"],
        "created_ms": NOW,
    }
    if by is not None:
        values["by"] = by
    values.update(fields)
    return Map(values)


def add_event(event_id: str, by: str | None, **fields: Any) -> Callable[[Doc[Any]], None]:
    def edit(doc: Doc[Any]) -> None:
        events(doc)[event_id] = event(event_id, by, **fields)

    return edit


def set_field(event_id: str, key: str, value: Any) -> Callable[[Doc[Any]], None]:
    def edit(doc: Doc[Any]) -> None:
        events(doc)[event_id][key] = value

    return edit


def delete_event(event_id: str) -> Callable[[Doc[Any]], None]:
    def edit(doc: Doc[Any]) -> None:
        del events(doc)[event_id]

    return edit


@pytest.fixture
def timeline() -> Server:
    return Server(TIMELINE)


@pytest.fixture
def recap() -> Server:
    return Server(RECAP)


def shared(server: Server, by: Writer, event_id: str = "ev1") -> Client:
    """A client of ``by`` whose event ``event_id`` the server has accepted."""
    client = Client(server, client_id=abs(hash(by.participant_id)) % 1_000_000 + 1)
    server.receive(client.change(add_event(event_id, by.participant_id)), by)
    return client


# --- ownership -------------------------------------------------------------------


def test_owner_adds_edits_and_deletes_own_event(timeline: Server) -> None:
    ana = Client(timeline, 11)
    added = timeline.receive(ana.change(add_event("ev1", ANA.participant_id)), ANA)
    assert [(e.op, e.target, e.participant_id, e.doc) for e in added] == [
        ("add", "event ev1", "p-ana", "timeline")
    ]
    assert added[0].fields == (
        "by", "created_ms", "id", "link", "markers", "source", "text", "time"
    )  # fmt: skip

    def edit(doc: Doc[Any]) -> None:
        events(doc)["ev1"]["text"] = "The alert fired twice"
        events(doc)["ev1"]["markers"] = ["first-signal", "escalation-delay"]

    edited = timeline.receive(ana.change(edit), ANA)
    assert [(e.op, e.target, e.fields) for e in edited] == [
        ("edit", "event ev1", ("markers", "text"))
    ]
    deleted = timeline.receive(ana.change(delete_event("ev1")), ANA)
    assert [(e.op, e.target, e.fields, e.at_ms) for e in deleted] == [
        ("delete", "event ev1", (), NOW)
    ]
    assert "ev1" not in events(timeline.doc)


def test_participant_may_not_edit_or_delete_someone_elses_event(timeline: Server) -> None:
    ana = shared(timeline, ANA)
    ben = Client(timeline, 22)
    with pytest.raises(GuardRefused, match="someone else"):
        timeline.guard.check(ben.change(set_field("ev1", "text", "not what happened")), BEN, NOW)
    ben2 = Client(timeline, 23)
    with pytest.raises(GuardRefused, match="someone else"):
        timeline.guard.check(ben2.change(delete_event("ev1")), BEN, NOW)
    # the shadow was rebuilt without the refused changes: the owner carries on
    entries = timeline.receive(ana.change(set_field("ev1", "text", "Alert at 09:14")), ANA)
    assert [(e.op, e.fields) for e in entries] == [("edit", ("text",))]
    assert events(timeline.doc)["ev1"]["text"] == "Alert at 09:14"


@pytest.mark.parametrize("writer", [MOD, SCRIBE], ids=["moderator", "scribe"])
def test_moderator_and_scribe_may_change_any_event(timeline: Server, writer: Writer) -> None:
    shared(timeline, ANA)
    client = Client(timeline, 33)
    entries = timeline.receive(client.change(set_field("ev1", "source", "chat")), writer)
    assert [(e.op, e.participant_id, e.role) for e in entries] == [
        ("edit", writer.participant_id, writer.role)
    ]
    entries = timeline.receive(client.change(delete_event("ev1")), writer)
    assert [e.op for e in entries] == ["delete"]


def test_imported_event_belongs_to_nobody(timeline: Server) -> None:
    shared(timeline, ANA, "ev_mine")  # the shadow exists before the import arrives
    timeline.edit(lambda doc: events(doc).__setitem__("ev_imp", event("ev_imp", None)))
    ana = Client(timeline, 11)
    with pytest.raises(GuardRefused, match="no author"):
        timeline.guard.check(ana.change(delete_event("ev_imp")), ANA, NOW)
    ana = Client(timeline, 12)
    with pytest.raises(GuardRefused, match="no author"):
        timeline.guard.check(ana.change(set_field("ev_imp", "text", "x")), ANA, NOW)
    mod = Client(timeline, 44)
    assert [e.op for e in timeline.receive(mod.change(delete_event("ev_imp")), MOD)] == ["delete"]


def test_imported_event_is_protected_when_the_shadow_is_built_after_it(timeline: Server) -> None:
    timeline.edit(lambda doc: events(doc).__setitem__("ev_imp", event("ev_imp", None)))
    ana = Client(timeline, 11)
    with pytest.raises(GuardRefused, match="no author"):
        timeline.guard.check(ana.change(delete_event("ev_imp")), ANA, NOW)


def test_by_must_be_the_writer_and_never_changes(timeline: Server) -> None:
    ben = Client(timeline, 22)
    with pytest.raises(GuardRefused, match="by must be your own"):
        timeline.guard.check(ben.change(add_event("ev9", ANA.participant_id)), BEN, NOW)
    ben = Client(timeline, 23)
    with pytest.raises(GuardRefused, match="by must be your own"):
        timeline.guard.check(ben.change(add_event("ev9", None)), BEN, NOW)
    ana = shared(timeline, ANA)
    with pytest.raises(GuardRefused, match="cannot change"):
        timeline.guard.check(ana.change(set_field("ev1", "by", BEN.participant_id)), ANA, NOW)
    mod = Client(timeline, 44)
    with pytest.raises(GuardRefused, match="cannot change"):
        timeline.guard.check(mod.change(set_field("ev1", "by", MOD.participant_id)), MOD, NOW)
    mod = Client(timeline, 45)
    with pytest.raises(GuardRefused, match="cannot change"):
        timeline.guard.check(mod.change(lambda d: events(d)["ev1"].pop("by")), MOD, NOW)
    mod = Client(timeline, 46)
    with pytest.raises(GuardRefused, match="cannot change"):  # replaced under another author
        timeline.guard.check(mod.change(add_event("ev1", MOD.participant_id)), MOD, NOW)


def test_observer_and_participant_roles_are_limited(timeline: Server, recap: Server) -> None:
    observer = Writer("p-obs", "Olu", "observer")
    with pytest.raises(GuardRefused, match="role"):
        timeline.guard.check(Client(timeline, 5).change(add_event("e", "p-obs")), observer, NOW)
    update = Client(recap, 6).change(lambda d: d.get("text", type=Text).insert(0, "x"))
    with pytest.raises(GuardRefused, match="role"):
        recap.guard.check(update, ANA, NOW)


def test_delete_only_update_wiping_the_timeline(timeline: Server) -> None:
    shared(timeline, ANA, "ev1")
    shared(timeline, BEN, "ev2")
    timeline.edit(lambda doc: events(doc).__setitem__("ev_imp", event("ev_imp", None)))
    ana = Client(timeline, 11)

    def wipe(doc: Doc[Any]) -> None:
        events(doc).clear()

    update = ana.change(wipe)
    assert update[0] == 0  # no structs: a delete-only update
    assert DocGuard.needs_check(TIMELINE, set(), unrooted=False, has_deletes=True)
    with pytest.raises(GuardRefused, match="may change it"):
        timeline.guard.check(update, ANA, NOW)
    assert len(events(timeline.doc)) == 3
    entries = timeline.receive(update, MOD)  # the same update from the moderator
    assert sorted((e.op, e.target) for e in entries) == [
        ("delete", "event ev1"),
        ("delete", "event ev2"),
        ("delete", "event ev_imp"),
    ]


# --- schema ----------------------------------------------------------------------


def _bad_events() -> list[tuple[str, Callable[[Doc[Any]], None], str]]:
    return [
        ("markers 5", add_event("e", "p-ana", markers=5), "markers"),
        ("markers [{}]", add_event("e", "p-ana", markers=[{}]), "markers"),
        ("unknown marker", add_event("e", "p-ana", markers=["blame"]), "markers"),
        ("repeated marker", add_event("e", "p-ana", markers=["handoff", "handoff"]), "repeat"),
        ("markers Y.Array", add_event("e", "p-ana", markers=Array(["handoff"])), "markers"),
        ("eleven markers", add_event("e", "p-ana", markers=["handoff"] * 11), "markers"),
        ("text as a map", add_event("e", "p-ana", text=Map({"a": 1})), "text"),
        ("text as Y.Text", add_event("e", "p-ana", text=Text("hi")), "text"),
        ("text too long", add_event("e", "p-ana", text="x" * (MAX_EVENT_TEXT + 1)), "text"),
        ("unknown key", add_event("e", "p-ana", severity="sev1"), "unknown field"),
        ("javascript link", add_event("e", "p-ana", link="javascript:alert(1)"), "link"),
        ("link without host", add_event("e", "p-ana", link="https://"), "link"),
        ("time with markup", add_event("e", "p-ana", time="<img src=x onerror=1>"), "time"),
        ("time without zone", add_event("e", "p-ana", time="2025-03-01T09:14:00"), "time"),
        ("time as number", add_event("e", "p-ana", time=1_700_000_000), "time"),
        ("source not in enum", add_event("e", "p-ana", source="rumour"), "source"),
        ("created_ms text", add_event("e", "p-ana", created_ms="now"), "created_ms"),
        ("created_ms bool", add_event("e", "p-ana", created_ms=True), "created_ms"),
        ("id not the key", add_event("e", "p-ana", id="other"), "id"),
        ("key too long", add_event("e" * 101, "p-ana"), "ids are"),
        ("plain value", lambda d: events(d).__setitem__("e", {"id": "e"}), "map of fields"),
        ("text value", lambda d: events(d).__setitem__("e", Text("e")), "map of fields"),
        ("string value", lambda d: events(d).__setitem__("e", "e"), "map of fields"),
    ]


@pytest.mark.parametrize(
    ("change", "reason"),
    [pytest.param(c, r, id=name) for name, c, r in _bad_events()],
)
def test_badly_typed_event_is_refused(
    timeline: Server, change: Callable[[Doc[Any]], None], reason: str
) -> None:
    update = Client(timeline, 11).change(change)
    with pytest.raises(GuardRefused, match=reason):
        timeline.guard.check(update, ANA, NOW)


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("markers", 5, "markers"),
        ("markers", [{}], "markers"),
        ("text", Map({"nested": "map"}), "text"),
        ("link", "ftp://files.example/x", "link"),
        ("severity", "sev1", "unknown field"),
        ("id", "ev2", "id must equal"),
    ],
)
def test_badly_typed_edit_is_refused(timeline: Server, key: str, value: Any, reason: str) -> None:
    ana = shared(timeline, ANA)
    with pytest.raises(GuardRefused, match=reason):
        timeline.guard.check(ana.change(set_field("ev1", key, value)), ANA, NOW)


def test_changes_inside_a_nested_value_are_refused(timeline: Server) -> None:
    """Older data may hold a nested type; changing inside it is not a documented write."""
    timeline.edit(add_event("ev_old", None, markers=Array(["handoff"])))
    mod = Client(timeline, 44)
    with pytest.raises(GuardRefused, match="plain values"):
        timeline.guard.check(
            mod.change(lambda d: events(d)["ev_old"]["markers"].append("x")), MOD, NOW
        )


def test_what_the_web_app_writes_is_accepted(timeline: Server) -> None:
    """Date.toISOString() without ".000", empty optional fields, a far-future year."""
    ana = Client(timeline, 11)
    for n, (time, link) in enumerate(
        [
            ("2025-03-01T09:14:00Z", ""),
            ("2025-03-01T09:14:00.250Z", "http://intranet.example:8080/x?a=b#c"),
            ("+020000-01-01T00:00:00Z", ""),
            ("", ""),
        ]
    ):
        update = ana.change(add_event(f"ev_{n}", "p-ana", time=time, link=link, markers=[]))
        assert timeline.receive(update, ANA)[0].op == "add"
    update = ana.change(lambda d: events(d).__setitem__("ev_min", Map({"by": "p-ana"})))
    assert timeline.receive(update, ANA)[0].fields == ("by",)


def test_timeline_is_limited_to_max_events(timeline: Server) -> None:
    def fill(doc: Doc[Any]) -> None:
        for n in range(MAX_EVENTS):
            events(doc)[f"ev_{n}"] = Map({"id": f"ev_{n}"})

    timeline.edit(fill)
    update = Client(timeline, 11).change(add_event("one_more", "p-ana"))
    with pytest.raises(GuardRefused, match=f"at most {MAX_EVENTS} events"):
        timeline.guard.check(update, ANA, NOW)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"due": "31/03/2025"}, "due"),
        ({"due": "2025-13-01"}, "due"),
        ({"kind": "blame"}, "kind"),
        ({"what": "x" * 501}, "what"),
        ({"owner": 42}, "owner"),
        ({"owner": ["Ana", 5]}, "owner"),
        ({"verify": Text("text")}, "verify"),
        ({"created_ms": float("nan")}, "created_ms"),
        ({"by": "p-mod"}, "unknown field"),
    ],
)
def test_badly_typed_action_is_refused(recap: Server, fields: dict[str, Any], reason: str) -> None:
    def add(doc: Doc[Any]) -> None:
        values = {"id": "a1", "what": "Add an alert", "owner": "Priya", "due": "", **fields}
        actions(doc)["a1"] = Map(values)

    with pytest.raises(GuardRefused, match=reason):
        recap.guard.check(Client(recap, 7).change(add), SCRIBE, NOW)


def test_scribe_writes_actions_and_edits_are_audited(recap: Server) -> None:
    scribe = Client(recap, 7)

    def add(doc: Doc[Any]) -> None:
        fields = {"id": "a1", "what": "", "owner": "", "due": "", "verify": "", "kind": ""}
        actions(doc)["a1"] = Map({**fields, "created_ms": NOW})

    assert [(e.op, e.target) for e in recap.receive(scribe.change(add), SCRIBE)] == [
        ("add", "action a1")
    ]
    entries = recap.receive(
        scribe.change(lambda d: actions(d)["a1"].__setitem__("due", "2025-04-30")), SCRIBE
    )
    assert [(e.op, e.target, e.fields) for e in entries] == [("edit", "action a1", ("due",))]
    entries = recap.receive(scribe.change(lambda d: actions(d).pop("a1")), MOD)
    assert [(e.op, e.target, e.role) for e in entries] == [("delete", "action a1", "moderator")]


def test_recap_text_limits_and_plain_text(recap: Server) -> None:
    scribe = Client(recap, 7)
    text_update = scribe.change(lambda d: d.get("text", type=Text).insert(0, "é" * 1000))
    assert [(e.op, e.target, e.fields) for e in recap.receive(text_update, SCRIBE)] == [
        ("edit", "recap text", ())
    ]
    too_long = Client(recap, 8).change(
        lambda d: d.get("text", type=Text).insert(0, "x" * (MAX_RECAP_TEXT - 999))
    )
    with pytest.raises(GuardRefused, match="recap text is limited"):
        recap.guard.check(too_long, SCRIBE, NOW)
    with pytest.raises(GuardRefused, match="follow-ups is limited"):
        recap.guard.check(
            Client(recap, 9).change(
                lambda d: d.get("followups", type=Text).insert(0, "x" * (MAX_FOLLOWUPS + 1))
            ),
            SCRIBE,
            NOW,
        )
    with pytest.raises(GuardRefused, match="embedded"):
        recap.guard.check(
            Client(recap, 10).change(lambda d: d.get("text", type=Text).insert_embed(0, {"a": 1})),
            SCRIBE,
            NOW,
        )
    with pytest.raises(GuardRefused, match="formatting"):
        recap.guard.check(
            Client(recap, 12).change(lambda d: d.get("text", type=Text).format(0, 2, {"b": 1})),
            SCRIBE,
            NOW,
        )
    entries = recap.receive(
        scribe.change(lambda d: d.get("followups", type=Text).insert(0, "Check the pager\n")),
        SCRIBE,
    )
    assert [e.target for e in entries] == ["follow-ups"]


# --- what needs a check, and staying in step -------------------------------------


def test_unknown_root_is_kept_and_needs_no_check(timeline: Server) -> None:
    assert not DocGuard.needs_check(TIMELINE, {"bench"}, unrooted=False, has_deletes=False)
    assert DocGuard.needs_check(TIMELINE, {"bench", "events"}, unrooted=False, has_deletes=False)
    assert DocGuard.needs_check(TIMELINE, {"bench"}, unrooted=True, has_deletes=False)
    assert DocGuard.needs_check(RECAP, {"text"}, unrooted=False, has_deletes=False)
    assert not DocGuard.needs_check(RECAP, {"events"}, unrooted=False, has_deletes=False)
    assert not DocGuard.needs_check("room", {"review"}, unrooted=True, has_deletes=True)
    update = Client(timeline, 11).change(lambda d: d.get("bench", type=Map).__setitem__("k", 1))
    entries = timeline.guard.check(update, ANA, NOW, roots={"bench"})
    assert [(e.op, e.target) for e in entries] == [("edit", "root bench")]


def test_an_update_building_on_a_refused_one_is_refused(timeline: Server) -> None:
    ben = Client(timeline, 22)
    refused = ben.change(add_event("ev2", "p-ana"))  # forged author
    with pytest.raises(GuardRefused):
        timeline.guard.check(refused, BEN, NOW)
    later = ben.change(set_field("ev2", "by", "p-ben"))  # its parent never reached the server
    with pytest.raises(GuardRefused, match="does not have"):
        timeline.guard.check(later, BEN, NOW)
    assert "ev2" not in events(timeline.doc)


def test_a_client_stuck_behind_a_refused_change_costs_no_rebuild(timeline: Server) -> None:
    shared(timeline, ANA)
    ben = Client(timeline, 22)
    with pytest.raises(GuardRefused):
        timeline.guard.check(ben.change(add_event("ev2", "p-ana")), BEN, NOW)
    timeline.guard.check(Client(timeline, 23).change(add_event("ev3", "p-ben")), BEN, NOW)
    assert timeline.builds == 2  # rebuilt once after the refusal
    for n in range(3):  # each keystroke builds on the refused event
        later = ben.change(set_field("ev2", "text", "x" * n))
        summary = scan_update(later)
        with pytest.raises(GuardRefused, match="does not have"):
            timeline.guard.check(later, BEN, NOW, structs=summary.structs, deletes=summary.deletes)
    gone = ben.change(delete_event("ev2"))
    summary = scan_update(gone)
    with pytest.raises(GuardRefused, match="does not have"):
        timeline.guard.check(gone, BEN, NOW, structs=summary.structs, deletes=summary.deletes)
    assert timeline.builds == 2


def test_changes_followed_while_the_shadow_is_stale_are_not_lost(timeline: Server) -> None:
    shared(timeline, ANA)
    with pytest.raises(GuardRefused):  # spoils the shadow
        timeline.guard.check(Client(timeline, 22).change(add_event("e", "p-ana")), BEN, NOW)
    timeline.edit(add_event("ev_ben", BEN.participant_id))  # e.g. from another process
    timeline.edit(add_event("ev_imp", None))
    ben = Client(timeline, 23)
    assert [e.op for e in timeline.receive(ben.change(delete_event("ev_ben")), BEN)] == ["delete"]
    with pytest.raises(GuardRefused, match="no author"):
        timeline.guard.check(Client(timeline, 24).change(delete_event("ev_imp")), BEN, NOW)


def test_deleting_what_the_server_lacks_is_refused(timeline: Server) -> None:
    ben = Client(timeline, 22)
    ben.change(add_event("ev2", "p-ana"))  # never sent
    with pytest.raises(GuardRefused, match="deletes what the server does not have"):
        timeline.guard.check(ben.change(delete_event("ev2")), BEN, NOW)


def test_follow_keeps_the_shadow_in_step(timeline: Server) -> None:
    ana = shared(timeline, ANA)
    timeline.edit(add_event("ev_srv", None))  # server edit, followed
    timeline.edit(set_field("ev1", "text", "Corrected by the server"))
    mod = Client(timeline, 44)
    assert [e.op for e in timeline.receive(mod.change(delete_event("ev_srv")), MOD)] == ["delete"]
    ana.pull(timeline)
    entries = timeline.receive(ana.change(set_field("ev1", "text", "Mine again")), ANA)
    assert [e.fields for e in entries] == [("text",)]
    # Ben's event accepted by another process reaches this one through follow: still his
    timeline.edit(add_event("ev_remote", BEN.participant_id))
    ben = Client(timeline, 22)
    assert [e.op for e in timeline.receive(ben.change(delete_event("ev_remote")), BEN)] == [
        "delete"
    ]


def test_audit_record_is_json_ready() -> None:
    entry = AuditEntry(NOW, "p-ana", "Ana", "participant", TIMELINE, "edit", "event e", ("text",))
    assert entry.to_record() == {
        "at_ms": NOW,
        "participant_id": "p-ana",
        "name": "Ana",
        "role": "participant",
        "doc": "timeline",
        "op": "edit",
        "target": "event e",
        "fields": ["text"],
    }


# --- coalescing ------------------------------------------------------------------


def _entry(
    at_ms: int, op: str, target: str, fields: tuple[str, ...] = (), who: str = "p-ana"
) -> AuditEntry:
    return AuditEntry(at_ms, who, "Ana", "participant", RECAP, op, target, fields)


def test_audit_trail_coalesces_repeated_edits() -> None:
    trail = AuditTrail(window_ms=60_000)
    trail.add([_entry(NOW, "add", "action a1", ("id", "what"))])
    for n in range(200):  # typing: one entry per keystroke
        trail.add([_entry(NOW + n * 100, "edit", "action a1", ("what",))])
        trail.add([_entry(NOW + n * 100, "edit", "recap text")])
    trail.add([_entry(NOW + 20_000, "edit", "action a1", ("owner",))])
    trail.add([_entry(NOW + 21_000, "edit", "action a1", ("due",), who="p-mod")])
    assert len(trail) == 4
    assert trail.drain(NOW + 59_999) == [_entry(NOW, "add", "action a1", ("id", "what"))]
    ready = trail.drain(NOW + 60_000)
    assert ready == [
        _entry(NOW, "edit", "action a1", ("owner", "what")),
        _entry(NOW, "edit", "recap text"),
    ]
    assert trail.drain(force=True) == [_entry(NOW + 21_000, "edit", "action a1", ("due",), "p-mod")]
    assert trail.drain(force=True) == []


def test_audit_trail_starts_a_new_entry_after_the_window_or_a_delete() -> None:
    trail = AuditTrail(window_ms=60_000)
    trail.add([_entry(NOW, "edit", "recap text")])
    trail.add([_entry(NOW + 60_000, "edit", "recap text")])
    trail.add([_entry(NOW + 61_000, "edit", "action a1", ("what",))])
    trail.add([_entry(NOW + 62_000, "delete", "action a1")])
    trail.add([_entry(NOW + 63_000, "edit", "action a1", ("what",))])
    assert [(e.at_ms - NOW, e.op, e.target) for e in trail.drain(force=True)] == [
        (0, "edit", "recap text"),
        (60_000, "edit", "recap text"),
        (61_000, "edit", "action a1"),
        (62_000, "delete", "action a1"),
        (63_000, "edit", "action a1"),
    ]


def test_only_the_moderator_and_scribe_choose_what_the_recap_keeps(timeline: Server) -> None:
    ana = Client(timeline, 11)
    timeline.receive(ana.change(add_event("ev_a", ANA.participant_id)), ANA)
    # Her own event, but the recap's choice is not hers to make: neither on an edit...
    ana.pull(timeline)
    with pytest.raises(GuardRefused, match="only the moderator or scribe"):
        timeline.guard.check(ana.change(set_field("ev_a", "recap", "keep")), ANA, NOW)
    # ... nor on a new event of her own.
    fresh = Client(timeline, 12)
    with pytest.raises(GuardRefused, match="only the moderator or scribe"):
        timeline.guard.check(
            fresh.change(add_event("ev_b", ANA.participant_id, recap="keep")), ANA, NOW
        )
    # The scribe keeps or drops anyone's event, with documented values only.
    sam = Client(timeline, 13)
    timeline.receive(sam.change(set_field("ev_a", "recap", "drop")), SCRIBE)
    assert events(timeline.doc)["ev_a"]["recap"] == "drop"
    sam.pull(timeline)
    with pytest.raises(GuardRefused, match="recap"):
        timeline.guard.check(sam.change(set_field("ev_a", "recap", "maybe")), SCRIBE, NOW)
