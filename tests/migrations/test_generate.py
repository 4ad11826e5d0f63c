"""``cidery db generate -m MESSAGE``: whatever the message, the revision it writes imports.

The message becomes the first line of the revision's docstring. A triple quote,
a backslash or a line break in it used to end the docstring early or make the
file fail to compile, and then every command that loads the revisions crashed;
a crafted message could even add code to the revision. The message is now one
line, escaped in the template, and read back exactly; an empty or overlong one
is refused with one line.

Each test generates into a copy of the migrations directory (``script_location``),
against the shared migrated database (autogenerate only reads it).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import Engine

from cidery.errors import RevisionError
from cidery.migrations import scripts

CIDERY = Path(sys.executable).parent / "cidery"

# A payload a crafted message tries to run when the revision is imported.
PAYLOAD = "import pathlib; pathlib.Path(__file__).with_name('INJECTED').touch()"

HOSTILE = {
    "triple quotes": 'say """hi""" to the press',
    "a trailing quote": 'the "quoted"',
    "a trailing backslash": "ends with a backslash \\",
    "escape sequences": r"\N{oops} \x \u12 and \\ too",
    "line breaks": "first line\nsecond line\r\n\tthird\u2028fourth",
    "control characters": "nul\x00 bell\x07 escape\x1b[31m",
    "code after the docstring": f'"""\n{PAYLOAD}\n"""',
    "code after a closing quote": f'x"""; {PAYLOAD}; """',
}


def _copy(tmp_path: Path) -> Path:
    location = tmp_path / "migrations"
    shutil.copytree(scripts.MIGRATIONS_DIR, location, ignore=shutil.ignore_patterns("__pycache__"))
    return location


def _import(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"generated_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("message", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_message_cannot_break_or_inject_into_the_revision(
    engine: Engine, tmp_path: Path, message: str
) -> None:
    location = _copy(tmp_path)

    script = scripts.generate(engine, message, script_location=location)

    path = Path(script.path)
    assert path.parent == location / "versions"
    compile(path.read_text(), str(path), "exec")  # a SyntaxError fails here
    module = _import(path)
    assert not (path.parent / "INJECTED").exists(), "the message ran as code"
    expected = scripts.one_line(message)
    assert module.__doc__ is not None
    assert module.__doc__.split("\n\n", 1)[0] == expected
    # Every command loads the revisions: they still load, the new one at the head.
    directory = scripts.script_directory(location)
    assert scripts.head(location) == script.revision
    assert scripts.revisions_in_order(directory)[-1].doc == expected
    up, down = scripts.sql_file_paths(script)
    assert up.parent == down.parent == location / "sql"
    assert up.exists()
    assert down.exists()


def test_the_message_is_one_line_of_printable_characters() -> None:
    assert scripts.one_line("  add\tpress\n\nruns\x00 ") == "add press runs"
    assert scripts.docstring_text('a "b" \\c') == 'a \\"b\\" \\\\c'


@pytest.mark.parametrize(
    "message",
    ["", "   ", "\n\t", '"""', "x" * (scripts.MAX_MESSAGE_LENGTH + 1)],
    ids=["empty", "spaces", "whitespace", "no words", "too long"],
)
def test_an_empty_or_overlong_message_is_refused(
    engine: Engine, tmp_path: Path, message: str
) -> None:
    location = _copy(tmp_path)
    before = sorted((location / "versions").iterdir())
    with pytest.raises(RevisionError) as raised:
        scripts.generate(engine, message, script_location=location)
    assert "\n" not in str(raised.value)
    assert sorted((location / "versions").iterdir()) == before, "no file was written"


def test_cli_refuses_an_overlong_message_in_one_line(
    empty_url: str, tmp_path: Path, cli_env: Callable[..., dict[str, str]]
) -> None:
    """The message is checked first. (An empty database: were it not refused, generate
    would stop at "not at head" rather than write into the package's revisions.)"""
    env = cli_env(empty_url)
    result = subprocess.run(
        [str(CIDERY), "db", "generate", "-m", "x" * 500],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result
    assert lines[0].startswith("error: a revision message is one line of at most"), result
