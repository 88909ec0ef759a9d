"""What the page asks of examcheck, without any web framework: read one answer,
check answers, and write the answer file.  Grading goes through the public
grading path (examcheck.engine.grade_sheet) with the same limits as `grade`."""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from dataclasses import dataclass, field

from examcheck.answers import AnswerSheet, WrittenAnswer
from examcheck.engine import Engine
from examcheck.grading import expected_text
from examcheck.limits import CheckFailed, LimitExceeded, Limits
from examcheck.model import Part, PartResult, Problem, ProblemSet
from examcheck.parsing import MAX_TEXT
from examcheck.reference import ProblemError, Resolver
from examcheck.render.redact import _own_numbers, redact_text
from examcheck.values import show
from examcheck.web.reading import Reading, read_answer

REVEALS = ("none", "feedback", "answers")
MAX_STUDENT_ID = 64
STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
REDACTED = "…"


class BadRequest(ValueError):
    """The request is malformed: the message says what was expected."""


@dataclass
class PartView:
    """What the page shows of a part before any answer: never its reference."""

    id: str
    prompt: str
    answer: str
    marks: float
    symbols: str
    hint: str


@dataclass
class ProblemView:
    id: str
    title: str
    statement: str
    parts: list[PartView] = field(default_factory=list)


_HINTS = {  # kind -> (what it is, example spellings: those that are a key of this exam are never shown)
    "expression": ("an expression", ["x^2 + 3x", "\\frac{1}{2}x^2", "e^{-t} + 1", "2a - b"]),
    "number": ("a number", ["0.25, 1/4, 25% or 2.5e-1", "0.75, 3/4, 75% or 7.5e-1", "0.6, 3/5, 60% or 6e-1"]),
    "integer": ("a whole number", []),
    "shape": ("a shape", ["4x8, [4, 8] or scalar", "3x5, [3, 5] or scalar", "6x7, [6, 7] or scalar"]),
    "vector": ("a list", ["[1, 0.98]", "[2, 0.37]", "[5, 0.61]"]),
    "tuple": ("a list", ["(1, 0.98)", "(2, 0.37)", "(5, 0.61)"]),
    "set": ("a set", ["[1, 2, 3] (order ignored)", "[4, 7, 9] (order ignored)"]),
    "matrix": ("a matrix", ["[[1, 2], [3, 4]]", "[[5, 6], [7, 8]]"]),
    "boolean": ("true or false", []),
    "text": ("free text, marked by hand", []),
}


def _squash(text: str) -> str:
    return re.sub(r"[\s*·]", "", str(text)).lower()


def _hint(kind: str, keys: set[str]) -> str:
    """The kind, with an example that is not a key of this exam (a key spelled in any of its forms)."""
    what, examples = _HINTS.get(kind, (kind, []))
    for example in examples:
        spellings = re.split(r",\s*|\s+or\s+|\s+\(order ignored\)", example)
        if not any(_squash(s) in keys for s in spellings if s):
            return f"{what}, e.g. {example}"
    return what


class ExamService:
    """One problem set served to students.  Thread-safe for concurrent checks:
    each thread checks in its own sandbox worker; references are computed once at start."""

    def __init__(self, problem_set: ProblemSet, reveal: str = "feedback", limits: Limits = Limits(),
                 student: str | None = None):
        """student: the served student (--student); a variant exam is checked against their own variants."""
        if reveal not in REVEALS:
            raise ValueError(f"reveal must be one of {', '.join(REVEALS)}")
        self.problem_set = problem_set
        self.reveal = reveal
        self.student = student
        self.limits = limits
        self.resolver = Resolver()
        self._engines = threading.local()  # one grading engine (one sandbox worker) per server thread
        self.problem_errors: dict[tuple[str, str], str] = {}
        self._references = {}
        for problem in problem_set.problems:
            for part in problem.parts:
                try:
                    self._references[(problem.id, part.id)] = self.resolver.reference(problem, part)
                except ProblemError as exc:
                    self.problem_errors[(problem.id, part.id)] = str(exc)

    # ------------------------------------------------------------------ the page

    def views(self) -> list[ProblemView]:
        out = []
        keys = {_squash(form) for (pid, qid) in self._references for form in self.expected_forms(pid, qid)}
        for problem in self.problem_set.problems:
            view = ProblemView(problem.id, problem.title, problem.statement.strip())
            for part in problem.parts:
                ref = self._references.get((problem.id, part.id))
                vocab = ref.options.vocab if ref is not None else None
                symbols = vocab.describe() if vocab is not None and (vocab.symbols or vocab.functions) else ""
                hint = _hint(part.answer, keys)
                if part.answer == "choice" and part.choices:
                    hint = "one of: " + ", ".join(map(str, part.choices))
                view.parts.append(PartView(part.id, part.prompt.strip(), part.answer, part.marks, symbols, hint))
            out.append(view)
        return out

    def locate(self, problem_id, part_id) -> tuple[Problem, Part]:
        problem = self.problem_set.problem(problem_id) if isinstance(problem_id, str) else None
        part = problem.part(part_id) if problem is not None and isinstance(part_id, str) else None
        if part is None:
            raise BadRequest(f"no part {problem_id!r}.{part_id!r} in exam {self.problem_set.exam}")
        return problem, part

    # ------------------------------------------------------------------ reading

    def read(self, problem_id, part_id, text) -> Reading:
        """How the checker reads text, bounded by the sandbox like any check."""
        problem, part = self.locate(problem_id, part_id)
        text = check_text(text)
        ref = self._references.get((problem.id, part.id))
        if ref is None:
            return Reading(False, message="this part cannot be checked: the problem file is at fault")
        try:
            return self._engine().session.bounded(read_answer, part.answer, text, ref.options, limits=self.limits)
        except LimitExceeded as exc:
            return Reading(False, message=f"too complex to check: over the {exc.what} limit")
        except CheckFailed:
            return Reading(False, message="the reader failed on this answer; please report it")

    # ------------------------------------------------------------------ checking

    def check(self, answers, only: tuple[str, str] | None = None) -> dict:
        """Grade answers ({problem: {part: text}}) as `grade` would; only: one part."""
        answers = check_answers(self, answers)
        if only is not None:
            problem, part = self.locate(*only)
            text = answers.get(problem.id, {}).get(part.id, "")
            answers = {problem.id: {part.id: text}}
        # The sheet is the served student's: grading picks their variants by their ID (as `grade` does).
        sheet = AnswerSheet(self.student or "page", self.problem_set.exam, "<page>")
        for problem_id, parts in answers.items():
            sheet.problem_values[problem_id] = WrittenAnswer(dict(parts), None)
        report = self._engine().grade_sheet(sheet)
        rows = []
        for problem_result in report.problems:
            for result in problem_result.parts:
                if only is not None and (problem_result.id, result.id) != (only[0], only[1]):
                    continue
                rows.append(self.shown_result(problem_result.id, result))
        out = {"parts": rows}
        if self.reveal != "none" and only is None:
            out["score"], out["max_score"] = _num(report.score), _num(report.max_score)
        return out

    def _engine(self) -> Engine:
        """This thread's engine: the same grading path and limits as `grade`, its worker kept between checks."""
        engine = getattr(self._engines, "engine", None)
        if engine is None:
            engine = self._engines.engine = Engine([self.problem_set], jobs=1, limits=self.limits)
        return engine

    def shown_result(self, problem_id: str, result: PartResult) -> dict:
        """The part's result as --reveal allows: none = read or not; feedback = no expected values."""
        row = {"problem": problem_id, "part": result.id, "read": result.status not in ("invalid", "missing"),
               "interpreted": result.interpreted}
        _problem, part = self.locate(problem_id, result.id)
        if part.answer == "text" and self.reveal != "answers":  # a rubric describes the model answer
            row.update(status=result.status, feedback="marked by hand")
            if self.reveal == "feedback":
                row.update(score=_num(result.score), max_score=_num(result.max_score))
            return row
        if self.reveal == "none":
            row["status"] = {"missing": "missing", "invalid": "unreadable"}.get(result.status, "read")
            if result.status == "invalid":
                row["feedback"] = result.feedback
            return row
        row.update(status=result.status, score=_num(result.score), max_score=_num(result.max_score),
                   feedback=result.feedback)
        if self.reveal == "answers":
            row["expected"] = result.expected
        else:
            row["feedback"] = self.redact(problem_id, result.id, result.feedback, result.given, result.interpreted)
        return row

    def expected_forms(self, problem_id: str, part_id: str) -> list[str]:
        """Every way the part's expected value may be written in a feedback text."""
        ref = self._references.get((problem_id, part_id))
        if ref is None or ref.value is None:
            return []
        _problem, part = self.locate(problem_id, part_id)
        forms = {show(ref.value), show(ref.display), str(ref.value), expected_text(part, ref.display)}
        if isinstance(ref.value, (tuple, list)) and all(isinstance(d, int) for d in ref.value):
            forms.update({"x".join(map(str, ref.value)), " x ".join(map(str, ref.value)), str(list(ref.value))})
        number = _finite_float(ref.value)
        if number is not None:
            for digits in range(0, 10):
                forms.update({f"{number:.{digits}f}", f"{number:.{digits + 1}g}"})
            forms.add(f"{number:g}")
        return sorted((f for f in forms if f and f.strip()), key=len, reverse=True)

    def redact(self, problem_id: str, part_id: str, feedback: str, given=None, interpreted=None) -> str:
        """feedback without the expected value (in any of its written forms), keeping each diagnosis's
        name but not the value it names (a factor, the answer at a point); numbers that are not the
        student's own go too (examcheck.render.redact, as `grade --no-reveal`)."""
        if not feedback:
            return feedback
        _problem, part = self.locate(problem_id, part_id)
        if part.answer == "boolean":  # the status already says which; the redacted value said nothing
            return re.sub(r"the statement is (true|false)", "not the right truth value", feedback)
        text = re.sub(r"\b(expected|rounds to|answer is|should be)\s+(?:[^;:()]|\([^()]*(?:\([^()]*\)[^()]*)*\))+",
                      r"\1 " + REDACTED, feedback)
        for pattern, replacement in _DIAGNOSES:
            text = pattern.sub(replacement, text)
        forms = self.expected_forms(problem_id, part_id)
        for form in forms:
            if len(form) < 2 and not form.isdigit():
                continue
            text = re.sub(r"(?<![\w.])" + re.escape(form) + r"(?![\w]|\.\d)", REDACTED, text)
        return redact_text(text, _own_numbers(given, interpreted), [])

_PARENS = r"\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)"  # up to three levels deep
_VALUE_END = r"(?=\s\(at\b|[;:]|$)"
_DIAGNOSES = [  # (pattern, replacement): the diagnosis stays, the value it names goes
    (re.compile(r"\s*\(at\b" + _PARENS[2:-2] + r"\)"), ""),  # "(at x = 0.5 your expression is 1.2, the answer 3.4)"
    (re.compile(r"[:,]?\s*\bat [^;()]*?your expression is [^;()]*?the answer [^;()]*"), ""),  # the same, unbracketed
    (re.compile(r"off by a factor of 10\^\{?[-+−]?\d+\}?"), "off by a power of ten"),
    (re.compile(r"off by a constant factor of .+?" + _VALUE_END), "off by a constant factor"),
    (re.compile(r"\b(an extra|a missing) factor (?:of )?.+?" + _VALUE_END), r"\1 factor"),
    (re.compile(r"\ba factor of .+? is missing"), "a factor is missing"),
]


def _finite_float(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _num(x: float):
    return int(x) if float(x).is_integer() else round(x, 4)


def check_text(text) -> str:
    if not isinstance(text, str):
        raise BadRequest("an answer must be text")
    if len(text) > MAX_TEXT:
        raise BadRequest(f"an answer may be at most {MAX_TEXT} characters")
    if any(unicodedata.category(c) in ("Cc", "Cs") and c not in "\n\t\r" or c == "\ufeff" for c in text):
        raise BadRequest("an answer may not contain control characters")
    return text


def check_answers(service: ExamService, answers) -> dict[str, dict[str, str]]:
    """{problem: {part: text}} with known ids and bounded texts, else BadRequest."""
    if not isinstance(answers, dict):
        raise BadRequest("answers must be a mapping {problem: {part: text}}")
    out: dict[str, dict[str, str]] = {}
    for problem_id, parts in answers.items():
        if not isinstance(parts, dict):
            raise BadRequest(f"answers.{problem_id} must be a mapping {{part: text}}")
        for part_id, text in parts.items():
            problem, part = service.locate(problem_id, part_id)
            out.setdefault(problem.id, {})[part.id] = check_text(text)
    return out


def check_student(student) -> str:
    if not isinstance(student, str) or not STUDENT_ID.fullmatch(student):
        raise BadRequest("the student ID must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    return student
