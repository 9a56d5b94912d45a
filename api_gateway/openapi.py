"""One OpenAPI document for the whole system, merged from the gateway's and each service's own.

A service's paths are taken only under the prefix the gateway routes to it (so its /health and
/metrics stay internal). Schemas that two services name alike but define differently are
renamed `<service>__<name>`, with that service's references rewritten to match.
"""

import asyncio
import json
import logging

import httpx

from api_gateway.proxy import Upstream

logger = logging.getLogger(__name__)

SCHEMA_REF_PREFIX = "#/components/schemas/"


async def merged_openapi(
    gateway_document: dict, clients: dict[str, httpx.AsyncClient], upstreams: list[Upstream], timeout: float
) -> dict:
    documents = await asyncio.gather(*(_fetch(clients[u.service], u, timeout) for u in upstreams))
    merged = json.loads(json.dumps(gateway_document))
    paths = merged.setdefault("paths", {})
    components = merged.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    security_schemes = components.setdefault("securitySchemes", {})
    unavailable = []
    for upstream, document in zip(upstreams, documents, strict=True):
        if document is None:
            unavailable.append(upstream.service)
            continue
        renames = {
            name: f"{upstream.service}__{name}"
            for name, schema in document.get("components", {}).get("schemas", {}).items()
            if name in schemas and schemas[name] != schema
        }
        document = _renamed(document, renames)
        for path, operations in document.get("paths", {}).items():
            if path == upstream.prefix or path.startswith(upstream.prefix + "/"):
                paths[path] = operations
        schemas.update(document.get("components", {}).get("schemas", {}))
        security_schemes.update(document.get("components", {}).get("securitySchemes", {}))
    if unavailable:
        merged["info"]["description"] += f"\n\nNot listed (service unreachable just now): {', '.join(unavailable)}."
    return merged


async def _fetch(client: httpx.AsyncClient, upstream: Upstream, timeout: float) -> dict | None:
    try:
        response = await client.get(upstream.replicas_in_turn()[0] + "/openapi.json", timeout=timeout)
        response.raise_for_status()
        return response.json()
    except (httpx.HTTPError, ValueError) as exc:
        logger.warning("No OpenAPI document from %s: %s", upstream.service, exc)
        return None


def _renamed(document: dict, renames: dict[str, str]) -> dict:
    if not renames:
        return document
    text = json.dumps(document)
    for old, new in renames.items():
        text = text.replace(f'"{SCHEMA_REF_PREFIX}{old}"', f'"{SCHEMA_REF_PREFIX}{new}"')
    renamed = json.loads(text)
    schemas = renamed["components"]["schemas"]
    for old, new in renames.items():
        schemas[new] = schemas.pop(old)
    return renamed
