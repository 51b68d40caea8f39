"""Rooms: one per (review, doc), holding the doc, its awareness and its peers."""

from debrief.rooms.manager import RoomManager
from debrief.rooms.peer import Peer, Transport
from debrief.rooms.room import Room

__all__ = ["Peer", "Room", "RoomManager", "Transport"]
