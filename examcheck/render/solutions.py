"""Worked solutions as text, Markdown, LaTeX or JSON."""

from __future__ import annotations

import json

from examcheck.model import ProblemSolution
from examcheck.render.escape import terminal_text
from examcheck.render.latex import tex


def _marks(marks: float) -> str:
    return f"{marks:g} mark" + ("" if marks == 1 else "s")


def solution_text(sol: ProblemSolution) -> str:
    lines = [f"{sol.exam}/{sol.id}: {sol.title}"]
    if sol.statement:
        lines += ["", sol.statement.strip()]
    for part in sol.parts:
        lines += ["", f"({part.id}) [{_marks(part.marks)}] {part.prompt}".rstrip()]
        for step in part.steps:
            lines.append(f"    {step.text}: {step.math}" if step.math else f"    {step.text}")
        if part.error:
            lines.append(f"    cannot compute: {part.error}")
        elif part.answer is not None:
            lines.append(f"    answer: {part.answer}")
        for point in part.rubric:
            lines.append(f"    rubric: {point}")
    return terminal_text("\n".join(lines))


def solution_markdown(sol: ProblemSolution) -> str:
    lines = [f"## {sol.id}: {sol.title}", ""]
    if sol.statement:
        lines += [sol.statement.strip(), ""]
    for part in sol.parts:
        lines.append(f"### ({part.id}) {part.prompt} *({_marks(part.marks)})*")
        for step in part.steps:
            lines.append(f"- {step.text}" + (f": `{step.math}`" if step.math else ""))
        if part.error:
            lines.append(f"- cannot compute: {part.error}")
        elif part.answer is not None:
            lines.append(f"\n**Answer:** `{part.answer}`")
        for point in part.rubric:
            lines.append(f"- rubric: {point}")
        lines.append("")
    return terminal_text("\n".join(lines))


def solution_latex(sol: ProblemSolution) -> str:
    """A LaTeX fragment (for \\input into an article): ASCII only, every special character escaped."""
    lines = [rf"\subsection*{{{tex(sol.id)}: {tex(sol.title)}}}"]
    if sol.statement:
        lines.append(tex(sol.statement.strip()).replace("\n\n", "\n\\par\n"))
    lines.append(r"\begin{enumerate}")
    for part in sol.parts:
        lines.append(rf"\item[({tex(part.id)})] {tex(part.prompt)}".rstrip())
        if part.steps:
            lines.append(r"\begin{itemize}")
            lines += [rf"\item {tex(s.text)}" + (rf": \texttt{{{tex(s.math)}}}" if s.math else "") for s in part.steps]
            lines.append(r"\end{itemize}")
        if part.error:
            lines.append(rf"\textbf{{Cannot compute:}} {tex(part.error)}")
        elif part.answer is not None:
            lines.append(rf"\textbf{{Answer:}} \texttt{{{tex(part.answer)}}}")
        for point in part.rubric:
            lines.append(rf"\textit{{Rubric:}} {tex(point)}")
        if not part.steps and part.answer is None and not part.error and not part.rubric:
            lines.append(r"\mbox{}")
    lines.append(r"\end{enumerate}")
    return "\n".join(lines)


def solution_dict(sol: ProblemSolution) -> dict:
    return {
        "exam": sol.exam, "id": sol.id, "title": sol.title, "statement": sol.statement, "family": sol.family,
        "parts": [{"id": p.id, "prompt": p.prompt, "marks": p.marks, "answer_type": p.answer_type,
                   "answer": p.answer, "error": p.error or None, "rubric": p.rubric,
                   "steps": [{"text": s.text, "math": s.math} for s in p.steps]} for p in sol.parts],
    }


def solution_json(sols: list[ProblemSolution]) -> str:
    data = [solution_dict(s) for s in sols]
    return json.dumps(data[0] if len(data) == 1 else data, indent=2, ensure_ascii=False)


RENDERERS = {"text": solution_text, "markdown": solution_markdown, "latex": solution_latex}


def text_chunks(solution: ProblemSolution, options):
    yield solution_text(solution) + "\n"


def markdown_chunks(solution: ProblemSolution, options):
    yield solution_markdown(solution) + "\n"


def latex_chunks(solution: ProblemSolution, options):
    yield solution_latex(solution) + "\n"


def json_chunks(solution: ProblemSolution, options):
    yield solution_json([solution]) + "\n"
