"""`examcheck serve`: a page where students type answers, see how each was read,
check them with the same checker and limits as `grade`, and save the answer file.

Starlette and uvicorn are an optional extra (``pip install "examcheck[web]"``);
nothing here imports them at module level except :mod:`examcheck.web.app`.
"""

from __future__ import annotations

INSTALL_HINT = 'examcheck serve needs the web extra: pip install "examcheck[web]"'


class WebExtraMissing(RuntimeError):
    """Starlette or uvicorn is not installed."""


def require_web() -> None:
    """Raise WebExtraMissing with the install command when the extra is absent."""
    import importlib.util

    missing = [name for name in ("starlette", "uvicorn") if importlib.util.find_spec(name) is None]
    if missing:
        raise WebExtraMissing(f"{INSTALL_HINT} (missing: {', '.join(missing)})")
