"""What a recap is made of: its sections and labels, shared by the builder and renderers.

Kept apart so `recap` (building) and `recap_render` (Markdown, HTML) both import it
instead of each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FORMAT = "debrief.recap/1"
SECTIONS: tuple[tuple[str, str], ...] = (
    ("scope", "Scope"),
    ("baseline_metrics", "Baseline metrics"),
    ("timeline", "Timeline"),
    ("contributing_factors", "Contributing factors"),
    ("worked_well", "What worked well"),
    ("questionnaire", "Questionnaire answers"),
    ("actions", "Action items"),
    ("follow_ups", "Follow-ups"),
    ("parked_topics", "Parked topics"),
    ("scribe_text", "Notes from the scribe"),
)
# Sections shown only when they hold something, each (key, heading, shown before the
# fixed section with this key): a review that carried no earlier actions has no
# "Open actions reviewed", and its recap keeps the shape (and hash) it always had.
OPTIONAL_SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("carried_actions", "Open actions reviewed", "actions"),
)
CARRIED_STATUS_LABELS = {
    "open": "Open",
    "in-progress": "In progress",
    "done": "Done, waiting for verification",
    "verified": "Verified",
    "wont-do": "Won't do",
}
SCOPE_LABELS = {
    "event": "Event under review",
    "question": "Business question",
    "window": "Time window",
    "expected_output": "Expected output",
}
Doc = Mapping[str, Any]
