import logging.config

from alembic import context

from common.migrations import run_migrations
from notification_service import models  # noqa: F401  (registers the tables on Base.metadata)
from notification_service.config import Settings
from notification_service.db import Base

if context.config.config_file_name and context.config.attributes.get("configure_logger", True):
    logging.config.fileConfig(context.config.config_file_name, disable_existing_loggers=False)

run_migrations(Base.metadata, Settings().database_url)
