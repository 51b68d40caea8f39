"""Pure rules of the follow-through: people's fields, action statuses and their history.

Nothing here does I/O; the services in debrief.teams store what these rules decide.
"""
