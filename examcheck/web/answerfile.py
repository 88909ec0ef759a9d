"""The answer file the page saves: the YAML that `examcheck grade` reads.

Every string is emitted by PyYAML in single-quoted style (backslashes in LaTeX
stay as written, '' stands for a quote), multi-line answers as literal blocks;
PyYAML itself falls back to a double-quoted scalar where neither can hold the
text exactly (trailing spaces on a line, control characters).  Ids are
quoted too, so a part called 1 or yes stays the text it is.
"""

from __future__ import annotations

import yaml


def answers_yaml(student: str, exam: str, answers: dict[str, dict[str, str]]) -> str:
    data = {"student": student, "exam": exam,
            "answers": {problem: dict(parts) for problem, parts in answers.items() if parts}}
    if not data["answers"]:
        data["answers"] = {}
    header = "# Saved by examcheck serve; grade it with: examcheck grade FILE\n"
    return header + yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1 << 16)


class _Dumper(yaml.SafeDumper):
    """Single-quoted strings; a literal block for multi-line answers."""


def _string(dumper: yaml.SafeDumper, text: str):
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else "'")


_Dumper.add_representer(str, _string)
