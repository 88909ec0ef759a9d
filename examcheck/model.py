"""The data examcheck works on: problem sets as loaded, and grading reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from examcheck.answertests import Precision

STATUSES = ("correct", "partial", "incorrect", "missing", "invalid", "undecided", "ungraded")


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
    precision: Precision = field(default_factory=Precision)
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

    def part(self, part_id: str) -> Part | None:
        return next((p for p in self.parts if p.id == part_id), None)


@dataclass
class ProblemSet:
    exam: str
    title: str
    problems: list[Problem]
    source: str = ""

    @property
    def marks(self) -> float:
        return sum(p.marks for p in self.problems)

    def problem(self, problem_id: str) -> Problem | None:
        return next((p for p in self.problems if p.id == problem_id), None)


# ----------------------------------------------------------------------------- reports


@dataclass
class PartResult:
    id: str
    status: str
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

    def to_dict(self, reveal: bool = True) -> dict:
        """The stable JSON report."""
        problems = []
        for problem in self.problems:
            parts = []
            for part in problem.parts:
                row = asdict(part)
                row.pop("line")
                if not reveal:
                    row["expected"] = None
                parts.append(row)
            problems.append({"id": problem.id, "score": _num(problem.score),
                             "max_score": _num(problem.max_score), "parts": parts})
        return {"student": self.student, "exam": self.exam, "score": _num(self.score),
                "max_score": _num(self.max_score), "problems": problems, "source": self.source,
                "warnings": self.warnings}


def _num(x: float):
    return int(x) if float(x).is_integer() else round(x, 4)


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
