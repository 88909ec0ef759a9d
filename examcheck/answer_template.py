"""A blank answer file for an exam: the schema modeline for editors, quoting advice for LaTeX, and for
every problem its statement, for every part its prompt, answer kind, marks and the names it may use."""

from __future__ import annotations

from examcheck.model import Part, Problem, ProblemSet
from examcheck.schema_files import modeline

HEADER = """\
# Answer file for {exam}: {title}
#
# Write each answer after its part id.  Text that is not LaTeX needs no quotes: 0.25, 4x8, sigma(z)*(1-sigma(z))
# LaTeX goes in SINGLE quotes, where a backslash is just a backslash:
#     i: '\\frac{{1}}{{2}} \\sigma(z)'
# or in a block scalar (a | and the answer indented on the next line):
#     i: |
#       \\frac{{1}}{{2}} \\sigma(z)
# Never in "double quotes": there YAML reads \\f, \\t, \\b, \\a, \\n as control characters (\\frac turns into a
# form feed and "rac") and \\s, \\c, \\l ... as errors.  Inside single quotes write '' for a quote.
# Quote (single) any answer that holds ': ' or ' #', or starts with [ {{ * & ! | > % @ `
"""


def _comment(text: str, prefix: str) -> list[str]:
    return [f"{prefix}{line}".rstrip() for line in text.strip().splitlines() if line.strip()]


def _key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() and not key.isdigit() else f"'{key}'"


def allowed_names(problem: Problem, part: Part, resolver) -> str:
    """The names an answer to this part may use ('' when the part reads no names, or they cannot be computed)."""
    if part.answer not in ("expression", "vector", "matrix", "tuple", "set", "number"):
        return ""
    try:
        vocab = resolver.reference(problem, part).options.vocab
    except Exception:  # noqa: BLE001 - a part whose reference cannot be computed: `check` reports it
        return ""
    if vocab is None or not (vocab.symbols or vocab.functions):
        return ""
    return vocab.describe()


def template_text(problem_set: ProblemSet, schema_url: str | None = None) -> str:
    from examcheck.reference import Resolver

    resolver = Resolver()
    lines = [modeline(schema_url)]
    lines += HEADER.format(exam=problem_set.exam, title=problem_set.title).splitlines()
    lines += ["student: your-name", f"exam: {problem_set.exam}", "answers:"]
    for problem in problem_set.problems:
        lines.append(f"  # {problem.id}: {problem.title} ({problem.marks:g} marks)")
        lines += _comment(problem.statement, "  #   ")
        lines.append(f"  {_key(problem.id)}:")
        for part in problem.parts:
            prompt = part.prompt or "(see the exam)"
            lines += _comment(f"({part.id}) {prompt} [{part.answer}, {part.marks:g} marks]", "    # ")
            if part.answer == "choice" and part.choices:
                lines.append("    #     one of: " + ", ".join(map(str, part.choices)))
            names = allowed_names(problem, part, resolver)
            if names:
                lines.append(f"    #     allowed names: {names}")
            lines.append(f"    {_key(part.id)}:")
    return "\n".join(lines) + "\n"
