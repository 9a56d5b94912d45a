from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import sessionmaker

from common.db import create_db_engine, database_is_reachable
from common.http import create_http_client, health_response, install_http_conventions
from common.logging import configure_logging
from common.remote_auth import AuthServiceClient
from task_service.config import Settings
from task_service.messaging import OutboxRelay
from task_service.routes import router

SERVICE_NAME = "task_service"


def create_app(settings: Settings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        config = settings or Settings()
        configure_logging(config.log_level)
        engine = create_db_engine(config.database_url)
        session_factory = sessionmaker(engine, expire_on_commit=False)
        http_client = create_http_client(httpx.Timeout(config.auth_timeout_seconds))
        relay = OutboxRelay(session_factory, config.rabbitmq_url, config.events_exchange, config.outbox_poll_seconds)
        app.state.settings = config
        app.state.engine = engine
        app.state.session_factory = session_factory
        app.state.auth_client = AuthServiceClient(config.auth_service_url, http_client)
        app.state.relay = relay
        relay.start()
        yield
        relay.stop()
        await http_client.aclose()
        engine.dispose()

    app = FastAPI(title="Task Service", version="1.0.0", lifespan=lifespan)
    install_http_conventions(app)
    app.include_router(router)

    @app.get("/health", tags=["health"])
    async def health(request: Request):
        database_ok = await run_in_threadpool(database_is_reachable, request.app.state.engine)
        # Events wait in the outbox while the broker is away, so the service still serves.
        return health_response(
            SERVICE_NAME, {"database": database_ok, "broker": request.app.state.relay.connected}, optional={"broker"}
        )

    return app


app = create_app()
