"""The registry of answer tests.

Every test has one signature, as STACK's answer tests do::

    test(student, reference, options) -> Verdict

``student`` is the answer as written (text, or a list of texts); it is read
only through :mod:`examcheck.parsing`.  ``reference`` is a computed value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from examcheck.domains import REAL, Domain
from examcheck.parsing import Vocabulary

CORRECT, PARTIAL, INCORRECT, INVALID, UNDECIDED = "correct", "partial", "incorrect", "invalid", "undecided"


@dataclass(frozen=True)
class Precision:
    """How numbers are compared.  kind is default, exact, decimals, sigfigs, rtol or atol."""

    kind: str = "default"
    value: float = 0.0
    min_sigfigs: int = 3

    def describe(self) -> str:
        if self.kind == "default":
            return f"at the precision written (at least {self.min_sigfigs} significant figures)"
        if self.kind == "exact":
            return "exactly"
        if self.kind == "decimals":
            return f"rounded to {int(self.value)} decimal place(s)"
        if self.kind == "sigfigs":
            return f"to {int(self.value)} significant figure(s)"
        return f"within {self.kind} {self.value:g}"


@dataclass
class Options:
    precision: Precision = field(default_factory=Precision)
    vocab: Vocabulary = field(default_factory=Vocabulary)
    domains: dict[str, Domain] = field(default_factory=dict)
    choices: list | None = None
    ignore_singleton: bool = False
    partial_entries: bool = False
    points: int = 8
    seed: int = 0
    definitions: dict = field(default_factory=dict)  # name -> expression of intermediate quantities
    # Which context-bound slips can apply to the part ("log": its computation involves a logarithm;
    # "percent": it asks for a percentage).  None: not known (every slip may be named).
    slip_context: frozenset | None = None

    def domain(self, name: str) -> Domain:
        return self.domains.get(name, REAL)


@dataclass
class Verdict:
    score: float
    status: str
    feedback: str = ""
    note: str = ""
    interpreted: str = ""

    @property
    def correct(self) -> bool:
        return self.status == CORRECT


def correct(feedback: str = "", note: str = "", interpreted: str = "") -> Verdict:
    return Verdict(1.0, CORRECT, feedback, note, interpreted)


def incorrect(feedback: str = "", note: str = "", interpreted: str = "") -> Verdict:
    return Verdict(0.0, INCORRECT, feedback, note, interpreted)


def invalid(feedback: str, note: str = "invalid") -> Verdict:
    return Verdict(0.0, INVALID, feedback, note)


def read_or_verdict(parse: Callable[[], object], what: str):
    """parse(), or an `invalid` verdict that says why the text could not be read."""
    from examcheck.parsing import ParseError, TooComplex

    try:
        return parse()
    except TooComplex as exc:
        return invalid(f"too complex to check: {exc}", "too_complex")
    except ParseError as exc:
        return invalid(f"could not read {what}: {exc}", "unreadable")
    except (ArithmeticError, ValueError) as exc:  # guard: a value the reader cannot hold (1e-400^0, 10^-99999)
        return invalid(f"could not read {what}: a value in it is out of range ({type(exc).__name__})", "unreadable")


@dataclass
class Read:
    """What an answer test reads from a student's answer before comparing anything:
    value (what the test compares) and shown (how a verdict shows it, its `interpreted`)."""

    value: object
    shown: str


AnswerTest = Callable[[object, object, Options], Verdict]
StudentReader = Callable[[object, Options], "Read | Verdict"]
TESTS: dict[str, AnswerTest] = {}
REFERENCE_READERS: dict[str, Callable] = {}
STUDENT_READERS: dict[str, StudentReader] = {}


def answer_test(*names: str, reader: Callable | None = None, student_reader: StudentReader | None = None):
    """Register a test under one or more answer types, with the function that
    turns an instructor-written answer (a key or a mistake) into a reference,
    and the one that reads a student's answer (the test itself reads through it)."""

    def wrap(fn: AnswerTest) -> AnswerTest:
        for name in names:
            TESTS[name] = fn
            if reader is not None:
                REFERENCE_READERS[name] = reader
            if student_reader is not None:
                STUDENT_READERS[name] = student_reader
        return fn

    return wrap


def read(answer_type: str, student, options: Options) -> Read | Verdict:
    """How the answer test of answer_type reads a student's answer: a Read, or the `invalid` verdict the
    test gives without comparing anything.  The page's "as read" preview and the tests share it."""
    _load()
    reader = STUDENT_READERS.get(answer_type)
    if reader is None:
        return invalid(f"no reader for answers of type {answer_type!r}", "unreadable")
    return reader(student, options)


def run_test(answer_type: str, student, reference, options: Options) -> Verdict:
    _load()
    from examcheck.answertests.equations import CHECKED_KINDS, conflicting_sides

    verdict = TESTS[answer_type](student, reference, options)
    if answer_type in CHECKED_KINDS:  # '0.5 = 0.659': the last side is graded, and the false equation is said
        conflict = conflicting_sides(student, options)
        if conflict is not None:
            feedback = f"{verdict.feedback}; {conflict}" if verdict.feedback else conflict
            verdict = Verdict(verdict.score, verdict.status, feedback, verdict.note, verdict.interpreted)
    return verdict


def read_reference(answer_type: str, written, options: Options):
    """An instructor-written answer (key or known mistake) as a reference value."""
    _load()
    return REFERENCE_READERS[answer_type](written, options)


def _load() -> None:
    """Register every answer test (importing one module directly must not hide the others)."""
    from examcheck.answertests import choices, equations, expressions, numbers, structures  # noqa: F401


load_all = _load
