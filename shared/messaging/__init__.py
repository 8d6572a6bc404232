"""Reliable events: the transactional outbox, its relay, and the idempotent consumer."""
