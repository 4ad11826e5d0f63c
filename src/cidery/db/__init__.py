"""Reaching PostgreSQL: engines and sessions (:mod:`.engine`), the embedded server
(:mod:`.server`)."""
