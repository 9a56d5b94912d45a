"""/docs and /redoc load Swagger UI and ReDoc from the service itself, from the installed package's files."""

import re
from importlib import metadata
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import generate_latest

from common.api_docs import ASSETS_DIRECTORY, install_api_docs
from common.config import ServiceSettings
from common.http import install_http_conventions
from tests.helpers import ROOT

CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml"}


def docs_app() -> FastAPI:
    app = FastAPI(title="Thing Service", docs_url=None, redoc_url=None)
    app.state.settings = ServiceSettings()
    install_http_conventions(app)
    install_api_docs(app)
    return app


def loaded_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


@pytest.mark.parametrize(("page", "expected"), [("/docs", 3), ("/redoc", 2)])
def test_each_page_loads_its_assets_from_the_service_itself(page: str, expected: int):
    client = TestClient(docs_app())

    response = client.get(page)

    assert response.status_code == 200
    urls = loaded_urls(response.text)
    assert len(urls) == expected, urls
    for url in urls:
        assert url.startswith("/docs/assets/"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["content-type"].startswith(CONTENT_TYPES[url[url.rindex(".") :]]), url
        assert len(asset.content) > 500, url


def test_the_pages_name_no_host_but_the_services_own():
    client = TestClient(docs_app())

    for page in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        text = client.get(page).text
        assert not re.search(r"https?://", text), page
        assert "fonts.googleapis" not in text


def test_redocs_logo_is_served_where_its_bundle_looks_for_it():
    client = TestClient(docs_app())

    # The package's bundle asks for it beside the page (the page's path + "/logo-mini.svg").
    bundle = (ASSETS_DIRECTORY / "redoc" / "redoc.standalone.js").read_text()
    assert 'window.location.pathname+"/logo-mini.svg"' in bundle
    response = client.get("/redoc/logo-mini.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")


def test_the_assets_are_the_installed_packages_files_not_the_repositorys():
    """What `pip install -r requirements.txt` puts in an image, so the Docker images serve them too."""
    installed = {
        str(Path(file.locate()).resolve())
        for file in metadata.files("fastapi-standalone-docs") or []
        if file.suffix in CONTENT_TYPES
    }

    for name in ("swagger/swagger-ui-bundle.js", "swagger/swagger-ui.css", "redoc/redoc.standalone.js"):
        path = (ASSETS_DIRECTORY / name).resolve()
        assert str(path) in installed, name
    repository_files = {path.resolve() for path in ROOT.rglob("*.js") if ".venv" not in path.parts}
    assert not {(ASSETS_DIRECTORY / "swagger" / "swagger-ui-bundle.js").resolve()} & repository_files


def test_docs_pages_stay_out_of_the_openapi_document_and_metrics_count_assets_once():
    app = docs_app()
    client = TestClient(app)

    assert all(not path.startswith(("/docs", "/redoc")) for path in client.get("/openapi.json").json()["paths"])
    for name in ("swagger/swagger-ui.css", "swagger/swagger-ui-bundle.js", "no-such-file.js"):
        client.get(f"/docs/assets/{name}")
    metrics = generate_latest(app.state.metrics_registry).decode()
    assert 'route="/docs/assets",status="200"} 2.0' in metrics
    assert 'route="/docs/assets",status="404"} 1.0' in metrics
    assert "swagger-ui.css" not in metrics


def test_unknown_assets_are_404_and_paths_outside_the_folder_are_refused():
    client = TestClient(docs_app())

    assert client.get("/docs/assets/swagger/nothing.js").status_code == 404
    assert client.get("/docs/assets/%2e%2e/%2e%2e/common/api_docs.py").status_code == 404
    assert client.get("/docs/assets/..%2f..%2fcommon%2fapi_docs.py").status_code == 404
