"""The meeting domain: pure functions over plain data (no I/O, no asyncio).

Modules: errors, texts, values, agenda, timer, lint, importers, recap, review.
The HTTP layer calls these and maps `errors.DomainError` to `{"error", "detail"}`.
"""
