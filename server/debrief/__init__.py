"""Debrief: a self-hosted real-time server for blameless post-mortem meetings."""

__version__ = "0.1.0"
