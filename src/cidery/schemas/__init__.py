"""Pydantic v2 types for the API layer; ``cidery types export`` writes their JSON Schema."""
