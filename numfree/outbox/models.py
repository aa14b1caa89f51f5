"""The durable outbox: one row per job, written before a request answers."""
