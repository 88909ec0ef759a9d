"""Class statistics: per part, the mean, the median, the share correct and the commonest
wrong answers; per question, a discrimination index; a histogram of totals."""

from __future__ import annotations

import statistics
from collections import Counter

from examcheck.model import ClassStats, PartStats, QuestionStats

__all__ = ["ClassStats", "PartStats", "QuestionStats", "by_exam", "class_stats"]


def class_stats(reports, group_fraction: float = 0.27) -> ClassStats:
    """Discrimination index: mean score fraction of the top 27% of students (by total)
    minus that of the bottom 27%, per question (Kelley's groups).  One pass over the reports,
    keeping numbers only (not the reports), so a class of any size streams through."""
    parts: dict[str, _PartTally] = {}
    totals: list[float] = []
    fractions: dict[str, list[float | None]] = {}  # question -> its score fraction, per report
    order: dict[str, int] = {}
    most = 0.0
    for index, report in enumerate(reports):
        totals.append(report.score)
        most = max(most, report.max_score)
        for position, problem in enumerate(report.problems):
            order.setdefault(problem.id, position)
            column = fractions.setdefault(problem.id, [])
            column.extend([None] * (index - len(column)))
            column.append(problem.score / problem.max_score if problem.max_score else None)
            for part in problem.parts:
                parts.setdefault(f"{problem.id}.{part.id}", _PartTally(part.max_score)).add(part)
    count = len(totals)
    part_stats = [tally.stats(name) for name, tally in parts.items()]
    ranked = sorted(range(count), key=lambda i: totals[i])
    size = max(1, round(group_fraction * count)) if count >= 2 else 0
    low, high = ranked[:size], ranked[-size:] if size else []
    questions = []
    for qid in sorted(order, key=lambda q: order[q]):
        column = fractions[qid] + [None] * (count - len(fractions[qid]))

        def fraction(group, column=column):
            values = [column[i] for i in group if column[i] is not None]
            return statistics.fmean(values) if values else None

        overall = fraction(range(count))
        hi, lo = fraction(high), fraction(low)
        questions.append(QuestionStats(qid, overall or 0.0, None if hi is None or lo is None else hi - lo))
    return ClassStats(count, most, totals, part_stats, questions)


class _PartTally:
    def __init__(self, max_score: float):
        self.max_score = max_score
        self.scores: list[float] = []
        self.correct = 0
        self.wrong: Counter = Counter()
        self.diagnosis: dict[str, str] = {}

    def add(self, part) -> None:
        self.scores.append(part.score)
        self.correct += part.status.is_correct
        if part.status.is_wrong:
            shown = (part.interpreted or str(part.given or "")).strip()
            self.wrong[shown] += 1
            self.diagnosis.setdefault(shown, part.feedback or part.note)

    def stats(self, name: str) -> PartStats:
        return PartStats(name, self.max_score, statistics.fmean(self.scores), statistics.median(self.scores),
                         100 * self.correct / len(self.scores),
                         [(answer, count, self.diagnosis[answer]) for answer, count in self.wrong.most_common(5)])


def by_exam(reports) -> dict[str, ClassStats]:
    """Statistics of each exam among the reports (one pass per exam over a re-iterable of reports)."""
    exams = list(dict.fromkeys(r.exam for r in reports))
    return {exam: class_stats(r for r in reports if r.exam == exam) for exam in exams}
