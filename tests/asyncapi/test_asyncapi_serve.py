"""Serving the document: ``/asyncapi.json`` and the ``/asyncapi`` page, in-process and rendered by
a headless Chromium against a real uvicorn, with the React bundle served locally."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import Route as StarletteRoute

from tests.asyncapi import asyncapi_app as rep
from tests.asyncapi.support import REACT_COMPONENT, chromium, missing_tool
from tests.conftest import LiveServer
from zndraw_socketio import mount_asyncapi, wrap
from zndraw_socketio.asyncapi import DEFAULT_BUNDLE_URL, DEFAULT_CSS_URL, asyncapi_html

BUNDLE_PATH = "/static/asyncapi/index.js"
CSS_PATH = "/static/asyncapi/default.min.css"


def client(app: Any, root_path: str = "") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, root_path=root_path)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def test_json_and_page_on_a_fastapi_app() -> None:
    app = FastAPI(title="Served", version="3.0.1")
    mount_asyncapi(app, rep.tsio)
    async with client(app) as http:
        got = await http.get("/asyncapi.json")
        page = await http.get("/asyncapi")
        openapi = (await http.get("/openapi.json")).json()
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("application/json")
    assert got.json() == rep.tsio.asyncapi_schema(title="Served", version="3.0.1")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f'<script src="{DEFAULT_BUNDLE_URL}"></script>' in page.text
    assert f'href="{DEFAULT_CSS_URL}"' in page.text
    assert '"url": "/asyncapi.json"' in page.text
    assert "/asyncapi" not in json.dumps(openapi["paths"])  # not part of the OpenAPI schema


async def test_the_document_follows_handlers_registered_later() -> None:
    tsio = wrap(socketio.AsyncServer(async_mode="asgi"))
    app = Starlette()
    mount_asyncapi(app, tsio, path="/docs/events", title="Later", version="1")
    async with client(app) as http:
        assert (await http.get("/docs/events.json")).json()["operations"] == {}

        @tsio.on(rep.Ping)
        async def handle_ping(sid: str, data: rep.Ping) -> rep.Pong:
            return rep.Pong(reply=data.message)

        doc = (await http.get("/docs/events.json")).json()
        page = await http.get("/docs/events")
    assert list(doc["operations"]) == ["handlePing"]
    assert doc["info"] == {"title": "Later", "version": "1"}
    assert '"url": "/docs/events.json"' in page.text


async def test_bundle_urls_and_root_path() -> None:
    app = FastAPI()
    mount_asyncapi(app, rep.tsio, bundle_url="/b.js", css_url=None, json_path="/spec.json")
    async with client(app, root_path="/api") as http:
        page = (await http.get("/asyncapi")).text
        assert (await http.get("/spec.json")).status_code == 200
    assert '<script src="/b.js"></script>' in page
    assert "stylesheet" not in page
    assert '"url": "/api/spec.json"' in page


def test_the_page_escapes_what_it_embeds() -> None:
    page = asyncapi_html(schema_url="/x</script><b>.json", title="<T>", bundle_url='/a".js')
    assert "</script><b>" not in page
    assert "&lt;T&gt;" in page
    assert 'src="/a&quot;.js"' in page


def page_app() -> FastAPI:
    """A FastAPI app serving the representative document, with the React bundle served from the
    installed ``@asyncapi/react-component`` (no CDN)."""
    if not (REACT_COMPONENT / "browser" / "standalone" / "index.js").is_file():
        missing_tool("@asyncapi/react-component is not installed: run `npm ci` in tests/asyncapi/node")
    app = FastAPI(title="Representative API", version="2.1.0")

    async def bundle(request: Request) -> FileResponse:
        return FileResponse(
            REACT_COMPONENT / "browser" / "standalone" / "index.js", media_type="text/javascript"
        )

    async def css(request: Request) -> FileResponse:
        return FileResponse(REACT_COMPONENT / "styles" / "default.min.css", media_type="text/css")

    app.router.routes.append(StarletteRoute(BUNDLE_PATH, bundle))
    app.router.routes.append(StarletteRoute(CSS_PATH, css))
    mount_asyncapi(app, rep.tsio, bundle_url=BUNDLE_PATH, css_url=CSS_PATH)
    return app


def run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=20000",
    ]
    return subprocess.run([binary, *flags, *args], capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.timeout(240)
async def test_chromium_renders_the_operations(live_server: LiveServer, tmp_path: Path) -> None:
    binary = chromium()
    app = page_app()
    async with live_server(app) as url:
        # chromium blocks: run it in a thread so that the server in this loop keeps serving
        dom = await asyncio.to_thread(
            run_chromium, binary, tmp_path / "profile1", "--dump-dom", f"{url}/asyncapi"
        )
        shot = tmp_path / "asyncapi.png"
        await asyncio.to_thread(
            run_chromium,
            binary,
            tmp_path / "profile2",
            "--window-size=1280,2000",
            f"--screenshot={shot}",
            f"{url}/asyncapi",
        )
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert "Loading the AsyncAPI document" not in html  # the bundle replaced the placeholder
    assert "Representative API" in html
    for op_id in ("handlePing", "chatPing", "handleRequest", "sendSessionLeft", "sendSelectionChanged"):
        assert re.search(f'id="operation-[a-z]+-{op_id}"', html), op_id
    for address in ("/ping", "/chat/ping", "/session_left"):
        assert address in html
    assert shot.is_file() and shot.stat().st_size > 10_000
