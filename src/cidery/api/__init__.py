"""The HTTP API: a FastAPI application over the services, built by ``create_app``."""
