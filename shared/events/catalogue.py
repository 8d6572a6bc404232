"""Importing this module registers every payload schema the system knows."""

from shared.events import booking, directory, identity, notifications, placements

__all__ = ["booking", "directory", "identity", "notifications", "placements"]
