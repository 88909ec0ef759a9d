"""The answer file the page saves: the YAML that `examcheck grade` reads.

Every string is emitted by PyYAML in single-quoted style (backslashes in LaTeX
stay as written, '' stands for a quote), multi-line answers as literal blocks;
An answer's blanks that neither style can show are made plain first (tabs become
spaces, blanks at the end of a line go: whitespace means nothing to the grader),
so a TA reads the file as typed.  PyYAML still falls back to a double-quoted
scalar where neither can hold the text exactly (control characters).  Ids are
quoted too, so a part called 1 or yes stays the text it is.
"""

from __future__ import annotations

import yaml


def answers_yaml(student: str, exam: str, answers: dict[str, dict[str, str]]) -> str:
    data = {"student": student, "exam": exam,
            "answers": {problem: {part: _plain_blanks(text) for part, text in parts.items()}
                        for problem, parts in answers.items() if parts}}
    if not data["answers"]:
        data["answers"] = {}
    header = "# Saved by examcheck serve; grade it with: examcheck grade FILE\n"
    return header + yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1 << 16)


def _plain_blanks(text):
    if not isinstance(text, str):
        return text
    lines = text.expandtabs(4).split("\n")
    return "\n".join(line.rstrip(" ") for line in lines) if len(lines) > 1 else lines[0]


class _Dumper(yaml.SafeDumper):
    """Single-quoted strings; a literal block for multi-line answers."""


def _string(dumper: yaml.SafeDumper, text: str):
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else "'")


_Dumper.add_representer(str, _string)
