"""Debrief's y-websocket load generator and side-by-side benchmark harness (see bench/README.md)."""
