"""Class statistics: per part, the mean, the median, the share correct and the commonest
wrong answers; per question, a discrimination index; a histogram of totals."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field

from examcheck.model import Report


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


def class_stats(reports: list[Report], group_fraction: float = 0.27) -> ClassStats:
    """Discrimination index: mean score fraction of the top 27% of students (by total)
    minus that of the bottom 27%, per question (Kelley's groups)."""
    parts: dict[str, list] = {}
    for report in reports:
        for problem in report.problems:
            for part in problem.parts:
                parts.setdefault(f"{problem.id}.{part.id}", []).append(part)
    part_stats = []
    for name, results in parts.items():
        scores = [p.score for p in results]
        wrong = Counter()
        diagnosis: dict[str, str] = {}
        for p in results:
            if p.status.is_wrong:
                shown = (p.interpreted or str(p.given or "")).strip()
                wrong[shown] += 1
                diagnosis.setdefault(shown, p.feedback or p.note)
        part_stats.append(PartStats(
            name, results[0].max_score, statistics.fmean(scores), statistics.median(scores),
            100 * sum(p.status.is_correct for p in results) / len(results),
            [(answer, count, diagnosis[answer]) for answer, count in wrong.most_common(5)]))
    ranked = sorted(reports, key=lambda r: r.score)
    size = max(1, round(group_fraction * len(ranked))) if len(ranked) >= 2 else 0
    low, high = ranked[:size], ranked[-size:] if size else []
    questions = []
    names = {p.id for r in reports for p in r.problems}
    for qid in sorted(names, key=lambda q: _order(reports, q)):
        def fraction(group, qid=qid):
            values = [p.score / p.max_score for r in group for p in r.problems if p.id == qid and p.max_score]
            return statistics.fmean(values) if values else None
        overall = fraction(reports)
        hi, lo = fraction(high), fraction(low)
        questions.append(QuestionStats(qid, overall or 0.0, None if hi is None or lo is None else hi - lo))
    most = max((r.max_score for r in reports), default=0.0)
    return ClassStats(len(reports), most, [r.score for r in reports], part_stats, questions)


def _order(reports: list[Report], qid: str) -> int:
    for report in reports:
        for i, problem in enumerate(report.problems):
            if problem.id == qid:
                return i
    return 0
