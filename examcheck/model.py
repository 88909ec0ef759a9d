"""The data examcheck works on: problem sets as loaded, and grading reports."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the model imports no SymPy, so that renderers need none
    from examcheck.answertests import Precision


def _default_precision() -> Precision:
    from examcheck.answertests import Precision

    return Precision()


class Status(StrEnum):
    """A part's verdict.  The values are the stable strings of every output format."""

    CORRECT = "correct"
    PARTIAL = "partial"
    INCORRECT = "incorrect"
    MISSING = "missing"
    INVALID = "invalid"
    UNDECIDED = "undecided"
    UNGRADED = "ungraded"

    @property
    def is_correct(self) -> bool:
        return self is Status.CORRECT

    @property
    def is_wrong(self) -> bool:
        """Lost marks on an answer that was given (counted among a part's wrong answers)."""
        return self in (Status.INCORRECT, Status.PARTIAL, Status.INVALID, Status.UNDECIDED)

    @property
    def is_skipped(self) -> bool:
        """Nothing to judge automatically: no answer, or marked by hand."""
        return self in (Status.MISSING, Status.UNGRADED)

    @property
    def is_failure(self) -> bool:
        """A failed test in CI-style formats (JUnit, Gradescope, annotations)."""
        return not (self.is_correct or self.is_skipped)

    @property
    def is_warning(self) -> bool:
        """Worth a warning rather than an error in annotations."""
        return self in (Status.MISSING, Status.PARTIAL)


STATUSES = tuple(s.value for s in Status)


@dataclass
class Mistake:
    feedback: str
    marks: float = 0.0
    answer: Any = None
    given: dict | None = None
    result: str | None = None
    log_base: Any = None
    line: int | None = None


@dataclass
class Part:
    id: str
    marks: float
    answer: str
    prompt: str = ""
    result: str | None = None
    reference: Any = None
    given: dict = field(default_factory=dict)
    precision: Precision = field(default_factory=_default_precision)
    variables: dict[str, str] = field(default_factory=dict)
    functions: list[str] = field(default_factory=list)
    log_base: Any = "e"
    key: Any = None
    has_key: bool = False
    mistakes: list[Mistake] = field(default_factory=list)
    choices: list | None = None
    options: dict = field(default_factory=dict)
    rubric: list[str] = field(default_factory=list)
    note: str = ""
    line: int | None = None
    key_line: int | None = None


@dataclass
class Problem:
    id: str
    title: str
    parts: list[Part]
    statement: str = ""
    marks: float = 0.0
    family: str | None = None
    given: dict = field(default_factory=dict)
    line: int | None = None
    variant: int | None = None  # the deployed variant number, for a problem with params (examcheck.variants)
    params: dict = field(default_factory=dict)  # its drawn params

    def part(self, part_id: str) -> Part | None:
        return next((p for p in self.parts if p.id == part_id), None)


@dataclass
class ProblemSet:
    exam: str
    title: str
    problems: list[Problem]
    source: str = ""
    variants: Any = None  # examcheck.variants.Variants when problems declare params (then a problem id may repeat)

    @property
    def marks(self) -> float:
        seen: dict[str, float] = {}
        for p in self.problems:
            seen.setdefault(p.id, p.marks)
        return sum(seen.values())

    def problem(self, problem_id: str) -> Problem | None:
        return next((p for p in self.problems if p.id == problem_id), None)


# ----------------------------------------------------------------------------- reports


@dataclass
class PartResult:
    id: str
    status: Status
    score: float
    max_score: float
    given: Any = None
    expected: str | None = None
    feedback: str = ""
    interpreted: str = ""
    note: str = ""
    line: int | None = None


@dataclass
class ProblemResult:
    id: str
    parts: list[PartResult]
    variant: int | None = None  # the deployed variant graded (a problem with params)

    @property
    def score(self) -> float:
        return sum(p.score for p in self.parts)

    @property
    def max_score(self) -> float:
        return sum(p.max_score for p in self.parts)


@dataclass
class Report:
    student: str
    exam: str
    problems: list[ProblemResult]
    source: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(p.score for p in self.problems)

    @property
    def max_score(self) -> float:
        return sum(p.max_score for p in self.problems)


@dataclass
class Finding:
    """One disagreement found by `check`."""

    source: str
    line: int | None
    where: str
    message: str
    stated: str | None = None
    computed: str | None = None
    diagnosis: str = ""

    def location(self) -> str:
        return f"{self.source}:{self.line}" if self.line else self.source

    def details(self) -> list[str]:
        """stated / computed / why, for whichever are known."""
        out = []
        if self.stated is not None:
            out.append(f"stated: {self.stated}")
        if self.computed is not None:
            out.append(f"computed: {self.computed}")
        if self.diagnosis:
            out.append(f"why: {self.diagnosis}")
        return out


# ----------------------------------------------------------------------------- worked solutions


@dataclass
class PartSolution:
    id: str
    prompt: str
    marks: float
    answer_type: str
    answer: str | None
    steps: list = field(default_factory=list)  # each with .text and .math
    error: str = ""
    rubric: list[str] = field(default_factory=list)


@dataclass
class ProblemSolution:
    exam: str
    id: str
    title: str
    statement: str
    family: str | None
    parts: list[PartSolution]


# ----------------------------------------------------------------------------- class statistics


@dataclass
class PartStats:
    name: str
    max_score: float
    mean: float
    median: float
    percent_correct: float
    common_wrong: list[tuple[str, int, str]] = field(default_factory=list)  # (answer, count, diagnosis)


@dataclass
class QuestionStats:
    name: str
    mean_fraction: float
    discrimination: float | None


@dataclass
class ClassStats:
    students: int
    max_score: float
    totals: list[float]
    parts: list[PartStats]
    questions: list[QuestionStats]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.totals) if self.totals else 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.totals) if self.totals else 0.0

    def histogram(self, bins: int = 10) -> list[tuple[float, float, int]]:
        top = self.max_score or 1.0
        counts = [0] * bins
        for total in self.totals:
            counts[min(int(bins * total / top), bins - 1)] += 1
        return [(top * i / bins, top * (i + 1) / bins, c) for i, c in enumerate(counts)]
