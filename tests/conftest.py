from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = ROOT / "problems"
EXAMPLES = ROOT / "examples" / "answers"


@pytest.fixture(autouse=True)
def _no_reference_cache(monkeypatch):
    """No test reads or writes the per-user reference cache (examcheck.refcache) unless it asks for one."""
    monkeypatch.setenv("EXAMCHECK_REFERENCE_CACHE", "off")


@pytest.fixture(scope="session")
def sets():
    from examcheck.loader import load_sets

    return load_sets([PROBLEMS])


@pytest.fixture(scope="module")
def quiz(sets):
    """The bundled seed000-quiz set alone."""
    return [s for s in sets if s.exam == "seed000-quiz"]


@pytest.fixture
def config_home(tmp_path, monkeypatch):
    """A private $XDG_CONFIG_HOME (where the cache key is made), and no key from the environment: a module
    whose tests touch the verdict cache uses it for every test (pytestmark)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("EXAMCHECK_CACHE_KEY", raising=False)
    return tmp_path / "config"


@pytest.fixture
def write(tmp_path):
    """Write a text file under tmp_path and return its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write
