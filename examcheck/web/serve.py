"""Start the page: build the service for one problem set and run uvicorn."""

from __future__ import annotations

from pathlib import Path

from examcheck.limits import Limits
from examcheck.model import ProblemSet

# uvicorn, set deliberately: at most LIMIT_CONCURRENCY open connections or requests in flight (past it
# uvicorn answers 503 at once; the open-file limit is raised to cover it); request headers are capped
# at 16 KB; request bodies are timed out by the app (app.BODY_SECONDS).
# KEEP_ALIVE_SECONDS: an idle kept-alive connection is closed after this.  It must be longer than the
# clients' own idle expiry: with uvicorn's default of 5 s, equal to httpx's, the load benchmark lost
# about one request in 1,000 in half its runs (the server closed a connection just as the client sent
# a request on it; the client then waited out its whole timeout).  Browsers retry such a request on a
# fresh connection; 30 s makes the race rare for them too, at the cost of idle connections held longer.
LIMIT_CONCURRENCY = 1000
KEEP_ALIVE_SECONDS = 30
OPEN_FILES = 4096


def build_app(problem_set: ProblemSet, reveal: str = "feedback", student: str | None = None,
              collect_dir: Path | None = None, time_limit: float = 2.0, workers: int | None = None,
              roster=None, collect_limits=None):
    """The ASGI app for problem_set (the web extra must be installed)."""
    from examcheck.web import require_web

    require_web()
    from examcheck.web.app import create_app
    from examcheck.web.collecting import Collector
    from examcheck.web.service import ExamService

    service = ExamService(problem_set, reveal, Limits(seconds=time_limit), student)
    collector = Collector(collect_dir, collect_limits) if collect_dir is not None else None
    return create_app(service, student, workers=workers, roster=roster, collector=collector)


def _raise_open_files(wanted: int = OPEN_FILES) -> None:
    """Room for LIMIT_CONCURRENCY sockets plus the sandbox workers' pipes (the soft limit is often 1024)."""
    try:
        import resource
    except ImportError:  # not on this platform
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def run(app, host: str, port: int) -> None:
    import uvicorn

    _raise_open_files()
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False, date_header=False,
                proxy_headers=False, limit_concurrency=LIMIT_CONCURRENCY, timeout_keep_alive=KEEP_ALIVE_SECONDS,
                h11_max_incomplete_event_size=16 * 1024)
