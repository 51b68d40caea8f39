"""Human-facing text of the meeting engine, in one place so wording stays consistent.

Tone: plain and blameless. We describe how the work and its conditions produced an
outcome; we never invite people to look for someone at fault.
"""

from __future__ import annotations

# Read aloud (or shown) in the opening phase, before anyone talks about the event.
OPENING_STATEMENT = (
    "This review is about how our systems, processes and conditions led to what "
    "happened. Nobody is on trial. We start from the record, make room for every "
    "voice, and finish with changes that each have one owner."
)

GROUND_RULES: tuple[str, ...] = (
    "People made the best calls they could with what they knew at the time. We ask what "
    "made a choice sensible then, not who should have known better.",
    "Facts before interpretations: we agree on what happened and when before we discuss why.",
    "One person speaks at a time, so quieter colleagues get room to finish a thought.",
    "The timer is there to protect everyone's time; the moderator can extend it on purpose.",
    "Anyone can call ELMO (enough, let's move on) when a topic is stuck. No reason needed.",
    "Say what you are unsure about. Uncertainty is useful information here.",
    "We leave with changes, each with one owner, a due date and a way to check it is done.",
)

# The four default pre-meeting prompts. They follow DESIGN.md, which is our spec.
DEFAULT_QUESTIONNAIRE: tuple[str, ...] = (
    "What went better than expected?",
    "Where did work slow down or become unclear?",
    "Which signals were available but not acted on?",
    "What should we keep, remove, or formalise next time?",
)

# Short prompts for the moderator, keyed by phase slug (see agenda templates).
PHASE_HINTS: dict[str, str] = {
    "opening": "Read the ground rules, restate the scope and the question we want answered.",
    "summary": "Agree on what happened, its impact and where this review stops. No causes yet.",
    "timeline": "Walk the events in order. Mark the first signal, the first response, "
    "handoffs, slow escalations and decisions taken without full information.",
    "factors": "Group the notes into themes. Look for several conditions that stacked up, "
    "not a single cause.",
    "worked-well": "Name the practices that helped, so they can be kept on purpose.",
    "standardise": "Pick what worked so well that it should become the normal way of working.",
    "actions": "Turn findings into changes: one owner, a due date, a way to verify each.",
    "close": "Read the recap back, confirm its wording, and agree who keeps the record.",
    "goals": "Compare what was planned with what happened, using the baseline numbers.",
    "results": "Compare the launch plan with the outcome, using the baseline numbers.",
    "slowdowns": "Find where work waited, became unclear or changed hands without an owner.",
    "next-phase": "Decide what the next phase should start, stop or keep doing.",
    "insights": "Look at the figures of the covered reviews together before anyone explains "
    "them: which categories grew, which actions stalled.",
    "themes": "Take each recurring theme in turn: what do its reviews have in common, and "
    "what did the fixes so far change?",
    "friction": "Say which numbers put this theme first, then agree whether it is the one "
    "worth a training or documentation asset.",
    "asset": "Pick one asset: a checklist, a runbook section or a short exercise, built from "
    "the real scenarios with names replaced by roles.",
    "open-actions": "Overdue first: for each earlier action ask where it stands and what "
    "is in the way, not who is late. Record the status and a line of what was said.",
}

# Questions that open the process up instead of putting a person on the spot.
TIMELINE_QUESTIONS: tuple[str, ...] = (
    "What information was available at this moment?",
    "Which belief at this point later proved to be wrong?",
    "Which options were on the table?",
    "What made this choice a reasonable one at the time?",
)

ELMO_TEXT = "Someone called ELMO: enough, let's move on."

TIMER_EXPIRED_TEXT = "Time is up for this phase. Move on, or extend the timer on purpose."

ANONYMITY_ON_TEXT = (
    "Notes and votes carry no names: nobody, the moderator included, sees who wrote or "
    "voted for what. Changes after a reveal appear together with others, or after a short "
    "random wait, so their timing does not point to anyone either."
)
ANONYMITY_OFF_TEXT = "Anonymity is off for this review: note authors may be shown."

# Labels for the fixed vocabularies (ids are the keys; the UI shows the values).
NOTE_KIND_LABELS: dict[str, str] = {
    "contributing-factor": "Contributing factor",
    "worked-well": "Worked well",
    "questionnaire": "Questionnaire answer",
    "other": "Other",
}

THEME_CATEGORY_LABELS: dict[str, str] = {
    "process-gap": "Process gap",
    "role-ambiguity": "Role ambiguity",
    "timing-pressure": "Timing pressure",
    "information-gap": "Information gap",
    "tooling": "Tooling",
    "other": "Other",
}

ACTION_KIND_LABELS: dict[str, str] = {
    "immediate-remediation": "Immediate remediation",
    "preventive-control": "Preventive control",
    "monitoring": "Monitoring",
    "documentation-ownership": "Documentation ownership",
}

EVENT_SOURCE_LABELS: dict[str, str] = {
    "ticket": "Ticket",
    "log": "Log",
    "chat": "Chat",
    "deploy": "Deploy",
    "alert": "Alert",
    "decision": "Decision",
    "handoff": "Handoff",
    "other": "Other",
}

MARKER_LABELS: dict[str, str] = {
    "first-signal": "First signal",
    "first-response": "First response",
    "handoff": "Handoff",
    "escalation-delay": "Escalation delay",
    "decision-under-uncertainty": "Decision under uncertainty",
    "resolved": "Resolved",
}

STATUS_LABELS: dict[str, str] = {
    "draft": "Draft",
    "scheduled": "Scheduled",
    "live": "Live",
    "closed": "Closed",
}
