"""Migrations build each schema from nothing, and replicas starting together may all run them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from common.migrations import drop_everything, migration_lock
from tests.helpers import DATABASE_URL_VARIABLES, ROOT, SCRATCH_DATABASE_URLS

REPLICAS = 4
# One service per database server is enough for the lock: PostgreSQL's and MariaDB's.
SERVICES = ["auth_service", "task_service"]


def head_of(service: str) -> str:
    versions = sorted(Path(ROOT / service / "migrations" / "versions").glob("[0-9]*.py"))
    return versions[-1].name.split("_", 1)[0]


@pytest.mark.parametrize("service", SERVICES)
def test_replicas_migrating_at_the_same_time_all_succeed(service):
    variable, url = DATABASE_URL_VARIABLES[service], SCRATCH_DATABASE_URLS[service]
    drop_everything(url)
    alembic = [sys.executable, "-m", "alembic", "-c", f"{service}/alembic.ini", "upgrade", "head"]

    runs = [
        subprocess.Popen(alembic, cwd=ROOT, env={**os.environ, variable: url}, stderr=subprocess.PIPE, text=True)
        for _ in range(REPLICAS)
    ]
    outcomes = [run.communicate(timeout=120) for run in runs]
    failures = [stderr for run, (_, stderr) in zip(runs, outcomes, strict=True) if run.returncode != 0]

    assert failures == []
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == head_of(service)
    assert "alembic_version" in inspect(engine).get_table_names()
    engine.dispose()


@pytest.mark.parametrize("service", SERVICES)
def test_a_migration_waits_while_another_holds_the_lock(service):
    variable, url = DATABASE_URL_VARIABLES[service], SCRATCH_DATABASE_URLS[service]
    drop_everything(url)
    engine = create_engine(url)
    with engine.connect() as holder:
        with migration_lock(holder):
            waiting = subprocess.Popen(
                [sys.executable, "-m", "alembic", "-c", f"{service}/alembic.ini", "upgrade", "head"],
                cwd=ROOT,
                env={**os.environ, variable: url},
            )
            with pytest.raises(subprocess.TimeoutExpired):
                waiting.wait(timeout=3)
            assert "alembic_version" not in inspect(engine).get_table_names()
        assert waiting.wait(timeout=60) == 0
    assert "alembic_version" in inspect(engine).get_table_names()
    engine.dispose()
