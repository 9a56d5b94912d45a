"""The body of every service's alembic `env.py`: one way to run migrations, online or offline.

Every container runs `alembic upgrade head` before it starts serving, so several replicas may
migrate at once; a database-wide lock makes them take turns, and all but the first find the
schema already at head. `drop_everything` empties a database for a schema built from nothing
(a restore, the migration tests).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import context
from sqlalchemy import Connection, MetaData, create_engine, inspect, text
from sqlalchemy.dialects.postgresql.base import PGInspector
from sqlalchemy.pool import NullPool

LOCK_NAME = "alembic-migrations"
LOCK_TIMEOUT_SECONDS = 300


def run_migrations(metadata: MetaData, default_url: str) -> None:
    # Tests and provisioning pass the URL in `attributes`: alembic.ini would choke on a '%' in it.
    url = context.config.attributes.get("database_url") or default_url
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection, migration_lock(connection):
        context.configure(connection=connection, target_metadata=metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


@contextmanager
def migration_lock(connection: Connection) -> Iterator[None]:
    """Hold a session-level lock for the whole migration (PostgreSQL advisory lock, MySQL GET_LOCK)."""
    if connection.dialect.name == "postgresql":
        acquire = text("SELECT pg_advisory_lock(hashtext(:name))")
        release = text("SELECT pg_advisory_unlock(hashtext(:name))")
        parameters: dict[str, str | int] = {"name": LOCK_NAME}
    else:
        acquire = text("SELECT GET_LOCK(:name, :timeout)")
        release = text("SELECT RELEASE_LOCK(:name)")
        parameters = {"name": LOCK_NAME, "timeout": LOCK_TIMEOUT_SECONDS}
    acquired = connection.execute(acquire, parameters).scalar()
    if acquired == 0:
        raise TimeoutError(f"another migration held {LOCK_NAME!r} for over {LOCK_TIMEOUT_SECONDS} s")
    # The lock belongs to the session, not the transaction: end the one SELECT began, so alembic
    # runs (and commits) its own.
    connection.commit()
    try:
        yield
    finally:
        connection.execute(release, {"name": LOCK_NAME})
        connection.commit()


def drop_everything(url: str) -> None:
    """Drop every table (and on PostgreSQL every enum type), so nothing left over clashes with a new schema."""
    engine = create_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        metadata.drop_all(engine)
        inspector = inspect(engine)
        if isinstance(inspector, PGInspector):
            with engine.begin() as connection:
                for enum in inspector.get_enums():
                    connection.execute(text(f'DROP TYPE IF EXISTS "{enum["name"]}"'))
    finally:
        engine.dispose()
