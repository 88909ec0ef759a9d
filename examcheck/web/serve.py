"""Start the page: build the service for one problem set and run uvicorn."""

from __future__ import annotations

from pathlib import Path

from examcheck.limits import Limits
from examcheck.model import ProblemSet


def build_app(problem_set: ProblemSet, reveal: str = "feedback", student: str | None = None,
              collect_dir: Path | None = None, time_limit: float = 2.0, workers: int | None = None):
    """The ASGI app for problem_set (the web extra must be installed)."""
    from examcheck.web import require_web

    require_web()
    from examcheck.web.app import create_app
    from examcheck.web.service import ExamService

    service = ExamService(problem_set, reveal, Limits(seconds=time_limit))
    return create_app(service, student, collect_dir, workers)


def run(app, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False, date_header=False,
                proxy_headers=False, limit_concurrency=1000, timeout_keep_alive=5, h11_max_incomplete_event_size=16 * 1024)
