"""``cidery serve``: the HTTP API and pages, served by uvicorn."""

from __future__ import annotations

import logging
import socket
from typing import Annotated, Any

import typer

from cidery.errors import CideryError

Host = Annotated[
    str, typer.Option(metavar="HOST", help="Address to listen on (0.0.0.0: every interface).")
]
Port = Annotated[int, typer.Option(min=1, max=65535, metavar="PORT", help="TCP port.")]
Workers = Annotated[
    int,
    typer.Option(
        min=1, max=64, metavar="N", help="Worker processes (they share sessions via PostgreSQL)."
    ),
]


def check_ready(app_url: str) -> None:
    """Refuse to serve a database that is unreachable or not at this code's revision."""
    from cidery.db.engine import check_connection, make_engine
    from cidery.migrations.scripts import current_revision, head

    engine = make_engine(app_url)
    try:
        check_connection(engine)
        with engine.connect() as conn:
            revision = current_revision(conn)
    finally:
        engine.dispose()
    expected = head()
    if revision != expected:
        raise CideryError(
            f"the database is at revision {revision or 'none'}, this code needs {expected}: "
            "run `cidery db migrate` first"
        )


APP = "cidery.api.main:from_environment"


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port``, inherited by worker processes."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def check_port(host: str, port: int) -> None:
    """Refuse, in one line, an address this process cannot listen on."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise CideryError(f"cannot listen on {host}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise CideryError(
                f"cannot listen on {host}:{port}: {exc.strerror} (another server? try --port)"
            ) from None


def run_server(app: str, host: str, port: int, workers: int, **extra: Any) -> None:
    """Serve the factory ``app`` ("module:function") with uvicorn until stopped."""
    import uvicorn

    options: dict[str, Any] = {
        "factory": True,
        "host": host,
        "port": port,
        "workers": workers,
        "access_log": False,
        "log_config": None,
        "server_header": False,
        **extra,
    }
    if workers == 1:
        uvicorn.run(app, **options)
        return
    # Several workers share one listening socket, made here rather than by uvicorn:
    # uvicorn's has no protocol number, so asyncio does not set TCP_NODELAY on the
    # connections it accepts, and every answer after a connection's first waits for
    # the client's delayed ACK (about 40 ms; measured by the API benchmark).
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(app, **options)
    Multiprocess(config, sockets=[listening_socket(host, port)]).run()


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Serve until Ctrl-C; the database (embedded or not) keeps running."""

    from cidery.cli import logs
    from cidery.config import load_settings
    from cidery.db.roles import app_database_url

    check_port(host, port)
    check_ready(app_database_url(load_settings()))
    # One structured line per request (cidery.api.access) instead of uvicorn's own.
    logs.configure(min(logging.INFO, logging.getLogger("cidery").getEffectiveLevel()))
    run_server(APP, host, port, workers)


def command(host: Host = "127.0.0.1", port: Port = 8000, workers: Workers = 1) -> None:
    """Serve the HTTP API on http://HOST:PORT (docs at /docs); Ctrl-C stops it."""
    serve(host, port, workers)


def print_sign_ins(url: str) -> None:
    """Where the app is and how to sign in to the sample data (public demo accounts)."""
    from rich.table import Table

    from cidery.cli.output import console
    from cidery.sample.seed import DEMO_API_TOKEN, USERS

    console.print()
    console.print(f"serving on {url}  (API docs: {url}/docs; Ctrl-C stops the app)", soft_wrap=True)
    console.print(f"the pressing page: {url}/pressing", soft_wrap=True)
    table = Table(title="demo sign-ins (sample data only)", title_justify="left")
    for column in ("role", "email", "password"):
        table.add_column(column)
    for user in USERS:
        table.add_row(user.role.value, user.email, user.password)
    console.print(table)
    console.print(f"demo API token (operator): {DEMO_API_TOKEN}", soft_wrap=True)
