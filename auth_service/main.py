from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool

from auth_service.config import Settings
from auth_service.routes import router
from auth_service.security import PasswordHasher, SignInGate, TokenIssuer
from auth_service.services import AccountService
from common.api_docs import install_api_docs
from common.db import Database, install_database_error_handlers
from common.http import create_service_app, health_response, install_http_conventions
from common.logging import configure_logging
from common.revocations import RevocationCounters, connect
from common.telemetry import flush_traces, start_tracing

SERVICE_NAME = "auth_service"


def create_app(settings: Settings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        config = settings or Settings()
        configure_logging(config.log_level, config.log_format)
        start_tracing(SERVICE_NAME)
        database = Database(
            config.database_url, config.worker_threads, background_workers=0, tls_ca_file=config.database_tls_ca_file
        )
        database.limit_worker_threads()
        revocations = RevocationCounters(connect(config.redis_url)) if config.redis_url else None
        app.state.settings = config
        app.state.database = database
        app.state.accounts = AccountService(
            database,
            PasswordHasher(config.bcrypt_rounds, config.hashing_concurrency, config.hashing_queue_limit),
            TokenIssuer(
                config.jwt_secret_key, config.jwt_algorithm, timedelta(minutes=config.access_token_expire_minutes)
            ),
            revocations,
        )
        yield
        if revocations is not None:
            await revocations.aclose()
        database.dispose()
        flush_traces()

    app = create_service_app("Auth Service", lifespan)
    # Added first, so it runs inside the shared middleware: refusals are logged and counted too.
    app.add_middleware(SignInGate)
    install_http_conventions(app)
    install_database_error_handlers(app)
    app.include_router(router)
    install_api_docs(app)

    @app.get("/health", tags=["health"])
    async def health(request: Request):
        database_ok = await run_in_threadpool(request.app.state.database.is_reachable)
        return health_response(SERVICE_NAME, {"database": database_ok})

    return app


app = create_app()
