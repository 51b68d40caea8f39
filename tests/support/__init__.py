"""Helpers shared by the tests: a real server process and a real Yjs client."""
