"""Local stand-ins for the outside systems, for development and tests only."""
