"""--no-reveal holds in EVERY registered format: flawed answers of every kind (the examples, the seed
answers, and for each numeric part answers off by ten, zero, negated, doubled, truncated) are
graded, and each format's output is searched for every expected value in several spellings.

The search is differential: the output of the real reports is compared with the output of the
same reports stripped of everything the reference could have put there (expected, feedback,
notes).  A spelling may appear in the real output no more often than in the stripped one (where
it can only be a score, a line number or the student's own answer)."""

import json
import math
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from examcheck.engine import grade_paths
from examcheck.model import ProblemResult
from examcheck.render import FORMATS, RenderOptions, render_text
from examcheck.stats import by_exam

ROOT = Path(__file__).resolve().parent.parent
EXAMS = ["seed000-quiz", "seed002-homework", "dl-modern", "seed004-minor"]
FLAWED = [ROOT / "examples" / "answers" / n for n in ("flawed.yaml", "dl-modern-flawed.yaml")] + \
    sorted((ROOT / "examples" / "seeds").glob("*-answers.yaml"))
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def _variants(value: float) -> dict[str, str]:
    text = f"{value:.6g}"
    return {"x10": f"{value * 10:.6g}", "zero": "0", "negated": f"{-value:.6g}", "double": f"{value * 2:.6g}",
            "truncated": text[:-1] if len(text.replace("-", "").replace(".", "")) > 2 else text}


@pytest.fixture(scope="module")
def flawed_reports(sets, tmp_path_factory):
    folder = tmp_path_factory.mktemp("no-reveal")
    blanks = []
    for exam in EXAMS:
        blank = folder / f"blank-{exam}.yaml"
        blank.write_text(f"student: blank\nexam: {exam}\nanswers: {{}}\n")
        blanks.append(blank)
    expected = grade_paths(blanks, sets, jobs=2).reports
    files = []
    for report in expected:
        by_variant: dict[str, dict] = {}
        for problem in report.problems:
            for part in problem.parts:
                core = (part.expected or "").split(" (", 1)[0]
                try:
                    value = float(core)
                except ValueError:
                    continue
                if not math.isfinite(value):
                    continue
                for name, answer in _variants(value).items():
                    by_variant.setdefault(name, {}).setdefault(problem.id, {})[part.id] = answer
        for name, answers in by_variant.items():
            path = folder / f"{report.exam}-{name}.yaml"
            path.write_text(yaml.safe_dump({"student": f"{name}-student", "exam": report.exam, "answers": answers}))
            files.append(path)
    result = grade_paths(files + FLAWED, sets, jobs=2)
    assert not result.errors and len(result.reports) == len(files) + len(FLAWED)
    return list(result.reports)


def _stripped(reports):
    return [replace(r, problems=[ProblemResult(p.id, [replace(q, expected=None, feedback="", note="") for q in p.parts])
                                 for p in r.problems]) for r in reports]


def _spellings(part) -> set[str]:
    """The expected value as a reader might find it: as shown, its number in several roundings."""
    if not part.expected:
        return set()
    core = part.expected.split(" (", 1)[0].strip()
    out = {part.expected, core}
    try:
        value = float(core)
    except ValueError:
        value = None
    if value is not None and math.isfinite(value):
        out |= {f"{value:g}", f"{value:.3g}", f"{value:.4g}", f"{value:.6g}", repr(value), f"{value:.2f}", f"{value:.3f}"}
        own = {float(n) for n in _NUMBER.findall(f"{part.given} {part.interpreted}") if _is_float(n)}
        out = {s for s in out if not (_is_float(s) and float(s) in own)}  # the student's own number stays visible
    return {s for s in out if len(s) >= 3 and s not in (part.interpreted or "") and s not in str(part.given or "")}


def _is_float(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _count(text: str, spelling: str) -> int:
    edge = r"(?<![\w.])" if re.match(r"[\w.]", spelling) else ""
    end = r"(?![\w])" if re.search(r"\w$", spelling) else ""
    return len(re.findall(edge + re.escape(spelling) + end, text))


def _outputs(reports, fmt):
    options = RenderOptions(reveal=False, points_row=True, summary=True, to_file=True, color="never",
                            stats=lambda: by_exam(reports))
    yield render_text("reports", fmt, reports, options)
    if fmt in ("table", "json", "gradescope"):  # one report: a different layout
        for report in reports:
            yield render_text("reports", fmt, [report], options)


def test_the_flawed_class_exercises_the_diagnoses_that_used_to_leak(flawed_reports):
    revealing = render_text("reports", "jsonl", flawed_reports, RenderOptions())
    feedback = [q.feedback for r in flawed_reports for p in r.problems for q in p.parts]
    assert sum("marked by hand:" in f for f in feedback) >= 2  # rubrics (the model answers)
    assert any("the answer" in f and re.search(r"\d", f) for f in feedback)  # values of the answer in a diagnosis
    assert any(re.search(r"expected (shape )?[\d\[(]", f) for f in feedback) or "expected" in revealing


@pytest.fixture(scope="module")
def spellings(flawed_reports) -> dict[str, set]:
    """Every spelling of every expected value -> where it is expected."""
    out: dict[str, set] = {}
    for report in flawed_reports:
        for problem in report.problems:
            for part in problem.parts:
                for s in _spellings(part):
                    out.setdefault(s, set()).add(f"{report.exam}/{problem.id}.{part.id}")
    assert len(out) > 50
    return out


_TOKEN = re.compile(r"(?<![\w.])[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?(?![\w])")


def _leaks(real: str, innocent: str, spellings: dict) -> dict:
    """Spellings found more often in real than in innocent (numbers counted as whole tokens)."""
    tokens = [Counter(_TOKEN.findall(text)) for text in (real, innocent)]

    def count(i, text, spelling):
        return tokens[i][spelling] if _TOKEN.fullmatch(spelling) else _count(text, spelling)

    return {s: sorted(where)[:3] for s, where in spellings.items() if count(0, real, s) > count(1, innocent, s)}


@pytest.mark.parametrize("fmt", FORMATS["reports"])
def test_no_expected_value_reaches_any_format(flawed_reports, spellings, fmt):
    real = "\n".join(_outputs(flawed_reports, fmt))
    innocent = "\n".join(_outputs(_stripped(flawed_reports), fmt))
    leaks = _leaks(real, innocent, spellings)
    assert not leaks, (fmt, leaks)
    assert "marked by hand:" not in real


def test_split_reports_reveal_nothing_either(flawed_reports, spellings, tmp_path):
    from examcheck.classrun import write_split

    write_split(tmp_path / "real", flawed_reports, reveal=False)
    write_split(tmp_path / "innocent", _stripped(flawed_reports), reveal=False)
    real = "\n".join(p.read_text() for p in sorted((tmp_path / "real").iterdir()))
    innocent = "\n".join(p.read_text() for p in sorted((tmp_path / "innocent").iterdir()))
    assert not _leaks(real, innocent, spellings)
    assert "<th>expected</th>" not in real and "| expected |" not in real


def test_revealing_output_does_show_them(flawed_reports, spellings):
    """The check above can fail: with reveal the same search finds the expected values."""
    real = render_text("reports", "json", flawed_reports, RenderOptions())
    innocent = render_text("reports", "json", _stripped(flawed_reports), RenderOptions())
    assert len(_leaks(real, innocent, spellings)) > 50
    assert json.loads(real)[0]["problems"][0]["parts"][0]["expected"] is not None


TEMPLATES = ["the answer is not zero: it is about {v}", "expected {v}, got {g}", "off by a factor of 10^{k}: check",
             "sign error (at x = 0.5 your expression is {g}, the answer {v})", "truncated instead of rounded: {g} rounds to {v}",
             "expected shape {v}x{k}, got {g}x{k}", "{v}", "mistake: the key is {v} (see slide 3)", "{k} of 12 entries are wrong"]


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).filter(lambda x: abs(x) > 1e-3),
       st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.integers(2, 9), st.sampled_from(TEMPLATES),
       st.sampled_from(["{:g}", "{:.3g}", "{:.6g}", "{:.2f}", "{!r}"]))
def test_redaction_drops_the_expected_value_from_any_diagnosis(value, given_value, k, template, spelling):
    from examcheck.model import PartResult, Status
    from examcheck.render.redact import redact_part

    v, g = spelling.format(value), f"{given_value:.4g}"
    assume(float(v) != float(g) and v not in g)
    part = PartResult("i", Status.INCORRECT, 0, 1, given=g, interpreted=g, expected=f"{value:.4g}",
                      feedback=template.format(v=v, g=g, k=k), note=f"note {v}")
    out = redact_part(part)
    assert out.expected is None
    for text in (out.feedback, out.note):
        assert v not in _TOKEN.findall(text), (template, v, text)
    assert g in out.feedback or "{g}" not in template or "(" in template  # the student's own value stays


@pytest.mark.parametrize("output_format", ["text", "md"])
def test_gradescope_results_built_without_reveal_reveal_nothing(flawed_reports, spellings, output_format):
    """The autograder's results.json (examcheck.gradescope.results_document, what run_submission writes) goes
    through the same redaction as `grade --no-reveal`: no rubric, no expected value, no reference value."""
    from examcheck.gradescope import Settings, results_document

    def documents(reports, reveal):
        return "\n".join(json.dumps(results_document(r, Settings(r.exam, "p.yaml", "visible", output_format, reveal, 2.0)))
                         for r in reports)

    real = documents(flawed_reports, False)
    assert not _leaks(real, documents(_stripped(flawed_reports), False), spellings)
    assert "marked by hand:" not in real and "the answer -" not in real
    revealing = documents(flawed_reports, True)  # the check can fail: revealing shows them
    assert _leaks(revealing, documents(_stripped(flawed_reports), True), spellings)
