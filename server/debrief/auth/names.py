"""Display names as people will see them: no invisible or control characters.

A name is shown to everyone in the review (attendees, hands, round-robin, named notes),
so what reads as "Mod" must be "Mod": NFKC folds compatibility look-alikes (full-width
letters, ligatures), and what cannot be seen goes: control characters (NUL, BEL, line
breaks become spaces), format characters (zero-width spaces and joiners, bidi overrides
and isolates), invisible fillers, variation selectors, surrogates and unassigned points.
"""

from __future__ import annotations

import unicodedata

MAX_NAME = 80
# Code points that render as nothing but are ordinary letters or marks to Unicode.
_INVISIBLE = frozenset(
    "\u034f"  # combining grapheme joiner
    "\u115f\u1160\u3164\uffa0"  # Hangul fillers
    "\u2800"  # braille blank
    "\u17b4\u17b5"  # Khmer inherent vowels
)
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def _visible(char: str) -> str:
    """The character itself, a space for a line break or tab, or nothing."""
    if char in _INVISIBLE or "\ufe00" <= char <= "\ufe0f" or "\U000e0100" <= char <= "\U000e01ef":
        return ""
    category = unicodedata.category(char)
    if category in _DROPPED_CATEGORIES:
        return " " if char.isspace() else ""
    return char


def clean_name(raw: str, max_len: int = MAX_NAME) -> str:
    """The name to store and show; "" (shown as the unnamed default) when nothing is left."""
    text = unicodedata.normalize("NFKC", raw)
    text = "".join(_visible(char) for char in text)
    text = " ".join(text.split())  # every run of whitespace, of any kind, is one space
    text = unicodedata.normalize("NFKC", text)  # what was split by a dropped char may compose
    return text[:max_len].rstrip()
