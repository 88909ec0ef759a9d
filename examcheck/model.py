"""The data examcheck works on: problem sets as loaded, and grading reports."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from examcheck.compat import StrEnum

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
class FollowLink:
    """One earlier part whose student value replaces a reference-side value of a later part."""

    source: str        # the earlier part's id (same problem)
    target: str        # "given.<key>[.<key or index>...]" or "results.<name>"


@dataclass
class FollowThrough:
    """A part's `follow_through:` declaration (see examcheck.followthrough)."""

    links: list[FollowLink]
    strategy: str = "original_first"   # or "always"
    cap: float = 1.0                    # fraction of the part's marks follow-through can give
    when: str | None = None             # a domain every entry of the earlier value must lie in
    allow_trivial: bool = False         # carry forward 0/1 values and degenerate references too
    line: int | None = None

    @property
    def sources(self) -> list[str]:
        return [link.source for link in self.links]


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
    follow_through: FollowThrough | None = None


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
class FollowThroughResult:
    """What follow-through did for a part.  status: applied, not_applied or error."""

    sources: list[str]
    status: str
    values: dict[str, str] = field(default_factory=dict)  # earlier part -> the student's value used, as shown
    marks_before: float = 0.0
    marks_after: float = 0.0
    cap: float = 0.0               # in marks
    reason: str = ""
    expected: str | None = None    # the later part's answer recomputed with the student's values

    def as_dict(self) -> dict:
        """The stable JSON form (field names are part of the report format)."""
        return {"from": list(self.sources), "status": self.status, "values": dict(self.values),
                "marks_before": self.marks_before, "marks_after": self.marks_after, "cap": self.cap,
                "reason": self.reason, "expected": self.expected}

    @classmethod
    def from_dict(cls, data: dict | None) -> FollowThroughResult | None:
        if not data:
            return None
        return cls(list(data["from"]), data["status"], dict(data.get("values") or {}), data.get("marks_before", 0.0),
                   data.get("marks_after", 0.0), data.get("cap", 0.0), data.get("reason", ""), data.get("expected"))

    def expected_for_value(self, usual: str | None = None) -> str:
        """The later answer for the student's own earlier value, when it was recomputed and differs from the usual."""
        if self.expected is None or self.status == "error" or not self.values or self.expected == usual:
            return ""
        return f"for your value: {self.expected}"

    def summary(self) -> str:
        """One line for people: what was carried forward and the marks before and after."""
        where = ", ".join(f"({s})" for s in self.sources)
        used = "; ".join(f"{v} from ({k})" for k, v in self.values.items())
        if self.status == "applied":
            return (f"follow-through: correct for your value {used}; marks {self.marks_before:g} → "
                    f"{self.marks_after:g} (capped at {self.cap:g})")
        if self.status == "error":
            return f"follow-through from {where} could not be re-marked: {self.reason} (marks shown without it)"
        return f"no follow-through from {where}: {self.reason}"


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
    follow_through: FollowThroughResult | None = None

    @property
    def hand_marked(self) -> bool:
        """A part marked by hand (answer: text), answered or blank: never in an autograded score."""
        return self.status is Status.UNGRADED or (self.status is Status.MISSING and self.feedback.startswith("marked by hand"))


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
    level: str = "error"  # or "warning": reported, but `check` still passes

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
