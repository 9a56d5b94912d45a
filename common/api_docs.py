"""Swagger UI at /docs and ReDoc at /redoc, their scripts and styles served by the service itself.

FastAPI's own pages load Swagger UI and ReDoc from a public CDN, so on a network without internet
access they are blank. Here the assets come from the pinned `fastapi-standalone-docs` package
(Swagger UI and ReDoc's standalone bundle, shipped as package data, so they are in every image
that installs the service's requirements), mounted under /docs/assets. Only its files are used:
the pages are FastAPI's `get_swagger_ui_html` and `get_redoc_html`, pointed at those files.
"""

from pathlib import Path

import fastapi_standalone_docs
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.routing import Mount, Route

from common.metrics import LabelledRoute

# swagger/ (swagger-ui-bundle.js, swagger-ui.css), redoc/ (redoc.standalone.js, logo-mini.svg),
# fastapi/ (favicon.png), each with its licence.
ASSETS_DIRECTORY = Path(fastapi_standalone_docs.__file__).parent / "static"
ASSETS_PATH = "/docs/assets"
DOCS_PATH = "/docs"
OAUTH2_REDIRECT_PATH = "/docs/oauth2-redirect"
REDOC_PATH = "/redoc"
# The package's ReDoc bundle shows its logo from beside the page (the page's path + "/logo-mini.svg").
REDOC_LOGO_PATH = "/redoc/logo-mini.svg"


def asset_urls(root_path: str = "") -> dict[str, str]:
    """Where the pages load each asset from, under the path the service is served at."""
    base = root_path + ASSETS_PATH
    return {
        "swagger_js_url": f"{base}/swagger/swagger-ui-bundle.js",
        "swagger_css_url": f"{base}/swagger/swagger-ui.css",
        "swagger_favicon_url": f"{base}/fastapi/favicon.png",
        "redoc_js_url": f"{base}/redoc/redoc.standalone.js",
        "redoc_favicon_url": f"{base}/fastapi/favicon.png",
    }


def install_api_docs(app: FastAPI, openapi_url: str = "/openapi.json", title: str | None = None) -> None:
    """/docs and /redoc for `openapi_url`, for an app made with `docs_url=None, redoc_url=None`.

    Plain routes, as FastAPI's own pages are, so they stay out of the OpenAPI document and of the
    lists of API endpoints.
    """
    page_title = title or app.title

    async def swagger_ui(request: Request) -> HTMLResponse:
        root_path = request.scope.get("root_path", "")
        urls = asset_urls(root_path)
        return get_swagger_ui_html(
            openapi_url=root_path + openapi_url,
            title=f"{page_title} - Swagger UI",
            swagger_js_url=urls["swagger_js_url"],
            swagger_css_url=urls["swagger_css_url"],
            swagger_favicon_url=urls["swagger_favicon_url"],
            oauth2_redirect_url=root_path + OAUTH2_REDIRECT_PATH,
        )

    async def swagger_ui_oauth2_redirect(request: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(request: Request) -> HTMLResponse:
        root_path = request.scope.get("root_path", "")
        urls = asset_urls(root_path)
        return get_redoc_html(
            openapi_url=root_path + openapi_url,
            title=f"{page_title} - ReDoc",
            redoc_js_url=urls["redoc_js_url"],
            redoc_favicon_url=urls["redoc_favicon_url"],
            with_google_fonts=False,
        )

    async def redoc_logo(request: Request) -> FileResponse:
        return FileResponse(ASSETS_DIRECTORY / "redoc" / "logo-mini.svg", media_type="image/svg+xml")

    app.router.routes.extend(
        [
            Route(DOCS_PATH, swagger_ui, methods=["GET"], include_in_schema=False),
            Route(OAUTH2_REDIRECT_PATH, swagger_ui_oauth2_redirect, methods=["GET"], include_in_schema=False),
            Route(REDOC_PATH, redoc, methods=["GET"], include_in_schema=False),
            Route(REDOC_LOGO_PATH, redoc_logo, methods=["GET"], include_in_schema=False),
            _AssetsMount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIRECTORY), name="api-docs-assets"),
        ]
    )


class _AssetsMount(LabelledRoute, Mount):
    """Counted by the metrics as /docs/assets, once, not per file."""
