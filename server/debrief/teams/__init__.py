"""Teams, their people and the follow-through of actions after a review closes.

Storage-facing services live here; the pure rules (status transitions, field checks)
live in debrief.followup, which imports nothing that does I/O.
"""
