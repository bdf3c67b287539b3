"""Files that hold patients' data or the signing key are readable by their owner only, and
`make run` listens on this machine only unless HOST says otherwise."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from shared.config import PROJECT_ROOT, load_settings
from shared.db import make_engine

EVERY_ADDRESS = "0.0.0.0"  # noqa: S104 - the script is checked not to listen there by default


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most machines have (022): files are created readable by everyone."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0)
    yield
    os.umask(previous)


def write_something(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"))
            conn.execute(text("INSERT INTO note (body) VALUES ('Elena Parker')"))
        with engine.connect() as reader:  # a second connection, as the other app has
            assert reader.execute(text("SELECT count(*) FROM note")).scalar() == 1
            # While a connection is open the WAL and shared-memory files exist.
            database = Path(url.removeprefix("sqlite:///"))
            for suffix in ("", "-wal", "-shm"):
                path = database.with_name(database.name + suffix)
                assert path.exists(), path
                assert mode(path) == 0o600, f"{path.name} is {oct(mode(path))}"
    finally:
        engine.dispose()


def test_a_new_install_creates_its_database_and_key_for_the_owner_only(
    tmp_path: Path, usual_umask: None
) -> None:
    settings = load_settings(env={"CHECKIN_INSTANCE_DIR": str(tmp_path)})

    write_something(settings.database_url)

    assert mode(tmp_path / "checkin.db") == 0o600
    assert mode(tmp_path / "secret_key") == 0o600


def test_the_database_and_key_are_private_even_with_a_umask_that_allows_everything(
    tmp_path: Path, open_umask: None
) -> None:
    settings = load_settings(env={"CHECKIN_INSTANCE_DIR": str(tmp_path)})

    write_something(settings.database_url)

    assert mode(tmp_path / "checkin.db") == 0o600
    assert mode(tmp_path / "secret_key") == 0o600


def test_an_existing_database_keeps_its_mode_and_its_data(
    tmp_path: Path, usual_umask: None
) -> None:
    path = tmp_path / "shared.db"
    first = make_engine(f"sqlite:///{path}")
    with first.begin() as conn:
        conn.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY)"))
        conn.execute(text("INSERT INTO note DEFAULT VALUES"))
    first.dispose()
    path.chmod(0o640)  # an administrator chose to let a backup group read it

    again = make_engine(f"sqlite:///{path}")
    with again.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM note")).scalar() == 1
    again.dispose()

    assert mode(path) == 0o640


def test_an_in_memory_database_leaves_no_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for url in ("sqlite://", "sqlite:///:memory:"):
        engine = make_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
        engine.dispose()
    assert list(tmp_path.iterdir()) == []


# --- scripts/run-apps.sh: where the apps listen ----------------------------------------------


def run_apps(tmp_path: Path, **env: str) -> tuple[list[str], list[str]]:
    """Run scripts/run-apps.sh with stand-ins for streamlit and python that write down how
    they were called; the lines each wrote."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("streamlit", "python"):
        stub = bin_dir / name
        stub.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{tmp_path}/{name}.calls"\n')
        stub.chmod(0o755)
    environment = {k: v for k, v in os.environ.items() if k not in ("HOST", "CHECKIN_KIOSK_URL")}
    environment.update(BIN=str(bin_dir), **env)
    subprocess.run(["bash", "scripts/run-apps.sh"], cwd=PROJECT_ROOT, env=environment,
                   check=True, timeout=60, capture_output=True)
    return ((tmp_path / "streamlit.calls").read_text().splitlines(),
            (tmp_path / "python.calls").read_text().splitlines())


def test_the_apps_listen_on_localhost_unless_host_is_set(tmp_path: Path) -> None:
    streamlit, python = run_apps(tmp_path)

    assert len(streamlit) == 2
    for call in streamlit:
        assert "--server.address localhost" in call
        assert EVERY_ADDRESS not in call
    assert any("http://localhost:8501/_stcore/health" in call for call in python)


@pytest.mark.parametrize(
    ("host", "probe"),
    [(EVERY_ADDRESS, "127.0.0.1"), ("192.168.1.20", "192.168.1.20")],
)
def test_host_sets_the_address_the_apps_listen_on(tmp_path: Path, host: str, probe: str) -> None:
    streamlit, python = run_apps(tmp_path, HOST=host)

    assert len(streamlit) == 2
    assert all(f"--server.address {host}" in call for call in streamlit)
    assert any(f"http://{probe}:8502/_stcore/health" in call for call in python)
