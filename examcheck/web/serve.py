"""Start the page: build the service for one problem set and run uvicorn."""

from __future__ import annotations

from pathlib import Path

from examcheck.limits import Limits
from examcheck.model import ProblemSet

# uvicorn, set deliberately: at most LIMIT_CONCURRENCY connections and requests in flight (past it
# uvicorn answers 503 at once); an idle kept-alive connection is closed after KEEP_ALIVE_SECONDS;
# request headers are capped at 16 KB.  Request bodies are timed out by the app (app.BODY_SECONDS).
LIMIT_CONCURRENCY = 512
KEEP_ALIVE_SECONDS = 5


def build_app(problem_set: ProblemSet, reveal: str = "feedback", student: str | None = None,
              collect_dir: Path | None = None, time_limit: float = 2.0, workers: int | None = None,
              roster=None, collect_limits=None):
    """The ASGI app for problem_set (the web extra must be installed)."""
    from examcheck.web import require_web

    require_web()
    from examcheck.web.app import create_app
    from examcheck.web.collecting import Collector
    from examcheck.web.service import ExamService

    service = ExamService(problem_set, reveal, Limits(seconds=time_limit))
    collector = Collector(collect_dir, collect_limits) if collect_dir is not None else None
    return create_app(service, student, workers=workers, roster=roster, collector=collector)


def run(app, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False, date_header=False,
                proxy_headers=False, limit_concurrency=LIMIT_CONCURRENCY, timeout_keep_alive=KEEP_ALIVE_SECONDS,
                h11_max_incomplete_event_size=16 * 1024)
