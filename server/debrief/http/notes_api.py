"""Notes, the questionnaire, reveal, themes and voting.

Responses about a note go only to its author and say `"yours": true`; nothing sent to
anyone else carries an author, a participant id or a submission time.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any, Literal

from pycrdt import Doc, Map
from pydantic import BaseModel, ConfigDict, Field

from debrief.auth.roles import DocName
from debrief.http.commands import ALL, ATTENDEES, MODERATOR, Call, CommandSet
from debrief.meeting.errors import Conflict, NotFound, ValidationError
from debrief.meeting.notes import MAX_NOTE, QUESTIONNAIRE, NoteService, check_section, own_view
from debrief.meeting.review import MAX_PROMPTS
from debrief.meeting.values import clean_text
from debrief.meeting.voting import VotingService

api = CommandSet("notes")
MAX_THEME_TITLE = 200  # as _title checks
Kind = Literal["contributing-factor", "worked-well", "other"]
Section = Literal["contributing-factor", "worked-well", "questionnaire", "other"]
Category = Literal[
    "process-gap", "role-ambiguity", "timing-pressure", "information-gap", "tooling", "other"
]


# Ids the server hands out are short; the text limits are the domain's own.
ID_LEN = 64


class NewNote(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Kind = "contributing-factor"
    text: str = Field(max_length=MAX_NOTE)


class NoteEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=MAX_NOTE)


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: int = Field(ge=0, le=MAX_PROMPTS, description="index into the review's questionnaire")
    text: str = Field(max_length=MAX_NOTE, description="empty removes your answer")


class Answers(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answers: list[Answer] = Field(max_length=10)


class SectionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    section: Section


class NewTheme(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(max_length=MAX_THEME_TITLE)
    category: Category = "other"
    section: Section = "contributing-factor"


class ThemeEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, max_length=MAX_THEME_TITLE)
    category: Category | None = None


class Assign(BaseModel):
    model_config = ConfigDict(extra="forbid")
    theme_id: str | None = Field(
        max_length=ID_LEN, description="null takes the notes out of their theme"
    )
    note_ids: list[Annotated[str, Field(max_length=ID_LEN)]] = Field(min_length=1, max_length=500)


class Merge(BaseModel):
    model_config = ConfigDict(extra="forbid")
    theme_ids: list[Annotated[str, Field(max_length=ID_LEN)]] = Field(min_length=1, max_length=100)


class VoteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target: str = Field(max_length=ID_LEN, description="a revealed note id or a theme id")


# --- notes ---------------------------------------------------------------------------


@api.command("POST", "/notes", "Write a note (private until its section is revealed)",
             roles=ATTENDEES, body=NewNote, status=201)  # fmt: skip
async def submit_note(call: Call, body: NewNote) -> Any:
    review = call.writable_review()
    notes = NoteService(call.meeting, call.svc.settings.max_review_notes)
    record = await notes.submit(review, call.session, body.kind, body.text)
    return own_view(record)


@api.command("GET", "/notes/mine", "Your own notes, revealed or not", roles=ATTENDEES)
async def my_notes(call: Call, body: None) -> Any:
    records = await NoteService(call.meeting).mine(call.review_id, call.session)
    return {"notes": [own_view(r) for r in records]}


@api.command("PATCH", "/notes/{note_id}", "Edit your note", roles=ATTENDEES, body=NoteEdit)
async def edit_note(call: Call, body: NoteEdit) -> Any:
    call.writable_review()
    note_id = call.request.path_params["note_id"]
    record = await NoteService(call.meeting).edit(call.review_id, call.session, note_id, body.text)
    return own_view(record)


@api.command("DELETE", "/notes/{note_id}", "Delete your note", roles=ATTENDEES)
async def delete_note(call: Call, body: None) -> Any:
    call.writable_review()
    note_id = call.request.path_params["note_id"]
    await NoteService(call.meeting).delete(call.review_id, call.session, note_id)
    return {"deleted": note_id}


@api.command("POST", "/reveal", "Reveal a section's notes: shuffled, without authors",
             roles=MODERATOR, body=SectionBody)  # fmt: skip
async def reveal(call: Call, body: SectionBody) -> Any:
    call.writable_review()
    count = await NoteService(call.meeting).reveal(call.review_id, body.section)
    return {"section": body.section, "revealed": count}


@api.command("GET", "/questionnaire", "The prompts and your own answers", roles=ALL)
async def get_questionnaire(call: Call, body: None) -> Any:
    review = call.review
    mine = await NoteService(call.meeting).mine(call.review_id, call.session)
    answers = [own_view(r) for r in mine if r["kind"] == QUESTIONNAIRE]
    return {"prompts": review["questionnaire"], "answers": answers}


@api.command("PUT", "/questionnaire", "Answer the prompts privately (revealed anonymously)",
             roles=ATTENDEES, body=Answers)  # fmt: skip
async def answer_questionnaire(call: Call, body: Answers) -> Any:
    review = call.writable_review()
    answers = {a.prompt: a.text for a in body.answers}
    if len(answers) != len(body.answers):
        raise ValidationError("each prompt may be answered once per request", field="answers")
    notes = NoteService(call.meeting, call.svc.settings.max_review_notes)
    saved = await notes.answer_questionnaire(review, call.session, answers)
    return {"prompts": review["questionnaire"], "answers": saved}


# --- themes --------------------------------------------------------------------------


def _title(value: Any) -> str:
    return clean_text(value, "title", max_len=200, min_len=1, single_line=True)


def _theme(doc: Doc, theme_id: str) -> dict[str, Any]:
    theme = doc.get("themes", type=Map).get(theme_id)
    if not isinstance(theme, dict):
        raise NotFound("there is no theme with this id", error="unknown-theme")
    return theme


async def edit_themes(call: Call, change: Any) -> Any:
    call.writable_review()
    return await call.meeting.edit_returning(call.review_id, DocName.ROOM, change)


@api.command("POST", "/themes", "Create a theme", roles=MODERATOR, body=NewTheme, status=201)
async def create_theme(call: Call, body: NewTheme) -> Any:
    theme = {
        "id": "t_" + secrets.token_urlsafe(9),
        "title": _title(body.title),
        "category": body.category,
        "section": check_section(body.section),
        "absorbed": [],
    }

    def change(doc: Doc) -> dict[str, Any]:
        doc.get("themes", type=Map)[theme["id"]] = theme
        return theme

    return await edit_themes(call, change)


@api.command("PATCH", "/themes/{theme_id}", "Rename a theme or change its category",
             roles=MODERATOR, body=ThemeEdit)  # fmt: skip
async def edit_theme(call: Call, body: ThemeEdit) -> Any:
    theme_id = call.request.path_params["theme_id"]
    title = _title(body.title) if body.title is not None else None

    def change(doc: Doc) -> dict[str, Any]:
        theme = dict(_theme(doc, theme_id))
        theme["title"] = title or theme["title"]
        theme["category"] = body.category or theme["category"]
        doc.get("themes", type=Map)[theme_id] = theme
        return theme

    return await edit_themes(call, change)


@api.command("DELETE", "/themes/{theme_id}", "Delete a theme; its notes become ungrouped",
             roles=MODERATOR)  # fmt: skip
async def delete_theme(call: Call, body: None) -> Any:
    theme_id = call.request.path_params["theme_id"]

    def change(doc: Doc) -> dict[str, Any]:
        section = _theme(doc, theme_id)["section"]
        _regroup(doc, {theme_id}, None)
        del doc.get("themes", type=Map)[theme_id]
        return {"deleted": theme_id, "section": section}

    done = await edit_themes(call, change)
    review = call.review
    await VotingService(call.meeting).refresh(review, done["section"])  # drop its count
    return done


def _regroup(doc: Doc, old: set[str], new: str | None) -> None:
    notes = doc.get("notes", type=Map)
    for note_id, note in list(notes.items()):
        if isinstance(note, dict) and note.get("theme_id") in old:
            notes[note_id] = {**note, "theme_id": new}


@api.command("POST", "/themes/assign", "Put revealed notes into a theme (or take them out)",
             roles=MODERATOR, body=Assign)  # fmt: skip
async def assign_notes(call: Call, body: Assign) -> Any:
    def change(doc: Doc) -> dict[str, Any]:
        if body.theme_id is not None:
            _theme(doc, body.theme_id)
        notes = doc.get("notes", type=Map)
        found = {i: notes.get(i) for i in body.note_ids}
        missing = [i for i, note in found.items() if not isinstance(note, dict)]
        if missing:
            raise NotFound(f"no revealed note with id {missing[0]!r}", error="unknown-note")
        for note_id, note in found.items():
            notes[note_id] = {**note, "theme_id": body.theme_id}
        return {"theme_id": body.theme_id, "note_ids": body.note_ids}

    return await edit_themes(call, change)


@api.command("POST", "/themes/{theme_id}/merge",
             "Merge duplicate themes into this one (their notes and votes move here)",
             roles=MODERATOR, body=Merge)  # fmt: skip
async def merge_themes(call: Call, body: Merge) -> Any:
    theme_id = call.request.path_params["theme_id"]

    def change(doc: Doc) -> dict[str, Any]:
        target = dict(_theme(doc, theme_id))
        sources = [_theme(doc, i) for i in dict.fromkeys(body.theme_ids)]
        if any(s["id"] == theme_id for s in sources):
            raise ValidationError("a theme cannot be merged into itself", field="theme_ids")
        if any(s["section"] != target["section"] for s in sources):
            raise Conflict("only themes of the same section can be merged",
                           error="section-mismatch")  # fmt: skip
        themes = doc.get("themes", type=Map)
        absorbed = list(target.get("absorbed") or [])
        for source in sources:
            absorbed += [source["id"], *(source.get("absorbed") or [])]
            _regroup(doc, {source["id"]}, theme_id)
            del themes[source["id"]]
        target["absorbed"] = absorbed
        themes[theme_id] = target
        return target

    merged = await edit_themes(call, change)
    await VotingService(call.meeting).refresh(call.review, merged["section"])
    return merged


# --- voting --------------------------------------------------------------------------


@api.command("POST", "/voting/open", "Open voting in a section", roles=MODERATOR,
             body=SectionBody)  # fmt: skip
async def open_voting(call: Call, body: SectionBody) -> Any:
    review = call.writable_review()
    voting = await VotingService(call.meeting).set_open(review, body.section, True)
    return {"section": body.section, "voting": voting}


@api.command("POST", "/voting/close", "Close voting in a section (counts become visible)",
             roles=MODERATOR, body=SectionBody)  # fmt: skip
async def close_voting(call: Call, body: SectionBody) -> Any:
    review = call.writable_review()
    voting = await VotingService(call.meeting).set_open(review, body.section, False)
    return {"section": body.section, "voting": voting}


@api.command("POST", "/votes", "Put one of your votes on a note or theme", roles=ATTENDEES,
             body=VoteBody)  # fmt: skip
async def cast_vote(call: Call, body: VoteBody) -> Any:
    review = call.writable_review()
    return await VotingService(call.meeting).cast(review, call.participant_id, body.target, True)


@api.command("POST", "/votes/retract", "Take one of your votes back", roles=ATTENDEES,
             body=VoteBody)  # fmt: skip
async def retract_vote(call: Call, body: VoteBody) -> Any:
    review = call.writable_review()
    return await VotingService(call.meeting).cast(review, call.participant_id, body.target, False)


@api.command("GET", "/votes/mine", "Your own votes and how many you have left",
             roles=ATTENDEES)  # fmt: skip
async def my_votes(call: Call, body: None) -> Any:
    review = call.review
    return await VotingService(call.meeting).mine(review, call.participant_id)
