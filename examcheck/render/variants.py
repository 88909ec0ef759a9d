"""Text for `examcheck variants ...` and variant answer templates (from the lock and the loaded model only)."""

from __future__ import annotations

import csv
import io

from examcheck.model import Problem, ProblemSet
from examcheck.render.escape import csv_row, terminal_text

MAX_SHOWN = 20  # rejected seeds listed one by one, per problem


def _params(params: dict) -> str:
    from examcheck.variants import value_text

    return ", ".join(f"{k}={value_text(v)}" for k, v in params.items())


def deploy_text(result) -> str:
    lines = []
    shown: dict[str, int] = {}
    duplicates: dict[str, int] = {}
    for rejected in result.rejected:
        if rejected.duplicate:
            duplicates[rejected.problem] = duplicates.get(rejected.problem, 0) + 1
            continue
        shown[rejected.problem] = shown.get(rejected.problem, 0) + 1
        if shown[rejected.problem] <= MAX_SHOWN:
            drawn = f" ({_params(rejected.params)})" if rejected.params else ""
            lines.append(f"rejected {rejected.problem} seed {rejected.seed}{drawn}: {rejected.reason}")
    for pid, count in shown.items():
        if count > MAX_SHOWN:
            lines.append(f"rejected {count - MAX_SHOWN} more seed(s) of {pid}")
    for pid, count in duplicates.items():
        lines.append(f"skipped {count} seed(s) of {pid} that drew the params of an earlier seed")
    if result.lock is not None:
        for pid, pool in result.lock.problems.items():
            seeds = ", ".join(str(v.seed) for v in pool)
            lines.append(f"{pid}: {len(pool)} variant(s) from seeds {seeds}")
    for failure in result.failures:
        lines.append(f"error: {failure}")
    if result.written:
        lines.append(f"wrote {result.written}")
    elif result.failures:
        lines.append("no lock file written")
    return terminal_text("\n".join(lines)) + "\n"


def list_text(problem_set: ProblemSet) -> str:
    info = problem_set.variants
    if info is None:
        return f"{problem_set.exam}: no problem declares params\n"
    if not info.deployed:
        return terminal_text(f"{problem_set.exam}: not deployed (no {info.lock_file}); "
                             "run `examcheck variants deploy`\n")
    lock = info.lock
    lines = [f"{problem_set.exam}: deployed with examcheck {lock.version}, salt {lock.salt!r}  [{lock.source}]"]
    for pid, pool in lock.problems.items():
        lines.append(f"  {pid}: {len(pool)} variant(s)")
        for v in pool:
            lines.append(f"    {v.number:>3}  seed {v.seed:<6} {_params(v.params)}")
    return terminal_text("\n".join(lines)) + "\n"


def show_text(problem_set: ProblemSet, problem: Problem) -> str:
    info = problem_set.variants
    keys = {}
    if info is not None and info.deployed and problem.variant is not None:
        keys = info.lock.problems[problem.id][problem.variant - 1].keys
    which = f"variant {problem.variant}" if problem.variant is not None else "preview (not deployed)"
    lines = [f"{problem_set.exam}/{problem.id} {which}: {problem.title}", f"params: {_params(problem.params)}"]
    if problem.statement:
        lines += ["", problem.statement.rstrip()]
    lines.append("")
    for part in problem.parts:
        key = f"   key: {keys[part.id]}" if part.id in keys else ""
        lines.append(f"({part.id}) {part.prompt or '(see the statement)'} [{part.answer}, {part.marks:g} marks]{key}")
    return terminal_text("\n".join(lines)) + "\n"


def assignment_csv(problem_set: ProblemSet, students: list[str], attempt: int) -> str:
    from examcheck.variants import assignment, not_deployed

    not_deployed(problem_set)
    pool_ids = list(problem_set.variants.lock.problems)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", *pool_ids])
    for student in students:
        chosen = assignment(problem_set, student, attempt)
        writer.writerow(csv_row([student, *(chosen[p] for p in pool_ids)]))
    return out.getvalue()


def variant_template(view: ProblemSet, student: str | None, attempt: int) -> str:
    """A blank answer file for one student's version: the statements shown, the variants named."""
    from examcheck.render.listings import _yaml_comment, _yaml_key

    who = student if student is not None else "your-id"
    if student is None:
        head = "# Each student has their own numbers: `examcheck template EXAM --student ID` prints one student's version."
    else:
        head = "# Your version has its own numbers; answer this file's questions, not a classmate's."
    lines = [f"# Answer file for {view.exam}: {view.title}", head, f"student: {_quoted(who)}", f"exam: {view.exam}"]
    if attempt != 1:
        lines.append(f"attempt: {attempt}")
    numbered = [p for p in view.problems if p.variant is not None]
    if numbered and student is not None:
        lines.append("variant:")
        lines += [f"  {_yaml_key(p.id)}: {p.variant}" for p in numbered]
    lines.append("answers:")
    for p in view.problems:
        lines.append(f"  # {p.id}: {p.title} ({p.marks:g} marks)")
        if student is not None or p.variant is None:
            lines += _yaml_comment(p.statement, "  ")
        lines.append(f"  {_yaml_key(p.id)}:")
        for part in p.parts:
            prompt = part.prompt or "(see the exam)"
            lines += _yaml_comment(f"({part.id}) {prompt} [{part.answer}, {part.marks:g} marks]", "    ")
            lines.append(f"    {_yaml_key(part.id)}:")
    return terminal_text("\n".join(lines)) + "\n"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
