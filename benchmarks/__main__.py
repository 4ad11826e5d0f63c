"""``python -m benchmarks generate|run`` from the repository root (``make bench``)."""

from benchmarks.cli import app
from cidery.cli.main import run_app

run_app(app)
