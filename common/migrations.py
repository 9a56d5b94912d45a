"""The body of every service's alembic `env.py`: one way to run migrations, online or offline."""

from alembic import context
from sqlalchemy import MetaData, create_engine
from sqlalchemy.pool import NullPool


def run_migrations(metadata: MetaData, default_url: str) -> None:
    # Tests and provisioning pass the URL in `attributes`: alembic.ini would choke on a '%' in it.
    url = context.config.attributes.get("database_url") or default_url
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
