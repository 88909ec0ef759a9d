"""One registry of formats; streamed renderers write exactly what the whole-text ones do; the
CLI stays thin."""

import json
from pathlib import Path

import pytest

from examcheck.engine import grade_paths
from examcheck.render import FORMATS, RenderOptions, render_text, renderer
from examcheck.render.reports import report_dict
from examcheck.stream import Reports, ReportStore

ROOT = Path(__file__).resolve().parent.parent
ANSWERS = sorted((ROOT / "examples" / "answers").glob("*.yaml"))


@pytest.fixture(scope="module")
def reports(sets):
    return grade_paths(ANSWERS, sets, jobs=2).reports


def test_every_registered_format_resolves():
    assert set(FORMATS) == {"reports", "stats", "solution", "findings"}
    for kind, entries in FORMATS.items():
        for name in entries:
            assert callable(renderer(kind, name)), (kind, name)


def test_streamed_formats_equal_the_whole_documents(reports):
    assert len(reports) >= 2
    many = Reports(reports)
    assert render_text("reports", "json", many) == json.dumps([report_dict(r) for r in reports], indent=2,
                                                             ensure_ascii=False)
    assert render_text("reports", "json", Reports(reports[:1])) == json.dumps(report_dict(reports[0]), indent=2,
                                                                             ensure_ascii=False)
    for fmt in ("junit", "csv", "canvas", "moodle", "brightspace", "github", "markdown", "html"):
        assert render_text("reports", fmt, many, RenderOptions(points_row=True)) == \
            render_text("reports", fmt, list(reports), RenderOptions(points_row=True)), fmt
    assert render_text("reports", "jsonl", Reports([])) == ""


def test_reports_survive_the_store_unchanged(reports):
    store = ReportStore()
    store.add([(r.source, "", r) for r in reports])
    back = list(Reports(store))
    assert [report_dict(r) for r in back] == [report_dict(r) for r in sorted(reports, key=lambda r: (r.student, r.source))]
    assert [p.line for r in back for q in r.problems for p in q.parts] == \
        [p.line for r in sorted(reports, key=lambda r: (r.student, r.source)) for q in r.problems for p in q.parts]
    store.close()


def test_the_cli_computes_nothing():
    source = (ROOT / "examcheck" / "cli.py").read_text()
    for forbidden in ("json.dumps", "class_stats", "by_exam", ".max_score", ".score", "status", "make_console"):
        assert forbidden not in source, forbidden


def test_renderers_import_the_report_model_only():
    """No renderer (nor the roster) pulls in SymPy: a class's outputs need none."""
    import subprocess
    import sys

    modules = sorted({target.split(":")[0] for entries in FORMATS.values() for target in entries.values()})
    code = ("import sys\n" + "".join(f"import {m}\n" for m in modules)
            + "import examcheck.render.redact, examcheck.roster, examcheck.classrun\n"
            + "print('sympy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
