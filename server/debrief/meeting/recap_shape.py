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
SCOPE_LABELS = {
    "event": "Event under review",
    "question": "Business question",
    "window": "Time window",
    "expected_output": "Expected output",
}
Doc = Mapping[str, Any]
