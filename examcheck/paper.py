"""`examcheck paper`: one printable question sheet per student (markdown and LaTeX, PDF where a TeX
engine exists) and the matching answer keys.  For a variant exam each student's sheet shows their own
variant of every problem (examcheck.variants.student_view)."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from examcheck.model import ProblemSet
from examcheck.render.latex import tex, tex_with_math
from examcheck.yamlio import InputError, read_regular_file

MAX_ROSTER_BYTES = 5_000_000
MAX_STUDENTS = 20_000
MAX_ID = 200
# the id column, by preference (a Canvas gradebook's "Student" column holds names: it comes last)
ID_COLUMNS = ("student_id", "student id", "sis user id", "sis_id", "id", "login", "sis login id", "username", "email",
              "student")
TEX_ENGINES = ("latexmk", "pdflatex", "xelatex", "tectonic")
TEX_SECONDS = 60


class PaperError(Exception):
    """Papers cannot be written (the folder, a file)."""


def read_roster(path: Path) -> list[str]:
    """Student ids from a CSV roster (untrusted), in roster order: through the shared roster module
    (examcheck.roster) where it exists, so that papers and grading agree on who is who; else simple_roster."""
    try:
        from examcheck import roster as shared
    except ImportError:
        return simple_roster(path)
    try:
        students = [student.id for student in shared.read_roster(path).students]
    except shared.RosterError as exc:
        match = re.match(r"(.*?):(\d+): (.*)\Z", str(exc), re.S)
        if match:
            raise InputError(match.group(1), int(match.group(2)), match.group(3)) from None
        raise InputError(str(path), None, str(exc)) from None
    if not students:
        raise InputError(str(path), None, "no students in the roster")
    for student in students:
        if id_problem(student):
            raise InputError(str(path), None, id_problem(student))
    return students


def simple_roster(path: Path) -> list[str]:
    """Student ids from a CSV roster (untrusted): the column named student_id, SIS User ID, id, ..., student
    (else the first column); blank rows skipped; a repeated id, a too-long id or control characters are input errors
    (file:line).  examcheck.roster may replace this reader; its signature stays."""
    source = str(path)
    data = read_regular_file(path, MAX_ROSTER_BYTES)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(source, data.count(b"\n", 0, exc.start) + 1, "the roster is not UTF-8 text") from None
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise InputError(source, None, f"not a CSV file: {exc}") from None
    if not rows:
        raise InputError(source, 1, "the roster is empty (expected a CSV with a student id column)")
    header = [h.strip().lower() for h in rows[0]]
    column = next((header.index(name) for name in ID_COLUMNS if name in header), None)
    start = 1 if column is not None else 0
    column = column or 0
    students: list[str] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[start:], start=start + 1):
        if not row or not any(cell.strip() for cell in row):
            continue
        student = row[column].strip() if column < len(row) else ""
        if not student:
            raise InputError(source, number, f"no student id in column {column + 1}")
        if id_problem(student):
            raise InputError(source, number, id_problem(student))
        if student in seen:
            raise InputError(source, number, f"student {student!r} is also on line {seen[student]}")
        seen[student] = number
        students.append(student)
        if len(students) > MAX_STUDENTS:
            raise InputError(source, number, f"more than {MAX_STUDENTS} students")
    if not students:
        raise InputError(source, 1, "no students in the roster")
    return students


_RESERVED = re.compile(r"(?i)con|prn|aux|nul|com[0-9]|lpt[0-9]")  # device names on Windows, any extension


def id_problem(student: str) -> str | None:
    """Why a student id cannot be used (empty, unprintable, too long), or None."""
    if not student.strip():
        return "a student id must not be empty"
    bad = re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", student)
    if bad:
        return f"student id {student[:40]!r}: it contains an unprintable character (U+{ord(bad.group()):04X})"
    if len(student) > MAX_ID:
        return f"student id {student[:40]!r}...: at most {MAX_ID} characters"
    return None


def file_stem(student: str) -> str:
    """A safe file name for a student id: its letters, digits, '.', '-', '_', plus a short hash when it had
    others (so two ids never share a file)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", student).strip("._-")[:60] or "student"
    if safe != student or safe != safe.lower() or _RESERVED.fullmatch(safe.split(".")[0]):  # Alice/alice, CON, -rf
        safe += "-" + hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return safe


@dataclass
class Written:
    sheets: int = 0
    keys: int = 0
    pdfs: int = 0
    notes: list[str] = field(default_factory=list)


def write_papers(problem_set: ProblemSet, students: list[str], folder: Path, attempt: int = 1, pdf: bool = False) -> Written:
    from examcheck.outputs import OutputError, write_output
    from examcheck.reference import Resolver
    from examcheck.solving import solve_problem
    from examcheck.variants import assignment, student_view

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PaperError(f"{folder}: cannot create the folder ({exc.strerror or exc})") from None
    resolver = Resolver()
    solutions: dict[int, object] = {}
    written = Written()
    engine = next((e for e in TEX_ENGINES if shutil.which(e)), None) if pdf else None
    if pdf and engine is None:
        written.notes.append("no TeX engine found (latexmk, pdflatex, xelatex, tectonic): PDFs not made; "
                             "the .tex files compile with pdflatex")
    for student in students:
        view = student_view(problem_set, student, attempt)
        chosen = assignment(problem_set, student, attempt)
        answers = {}
        for problem in view.problems:
            if id(problem) not in solutions:
                solutions[id(problem)] = solve_problem(view, problem, resolver)
            answers[problem.id] = solutions[id(problem)]
        stem = file_stem(student)
        files = {
            f"{stem}.md": sheet_markdown(view, student, chosen, attempt),
            f"{stem}.tex": sheet_latex(view, student, chosen, attempt),
            f"{stem}-key.md": sheet_markdown(view, student, chosen, attempt, answers),
            f"{stem}-key.tex": sheet_latex(view, student, chosen, attempt, answers),
        }
        for name, text in files.items():
            try:
                write_output(folder / name, text)
            except OutputError as exc:
                raise PaperError(str(exc)) from None
        written.sheets += 1
        written.keys += 1
        if engine is not None:
            for name in (f"{stem}.tex", f"{stem}-key.tex"):
                note = _typeset(engine, folder, name)
                if note:
                    written.notes.append(note)
                else:
                    written.pdfs += 1
    return written


def _marks(marks: float) -> str:
    return f"{marks:g} mark" + ("" if marks == 1 else "s")


def _variant_line(chosen: dict, attempt: int) -> str:
    parts = [f"{pid} variant {n}" for pid, n in chosen.items()]
    if attempt != 1:
        parts.append(f"attempt {attempt}")
    return ", ".join(parts)


def sheet_markdown(view: ProblemSet, student: str, chosen: dict, attempt: int, answers: dict | None = None) -> str:
    from examcheck.render.escape import terminal_text

    def md(text: str) -> str:
        return terminal_text(re.sub(r"([\\`*_<>\[\]#|])", r"\\\1", str(text)))

    def code(text: str) -> str:
        return "`" + terminal_text(str(text).replace("`", "'").replace("\n", " ")) + "`"

    title = f"# {md(view.title)}" + (" — answer key" if answers is not None else "")
    lines = [title, "", f"Student: **{md(student)}**  ", f"Exam: `{md(view.exam)}`"]
    if chosen:
        lines[-1] += "  "
        lines.append(f"Version: {md(_variant_line(chosen, attempt))}")
    for problem in view.problems:
        lines += ["", f"## {md(problem.id)}. {md(problem.title)} ({_marks(problem.marks)})", ""]
        if problem.statement:
            lines += [md(problem.statement.rstrip()), ""]
        solution = answers.get(problem.id) if answers is not None else None
        for i, part in enumerate(problem.parts):
            lines.append(f"**({md(part.id)})** {md(part.prompt or '(see above)')} *[{_marks(part.marks)}]*")
            if solution is not None:
                entry = solution.parts[i]
                shown = entry.answer if entry.answer is not None else (entry.error or "marked by hand")
                lines.append(f"  Answer: {code(shown)}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def sheet_latex(view: ProblemSet, student: str, chosen: dict, attempt: int, answers: dict | None = None) -> str:
    title = tex(view.title) + (" --- answer key" if answers is not None else "")
    lines = [r"\documentclass[11pt]{article}", r"\usepackage[margin=2cm]{geometry}", r"\begin{document}",
             rf"\section*{{{title}}}", rf"Student: \textbf{{{tex(student)}}} \\ Exam: \texttt{{{tex(view.exam)}}}"]
    if chosen:
        lines[-1] += rf" \\ Version: {tex(_variant_line(chosen, attempt))}"
    for problem in view.problems:
        lines.append(rf"\subsection*{{{tex(problem.id)}. {tex(problem.title)} ({_marks(problem.marks)})}}")
        if problem.statement:
            lines.append(tex_with_math(problem.statement.rstrip()))
        solution = answers.get(problem.id) if answers is not None else None
        lines.append(r"\begin{enumerate}")
        for i, part in enumerate(problem.parts):
            lines.append(rf"\item[({tex(part.id)})] {tex_with_math(part.prompt or '(see above)')} \hfill [{_marks(part.marks)}]")
            if solution is not None:
                entry = solution.parts[i]
                shown = entry.answer if entry.answer is not None else (entry.error or "marked by hand")
                lines.append(rf"\\ \textbf{{Answer:}} \texttt{{{tex(shown)}}}")
            else:
                lines.append(r"\vspace{3em}")
        lines.append(r"\end{enumerate}")
    lines.append(r"\end{document}")
    return "\n".join(lines) + "\n"


def _typeset(engine: str, folder: Path, name: str) -> str:
    """'' if the PDF was made, else why not (never raises)."""
    commands = {
        "latexmk": ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", name],
        "pdflatex": ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", name],
        "xelatex": ["xelatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", name],
        "tectonic": ["tectonic", "--untrusted", name],
    }
    try:
        done = subprocess.run(commands[engine], cwd=folder, capture_output=True, timeout=TEX_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{name}: {engine} failed ({type(exc).__name__})"
    if done.returncode != 0:
        return f"{name}: {engine} exited {done.returncode}; see {name[:-4]}.log"
    for suffix in (".aux", ".log", ".fls", ".fdb_latexmk"):
        (folder / (name[:-4] + suffix)).unlink(missing_ok=True)
    return ""
