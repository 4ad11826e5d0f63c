"""The README's Python example runs as written on the sample data."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from cidery.db.engine import make_engine, transaction
from cidery.models import PressRun
from cidery.models.enums import PressRunStatus
from cidery.sample.seed import seed

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_the_readme_has_one_python_example() -> None:
    assert len(_python_blocks()) == 1


def test_the_python_example_runs_on_the_sample_data(
    clone_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(clone_url)
    try:
        with transaction(engine) as session:
            seed(session)
        monkeypatch.setenv("DATABASE_URL", clone_url)
        exec(compile(_python_blocks()[0], str(README), "exec"), {})
        printed = capsys.readouterr().out
        assert re.fullmatch(r"0\.\d{4} L/kg \[\]\n", printed), printed
        with transaction(engine) as session:
            pressed = session.scalars(
                select(PressRun).where(
                    PressRun.status == PressRunStatus.COMPLETED,
                    PressRun.total_juice_volume_l == Decimal("150.000"),
                )
            ).all()
        assert len(pressed) == 1
    finally:
        engine.dispose()
