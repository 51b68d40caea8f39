"""Invites, sessions and roles: who may read and write which doc of which review."""
