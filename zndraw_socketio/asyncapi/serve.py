"""Serving the document: ``/asyncapi.json`` and an HTML page, as FastAPI serves ``/openapi.json``
and ``/docs``.

The page loads the AsyncAPI React standalone bundle (``@asyncapi/react-component``) from a CDN by
default; pass ``bundle_url``/``css_url`` to serve it yourself (offline use, tests).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route as StarletteRoute

from .builder import build_asyncapi
from .dump import to_json

__all__ = ["REACT_COMPONENT_VERSION", "asyncapi_html", "mount_asyncapi"]

REACT_COMPONENT_VERSION = "3.2.1"
"""The ``@asyncapi/react-component`` version the default CDN URLs point at."""

_CDN = f"https://unpkg.com/@asyncapi/react-component@{REACT_COMPONENT_VERSION}"
DEFAULT_BUNDLE_URL = f"{_CDN}/browser/standalone/index.js"
DEFAULT_CSS_URL = f"{_CDN}/styles/default.min.css"
_DEFAULT_CONFIG: dict[str, Any] = {"show": {"sidebar": True}}


def asyncapi_html(
    *,
    schema_url: str,
    title: str = "AsyncAPI",
    bundle_url: str = DEFAULT_BUNDLE_URL,
    css_url: str | None = DEFAULT_CSS_URL,
    config: Mapping[str, Any] | None = None,
) -> str:
    """The HTML page that renders the document at ``schema_url`` with the React standalone bundle.

    ``config`` is the component's configuration (default: the sidebar shown).
    """
    render = {
        "schema": {"url": schema_url, "requestOptions": {"method": "GET"}},
        "config": dict(config) if config is not None else _DEFAULT_CONFIG,
    }
    # "</" inside a script would end it: JSON allows writing the slash escaped
    script = json.dumps(render, sort_keys=True).replace("</", "<\\/")
    css = f'  <link rel="stylesheet" href="{html.escape(css_url)}">\n' if css_url else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n'
        "<head>\n"
        '  <meta charset="utf-8">\n'
        '  <meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"  <title>{html.escape(title)}</title>\n"
        f"{css}"
        "</head>\n"
        "<body>\n"
        '  <div id="asyncapi">Loading the AsyncAPI document&hellip;</div>\n'
        f'  <script src="{html.escape(bundle_url)}"></script>\n'
        "  <script>\n"
        f'    AsyncApiStandalone.render({script}, document.getElementById("asyncapi"));\n'
        "  </script>\n"
        "</body>\n"
        "</html>\n"
    )


def mount_asyncapi(
    app: Any,
    tsio: Any,
    *,
    path: str = "/asyncapi",
    json_path: str | None = None,
    title: str | None = None,
    version: str | None = None,
    description: str | None = None,
    servers: Mapping[str, Any] | None = None,
    bundle_url: str = DEFAULT_BUNDLE_URL,
    css_url: str | None = DEFAULT_CSS_URL,
    config: Mapping[str, Any] | None = None,
) -> None:
    """Serve ``tsio``'s AsyncAPI document on ``app`` (FastAPI or Starlette).

    Adds ``GET {path}.json`` (or ``json_path``), the document, and ``GET {path}``, the HTML page.
    The document is built from the registered handlers on each request, so handlers registered
    later appear too; building it changes nothing. ``title`` and ``version`` default to the app's
    (FastAPI's ``title``/``version``). The routes are left out of the app's OpenAPI schema.
    """
    page_path = "/" + path.strip("/") if path.strip("/") else "/"
    schema_path = json_path or (page_path.rstrip("/") or "/asyncapi") + ".json"
    doc_title = title or getattr(app, "title", None) or "AsyncAPI"
    doc_version = version or getattr(app, "version", None) or "0.1.0"

    def document() -> dict[str, Any]:
        return build_asyncapi(
            tsio, title=doc_title, version=doc_version, description=description, servers=servers
        )

    async def asyncapi_json(request: Request) -> Response:
        return Response(to_json(document(), indent=None), media_type="application/json")

    async def asyncapi_page(request: Request) -> Response:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        page = asyncapi_html(
            schema_url=root + schema_path,
            title=f"{doc_title} - AsyncAPI",
            bundle_url=bundle_url,
            css_url=css_url,
            config=config,
        )
        return HTMLResponse(page)

    routes = app.router.routes
    # in front, so that a catch-all mounted earlier (a socket.io app at "/") does not shadow them
    routes.insert(0, StarletteRoute(page_path, asyncapi_page, methods=["GET"], include_in_schema=False))
    routes.insert(0, StarletteRoute(schema_path, asyncapi_json, methods=["GET"], include_in_schema=False))
