import logging.config

from alembic import context

from common.migrations import run_migrations
from task_service import models  # noqa: F401  (registers the tables on Base.metadata)
from task_service.config import Settings
from task_service.db import Base

if context.config.config_file_name and context.config.attributes.get("configure_logger", True):
    logging.config.fileConfig(context.config.config_file_name, disable_existing_loggers=False)

run_migrations(Base.metadata, Settings().database_url)
