from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool

from common.api_docs import install_api_docs
from common.db import Database, install_database_error_handlers
from common.http import create_service_app, health_response, install_http_conventions
from common.logging import configure_logging
from common.remote_auth import AuthServiceClient
from common.telemetry import flush_traces, start_tracing
from task_service.config import Settings
from task_service.messaging import OutboxGauges, OutboxRelay
from task_service.routes import router
from task_service.services import TaskService

SERVICE_NAME = "task_service"


def create_app(settings: Settings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        config = settings or Settings()
        configure_logging(config.log_level, config.log_format)
        start_tracing(SERVICE_NAME)
        # One connection beyond the worker threads, for the outbox relay.
        database = Database(
            config.database_url, config.worker_threads, background_workers=1, tls_ca_file=config.database_tls_ca_file
        )
        database.limit_worker_threads()
        auth_client = AuthServiceClient.from_settings(config, app.state.metrics_registry)
        relay = OutboxRelay(
            database.session_factory,
            config.rabbitmq_url,
            config.events_exchange,
            config.outbox_poll_seconds,
            app.state.metrics_registry,
        )
        relay.report_connection("task_event_relay_connected", app.state.metrics_registry)
        app.state.before_scrape.append(OutboxGauges(database, app.state.metrics_registry).measure)
        app.state.settings = config
        app.state.database = database
        app.state.auth_client = auth_client
        app.state.relay = relay
        app.state.task_service = TaskService(database, relay)
        relay.start()
        yield
        relay.stop()
        await auth_client.aclose()
        database.dispose()
        flush_traces()

    app = create_service_app("Task Service", lifespan)
    install_http_conventions(app)
    install_database_error_handlers(app)
    app.include_router(router)
    install_api_docs(app)

    @app.get("/health", tags=["health"])
    async def health(request: Request):
        database_ok = await run_in_threadpool(request.app.state.database.is_reachable)
        # Events wait in the outbox while the broker is away, so the service still serves.
        return health_response(
            SERVICE_NAME,
            {"database": database_ok, "broker": request.app.state.relay.connected},
            optional=frozenset({"broker"}),
        )

    return app


app = create_app()
