import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from prometheus_client import Gauge

from common.api_docs import install_api_docs
from common.db import Database, install_database_error_handlers
from common.http import create_service_app, health_response, install_http_conventions
from common.logging import configure_logging
from common.remote_auth import AuthServiceClient
from common.telemetry import flush_traces, start_tracing
from notification_service.config import Settings
from notification_service.consumer import EventConsumer
from notification_service.mailer import Mailer
from notification_service.notifier import NotificationLog, Notifier
from notification_service.routes import router
from notification_service.streams import StreamHub

SERVICE_NAME = "notification_service"


def create_app(settings: Settings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        config = settings or Settings()
        configure_logging(config.log_level, config.log_format)
        start_tracing(SERVICE_NAME)
        # One connection beyond the worker threads, for the consumer.
        database = Database(
            config.database_url, config.worker_threads, background_workers=1, tls_ca_file=config.database_tls_ca_file
        )
        database.limit_worker_threads()
        auth_client = AuthServiceClient.from_settings(config, app.state.metrics_registry)
        mailer = (
            Mailer(
                config.smtp_host,
                config.smtp_port,
                config.smtp_from,
                config.smtp_username,
                config.smtp_password,
                config.smtp_starttls,
                config.smtp_timeout_seconds,
            )
            if config.enable_email_notifications
            else None
        )
        notification_log = NotificationLog(config.notification_log_file)
        notifier = Notifier(database.session_factory, notification_log, mailer)
        stream_hub = StreamHub(asyncio.get_running_loop(), config.max_streams, config.max_streams_per_user)
        Gauge(
            "notification_live_streams",
            "Open GET /notifications/stream connections",
            registry=app.state.metrics_registry,
        ).set_function(stream_hub.open_streams)
        consumer = EventConsumer(
            notifier,
            config.rabbitmq_url,
            config.events_exchange,
            config.queue_name,
            config.dead_letter_exchange,
            config.dead_letter_queue,
            config.live_exchange,
            stream_hub.publish_threadsafe,
            app.state.metrics_registry,
        )
        consumer.report_connection("notification_event_consumer_connected", app.state.metrics_registry)
        app.state.settings = config
        app.state.database = database
        app.state.auth_client = auth_client
        app.state.consumer = consumer
        app.state.notification_log = notification_log
        app.state.stream_hub = stream_hub
        consumer.start()
        yield
        consumer.stop()
        await auth_client.aclose()
        database.dispose()
        flush_traces()

    app = create_service_app("Notification Service", lifespan)
    install_http_conventions(app)
    install_database_error_handlers(app)
    app.include_router(router)
    install_api_docs(app)

    @app.get("/health", tags=["health"])
    async def health(request: Request):
        state = request.app.state
        database_ok = await run_in_threadpool(state.database.is_reachable)
        # Events wait in the queue while the log cannot be written: report it rather than look fine.
        log_ok = await run_in_threadpool(state.notification_log.is_writable)
        return health_response(
            SERVICE_NAME, {"database": database_ok, "consumer": state.consumer.connected, "log_file": log_ok}
        )

    return app


app = create_app()
