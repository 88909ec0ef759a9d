"""The ASGI application (Starlette): a page, its static files and four JSON endpoints.

GET  /               the page (statements, prompts, inputs; no keys unless --reveal answers)
GET  /static/...     app.js and app.css (no CDN, no external request)
POST /api/read       {problem, part, text, seq} -> how the checker reads text (MathML)
POST /api/check      {answers, problem?, part?}  -> status and feedback per --reveal
POST /api/save       {student, answers}          -> the YAML answer file (and --collect)
GET  /healthz        "ok"   (and /favicon.ico: 204, so browsers log no 404)

Readings and checks run in a bounded pool (Admission): WORKERS threads plus one
express thread for short readings, each with its own sandbox worker process
(examcheck.limits); past `waiting` queued readings (or checks) the server answers
503 at once instead of stalling everyone.  Bodies must arrive within BODY_SECONDS (slow ones capped: Bodies).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import ipaddress
import itertools
import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from examcheck.parsing import MAX_TEXT
from examcheck.web.answerfile import answers_yaml
from examcheck.web.collecting import Collector, CollectRefused, RateLimit, Roster
from examcheck.web.page import page_html
from examcheck.web.service import BadRequest, ExamService, check_answers, check_student

MAX_BODY = 64 * 1024  # at least; an exam with many parts allows each its MAX_TEXT characters (body_limit)
MAX_HEADERS = 16 * 1024
CHECK_BURST, CHECK_EVERY = 40, 3.0  # checks per student and address: 40 at once, then one every 3 s
BODY_SECONDS = 10.0  # a request body must arrive within this (slow-body clients are cut off)
SLOW_BODY_GRACE = 1.0  # a body still arriving after this is "slow"
MAX_SLOW_BODIES = 64  # slow bodies at once (one more that turns slow is cut: 408)
MAX_SLOW_BODIES_PER_CLIENT = 8  # slow bodies from one client address (likewise)
LOG = logging.getLogger("examcheck.serve")
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
    """Too many requests of this kind are waiting."""


LANES = {"light": 0, "read": 1, "check": 2}  # lower runs first
LIGHT_READ_CHARS = 64  # a short reading with at most one power or factorial is "light": it may use the express worker


def is_light_reading(text) -> bool:
    """Cheap to read, by its look: short, and no tower of powers or factorials (those can take the whole limit)."""
    return (isinstance(text, str) and len(text) <= LIGHT_READ_CHARS
            and text.count("^") + text.count("**") + text.count("!") <= 1)


class Admission:
    """Who runs next, and on which worker thread (each thread keeps one sandbox worker process).

    `workers` threads serve every lane; `express` more threads serve only light readings, so a one-symbol
    reading never waits behind a burst of checks or of long readings.  Waiting requests are served by lane
    (light readings, then other readings, then checks), first come first served within a lane.  Readings
    and checks are admitted separately: past `waiting` queued requests of one kind the server answers 503
    at once, and a flood of checks never fills the readings' queue (or the other way round).
    """

    def __init__(self, workers: int, waiting: int, express: int = 1):
        self.workers, self.express, self.waiting_limit = workers, express, waiting
        self.executor = ThreadPoolExecutor(max_workers=workers + express, thread_name_prefix="examcheck-check")
        self.busy = 0
        self.queue: list = []  # heap of (priority, arrival, future)
        self.arrivals = itertools.count()
        self.waiting = {"read": 0, "check": 0}

    def _fits(self, priority: int) -> bool:
        return self.busy < self.workers + (self.express if priority == 0 else 0)

    def _wake(self) -> None:
        while self.queue:
            priority, _arrival, future = self.queue[0]
            if future.done():  # its request went away while waiting
                heapq.heappop(self.queue)
                continue
            if not self._fits(priority):
                return
            heapq.heappop(self.queue)
            self.busy += 1
            future.set_result(None)

    async def _acquire(self, priority: int) -> None:
        if not self.queue and self._fits(priority):
            self.busy += 1
            return
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self.queue, (priority, next(self.arrivals), future))
        self._wake()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():  # admitted just as it was cancelled
                self._release()
            raise

    def _release(self) -> None:
        self.busy -= 1
        self._wake()

    async def run(self, lane: str, fn, *args):
        kind = "check" if lane == "check" else "read"
        if self.waiting[kind] >= self.waiting_limit:
            raise Busy
        self.waiting[kind] += 1
        try:
            await self._acquire(LANES[lane])
            try:
                return await asyncio.get_running_loop().run_in_executor(self.executor, partial(fn, *args))
            finally:
                self._release()
        finally:
            self.waiting[kind] -= 1

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


def _error(status: int, message: str, retry_after: int | None = None) -> JSONResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)


class Bodies:
    """Request bodies being received.  Each must arrive within `seconds` (else 408).  A body still
    arriving after `grace` seconds is *slow*: at most `total` slow bodies at once and at most `per_client`
    from one client address; a body that turns slow past either cap is cut there and then (408).  So
    clients that trickle bodies cannot hold the server, while every new request is admitted: ordinary
    requests (a body arrives in milliseconds), however many and from however few addresses (a lab behind
    NAT or a proxy), are never refused because of someone else's slow bodies."""

    def __init__(self, seconds: float = BODY_SECONDS, total: int = MAX_SLOW_BODIES,
                 per_client: int = MAX_SLOW_BODIES_PER_CLIENT, grace: float = SLOW_BODY_GRACE):
        self.seconds, self.total, self.per_client, self.grace = seconds, total, per_client, grace
        self.max_body = MAX_BODY
        self.slow: dict[str, int] = {}

    async def read(self, request: Request) -> bytes:
        client = limit_key(_client(request))
        task = asyncio.current_task()
        marked = cut = False

        def mark_slow():
            nonlocal marked, cut
            if sum(self.slow.values()) >= self.total or self.slow.get(client, 0) >= self.per_client:
                cut = True  # the slow ones are capped, never the requests that arrive in time
                task.cancel()
                return
            marked = True
            self.slow[client] = self.slow.get(client, 0) + 1

        timer = asyncio.get_running_loop().call_later(self.grace, mark_slow)
        try:
            async with asyncio.timeout(self.seconds):
                return await _receive(request, self.max_body)
        except TimeoutError:
            raise _Refused(408, f"the request took longer than {self.seconds:g} s to arrive") from None
        except asyncio.CancelledError:
            if not cut:
                raise
            task.uncancel()
            raise _Refused(408, "the request is arriving too slowly while the server (or this computer) has "
                                "too many slow requests open; send it again") from None
        finally:
            timer.cancel()
            if marked:
                self.slow[client] -= 1
                if not self.slow[client]:
                    del self.slow[client]


def body_limit(parts: int) -> int:
    """Bytes a request may have: every part's MAX_TEXT characters at 4 UTF-8 bytes each (a CJK or LaTeX-heavy
    sheet within every per-part limit is never refused for size), and never less than MAX_BODY."""
    return max(MAX_BODY, parts * (4 * MAX_TEXT + 256) + 4096)


async def _receive(request: Request, limit: int = MAX_BODY) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise _TooLarge(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _TooLarge(limit)
    return bytes(body)


def _client(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def limit_key(host: str) -> str:
    """Whom a per-address limit counts: an IPv4 address, or an IPv6 /64 (one machine may own a whole /64)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


async def _json_body(request: Request, bodies: Bodies) -> dict:
    """The request's JSON object, at most MAX_BODY bytes, received in time, else a clear refusal."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise BadRequest("send JSON (Content-Type: application/json)")
    body = await bodies.read(request)
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise BadRequest("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("expected a JSON object")
    return data


def _take(rate: RateLimit, key: str, why: str) -> None:
    wait = rate.take(key)
    if wait:
        raise _Refused(429, f"{why}; wait {int(wait) + 1} s and save again", int(wait) + 1)


class _TooLarge(Exception):
    pass


class _Refused(Exception):
    def __init__(self, status: int, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status, self.retry_after = status, retry_after


def _endpoint(handler):
    """Turn BadRequest, oversize or slow bodies, refusals and a full queue into clear JSON errors;
    a client that goes away is one short log line, not a traceback."""

    async def wrapped(request: Request):
        try:
            return await handler(request)
        except _TooLarge as exc:
            return _error(413, f"the request is larger than {exc.args[0] // 1024} KB")
        except BadRequest as exc:
            return _error(400, str(exc))
        except (_Refused, CollectRefused) as exc:
            return _error(exc.status, str(exc), exc.retry_after)
        except Busy:
            return _error(503, "the server is busy; try again in a moment", 1)
        except ClientDisconnect:
            LOG.info("%s left before sending all of a request to %s", _client(request), request.url.path)
            return Response(status_code=400)  # nobody reads it; uvicorn drops it

    return wrapped


def create_app(service: ExamService, student: str | None = None, collect_dir: Path | None = None,
               workers: int | None = None, waiting: int = 256, roster: Roster | None = None,
               collector: Collector | None = None, bodies: Bodies | None = None,
               save_rate: RateLimit | None = None, guess_rate: RateLimit | None = None,
               check_rate: RateLimit | None = None) -> Starlette:
    """The application for one served problem set.  student: a fixed student ID; collect_dir: --collect;
    roster: students and their tokens (saving then needs the student's token)."""
    admission = Admission(workers or max(1, min(4, os.cpu_count() or 1)), waiting)
    bodies = bodies or Bodies()
    bodies.max_body = body_limit(sum(len(problem.parts) for problem in service.problem_set.problems))
    save_rate = save_rate or RateLimit()
    guess_rate = guess_rate or RateLimit()
    check_rate = check_rate or RateLimit(burst=CHECK_BURST, every=CHECK_EVERY)
    if collector is None and collect_dir is not None:
        collector = Collector(collect_dir)
    page = page_html(service.views(), service.problem_set, service.reveal, student, collector is not None,
                     roster is not None)
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
        data = await _json_body(request, bodies)
        seq = data.get("seq", 0)
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise BadRequest("seq must be an integer")
        service.locate(data.get("problem"), data.get("part"))
        text = data.get("text")
        lane = "light" if is_light_reading(text) else "read"
        reading = await admission.run(lane, service.read, data.get("problem"), data.get("part"), text)
        return JSONResponse({"seq": seq, **reading.to_dict()})

    @_endpoint
    async def check(request: Request):
        data = await _json_body(request, bodies)
        only = None
        if data.get("problem") is not None or data.get("part") is not None:
            only = (data.get("problem"), data.get("part"))
            service.locate(*only)
        answers = check_answers(service, data.get("answers", {}))
        # Checks are rate-limited per student on each address (the page sends its ID; a class behind one
        # NAT address is many students): enough for anyone typing, not for a key searched digit by digit.
        who = student if student is not None else data.get("student")
        who = who if isinstance(who, str) and len(who) <= 64 else ""
        wait = check_rate.take(f"{who}@{limit_key(_client(request))}")
        if wait:
            raise _Refused(429, f"too many checks in a short time; wait {int(wait) + 1} s and check again", int(wait) + 1)
        return JSONResponse(await admission.run("check", service.check, answers, only))

    @_endpoint
    async def save(request: Request):
        data = await _json_body(request, bodies)
        who = check_student(student if student is not None else data.get("student"))
        text = answers_yaml(who, service.problem_set.exam, check_answers(service, data.get("answers", {})))
        client = _client(request)
        download = {"yaml": text, "filename": f"{who}.yaml"}
        try:
            if roster is not None:
                # A right token: limited per student (a class behind one NAT or proxy address is not one
                # bucket).  A wrong one: limited per address, so guessing is throttled without refusing
                # the right-token saves of classmates at that address.
                if not roster.verify(who, data.get("token")):
                    _take(guess_rate, limit_key(client), "too many wrong tokens from this computer")
                    raise _Refused(403, "this student ID and token do not match the roster; check both (your "
                                        "instructor has your token)")
                _take(save_rate, "student:" + who, "you saved very often")
            elif collector is not None:
                _take(save_rate, limit_key(client), "too many saves from this computer")
            if collector is None:
                return JSONResponse({**download, "collected": None})
            try:
                stored = collector.store(who, text, client)
            except OSError:
                LOG.warning("could not store %s's answers in %s", who, collector.folder, exc_info=False)
                raise _Refused(507, "the answers could not be stored on the server; keep the downloaded file") from None
        except (_Refused, CollectRefused) as exc:  # refused hand-in: the reply still carries the file to download
            headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
            return JSONResponse({"error": str(exc), **download, "collected": None}, status_code=exc.status,
                                headers=headers)
        return JSONResponse({**download, **stored})

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        admission.close()

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
    app.state.admission = admission
    app.state.bodies = bodies
    return app


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every HTTP response (pure ASGI, so streaming is untouched)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if sum(len(k) + len(v) + 4 for k, v in scope.get("headers", [])) > MAX_HEADERS:  # all in one read: h11 took them
            reply = JSONResponse({"error": f"the request headers are larger than {MAX_HEADERS // 1024} KB"}, status_code=431)
            return await reply(scope, receive, send)

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
