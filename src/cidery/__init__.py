"""cidery: the PostgreSQL data layer and press-run workflow of a cidery management system."""

__version__ = "0.1.0"
