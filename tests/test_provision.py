"""scripts/provision.py: idempotent, and clear about a server it cannot reach."""

import os
import socket
import subprocess
import sys

from tests.helpers import ROOT


def provision(profile: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "scripts/provision.py", profile],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_second_run_changes_nothing_and_succeeds():
    provision("test")

    again = provision("test")

    assert again.returncode == 0, again.stderr
    assert again.stdout == ""


def closed_loopback_address() -> str:
    """A loopback address where nothing answers on PostgreSQL's port (the servers here bind 127.0.0.1)."""
    for last in range(2, 32):
        address = f"127.0.0.{last}"
        with socket.socket() as probe:
            probe.settimeout(1)
            if probe.connect_ex((address, 5432)) != 0:
                return address
    raise AssertionError("every 127.0.0.x answers on 5432: a server listens on all addresses")


def test_an_unreachable_server_is_named_with_how_to_start_it():
    address = closed_loopback_address()

    result = provision("dev", PROVISION_HOST=address)

    assert result.returncode == 1
    assert f"PostgreSQL is not reachable at {address}:5432" in result.stderr
    assert "docker compose up -d postgres_db mysql_db rabbitmq" in result.stderr
    assert "Traceback" not in result.stderr
