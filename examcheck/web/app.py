"""The ASGI application (Starlette): a page, its static files and four JSON endpoints.

GET  /               the page (statements, prompts, inputs; no keys unless --reveal answers)
GET  /static/...     app.js and app.css (no CDN, no external request)
POST /api/read       {problem, part, text, seq} -> how the checker reads text (MathML)
POST /api/check      {answers, problem?, part?}  -> status and feedback per --reveal
POST /api/save       {student, answers}          -> the YAML answer file (and --collect)
GET  /healthz        "ok"   (and /favicon.ico: 204, so browsers log no 404)

Checks run in a bounded pool: WORKERS threads, each with its own sandbox
worker process (examcheck.limits), admitted by a semaphore; past MAX_WAITING
queued requests the server answers 503 at once instead of stalling everyone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from examcheck.web.answerfile import answers_yaml, collect
from examcheck.web.page import page_html
from examcheck.web.service import BadRequest, ExamService, check_answers, check_student

MAX_BODY = 64 * 1024
STATIC = Path(__file__).parent / "static"
STATIC_TYPES = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cache-Control": "no-store",
}


class Busy(Exception):
    """Too many checks are waiting."""


class Pool:
    """At most `workers` checks at once (each thread keeps one sandbox worker), at most `waiting` queued."""

    def __init__(self, workers: int, waiting: int):
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="examcheck-check")
        self.workers = workers
        self.semaphore: asyncio.Semaphore | None = None
        self.loop = None
        self.waiting_limit = waiting
        self.waiting = 0

    async def run(self, fn, *args):
        if self.waiting >= self.waiting_limit:
            raise Busy
        loop = asyncio.get_running_loop()
        if self.loop is not loop:  # a semaphore belongs to one event loop
            self.loop, self.semaphore = loop, asyncio.Semaphore(self.workers)
        self.waiting += 1
        try:
            async with self.semaphore:
                return await loop.run_in_executor(self.executor, partial(fn, *args))
        finally:
            self.waiting -= 1

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_body(request: Request) -> dict:
    """The request's JSON object, at most MAX_BODY bytes, else BadRequest."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise BadRequest("send JSON (Content-Type: application/json)")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise _TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise _TooLarge
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise BadRequest("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("expected a JSON object")
    return data


class _TooLarge(Exception):
    pass


def _endpoint(handler):
    """Turn BadRequest, oversize bodies and a full pool into clear JSON errors."""

    async def wrapped(request: Request):
        try:
            return await handler(request)
        except _TooLarge:
            return _error(413, f"the request is larger than {MAX_BODY // 1024} KB")
        except BadRequest as exc:
            return _error(400, str(exc))
        except Busy:
            return JSONResponse({"error": "the server is busy; try again in a moment"}, status_code=503,
                                headers={"Retry-After": "1"})

    return wrapped


def create_app(service: ExamService, student: str | None = None, collect_dir: Path | None = None,
               workers: int | None = None, waiting: int = 256) -> Starlette:
    """The application for one served problem set.  student: a fixed student ID; collect_dir: --collect."""
    pool = Pool(workers or max(1, min(4, os.cpu_count() or 1)), waiting)
    page = page_html(service.views(), service.problem_set, service.reveal, student, collect_dir is not None)
    static = {name: (STATIC / name).read_bytes() for name in STATIC_TYPES}

    async def index(request: Request):
        return HTMLResponse(page)

    async def static_file(request: Request):
        name = request.path_params["name"]
        if name not in static:
            return PlainTextResponse("not found", status_code=404)
        return Response(static[name], media_type=STATIC_TYPES[name])

    async def no_icon(request: Request):
        return Response(status_code=204)

    async def health(request: Request):
        return PlainTextResponse("ok")

    @_endpoint
    async def read(request: Request):
        data = await _json_body(request)
        seq = data.get("seq", 0)
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise BadRequest("seq must be an integer")
        service.locate(data.get("problem"), data.get("part"))
        reading = await pool.run(service.read, data.get("problem"), data.get("part"), data.get("text"))
        return JSONResponse({"seq": seq, **reading.to_dict()})

    @_endpoint
    async def check(request: Request):
        data = await _json_body(request)
        only = None
        if data.get("problem") is not None or data.get("part") is not None:
            only = (data.get("problem"), data.get("part"))
            service.locate(*only)
        answers = check_answers(service, data.get("answers", {}))
        return JSONResponse(await pool.run(service.check, answers, only))

    @_endpoint
    async def save(request: Request):
        data = await _json_body(request)
        who = check_student(student if student is not None else data.get("student"))
        text = answers_yaml(who, service.problem_set.exam, check_answers(service, data.get("answers", {})))
        collected = None
        if collect_dir is not None:
            try:
                collected = collect(collect_dir, who, text).name
            except OSError:
                return _error(507, "the answers could not be stored on the server; keep the downloaded file")
        return JSONResponse({"yaml": text, "filename": f"{who}.yaml", "collected": collected})

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        pool.close()

    routes = [
        Route("/", index, methods=["GET"]),
        Route("/static/{name}", static_file, methods=["GET"]),
        Route("/healthz", health, methods=["GET"]),
        Route("/favicon.ico", no_icon, methods=["GET"]),
        Route("/api/read", read, methods=["POST"]),
        Route("/api/check", check, methods=["POST"]),
        Route("/api/save", save, methods=["POST"]),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)], lifespan=lifespan)
    app.state.pool = pool
    return app


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every HTTP response (pure ASGI, so streaming is untouched)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        started = False

        async def send_with_headers(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                extra = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:  # noqa: BLE001 - a bug in examcheck: say so, with headers, and keep the traceback
            import traceback

            from examcheck.bugs import record

            where = record(traceback.format_exc(), f"serve {scope.get('path', '')}")
            if started:
                raise
            reply = JSONResponse({"error": f"internal error (a bug in examcheck); {where}"}, status_code=500)
            await reply(scope, receive, send_with_headers)
