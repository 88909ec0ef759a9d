"""Hypothesis strategies for a class's reports, built from the report model alone (no grading)."""

from hypothesis import strategies as st

from examcheck.model import PartResult, ProblemResult, Report, Status

# Identifiers students and LMSs really produce: leading zeros, e-mails, unicode, and hostile text.
identifiers = st.one_of(
    st.from_regex(r"0[0-9]{1,8}", fullmatch=True),
    st.from_regex(r"[a-z]{1,6}\.[a-z]{1,6}@uni\.example", fullmatch=True),
    st.text(alphabet=st.sampled_from(list("aZ09_-.é李ßΩ ,;\"'=+@|\t\r\n\x00\x07\x1b\u202e\ufffe\x85")),
            min_size=1, max_size=12),
).filter(lambda s: s.strip())

exams = st.sampled_from(["quiz1", "quiz3", "midterm", "0042", "final exam"])
PART_IDS = [("q1", "i"), ("q1", "ii"), ("q2", "a"), ("q3", "b")]


@st.composite
def part_results(draw, problem_part):
    status = draw(st.sampled_from(list(Status)))
    most = draw(st.sampled_from([0.5, 1.0, 2.0, 3.0]))
    score = most if status is Status.CORRECT else (draw(st.sampled_from([0.0, most / 2])) if status is Status.PARTIAL else 0.0)
    return PartResult(problem_part[1], status, score, most, given=draw(st.sampled_from([None, "1.5", "x"])),
                      feedback=draw(st.sampled_from(["", "sign error", "wrong \x1b[2J", "off by a factor"])),
                      line=draw(st.one_of(st.none(), st.integers(1, 500))))


@st.composite
def reports(draw, student=None, exam=None):
    student = student if student is not None else draw(identifiers)
    exam = exam if exam is not None else draw(exams)
    chosen = draw(st.lists(st.sampled_from(PART_IDS), min_size=1, max_size=4, unique=True))
    chosen.sort(key=PART_IDS.index)
    problems: dict[str, list] = {}
    for pid, qid in chosen:
        problems.setdefault(pid, []).append(draw(part_results((pid, qid))))
    return Report(student, exam, [ProblemResult(pid, parts) for pid, parts in problems.items()],
                  source=f"answers/{draw(st.integers(0, 10**6))}.yaml")


@st.composite
def classes(draw, max_students=6):
    """Reports of several students over several exams, at most one report per (student, exam);
    every exam has the same parts for everyone (as one problem set gives)."""
    students = draw(st.lists(identifiers, min_size=1, max_size=max_students, unique=True))
    chosen_exams = draw(st.lists(exams, min_size=1, max_size=3, unique=True))
    layout = {e: sorted(draw(st.lists(st.sampled_from(PART_IDS), min_size=1, max_size=4, unique=True)),
                        key=PART_IDS.index) for e in chosen_exams}
    out = []
    for student in students:
        for exam in chosen_exams:
            if not draw(st.booleans()) and out:
                continue
            problems: dict[str, list] = {}
            for pid, qid in layout[exam]:
                part = draw(part_results((pid, qid)))
                part.max_score = 1.0 + PART_IDS.index((pid, qid))  # one maximum per part of an exam
                part.score = {Status.CORRECT: part.max_score, Status.PARTIAL: part.max_score / 2}.get(part.status, 0.0)
                problems.setdefault(pid, []).append(part)
            out.append(Report(student, exam, [ProblemResult(p, q) for p, q in problems.items()],
                              source=f"{len(out)}.yaml"))
    return out
