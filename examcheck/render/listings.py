"""Findings of `check`, the `list` overview, and blank answer templates."""

from __future__ import annotations

import json

from examcheck.model import Finding, ProblemSet
from examcheck.render.escape import terminal_text


def finding_text(finding: Finding) -> str:
    level = "warning: " if finding.level == "warning" else ""
    head = f"{finding.location()}: {level}{finding.where + ': ' if finding.where else ''}{finding.message}"
    return terminal_text(head + "".join(f"\n    {d}" for d in finding.details()))


def findings_json(findings: list[Finding]) -> str:
    return json.dumps([vars(f) for f in findings], indent=2, ensure_ascii=False)


def listing_text(sets: list[ProblemSet]) -> str:
    lines = []
    for s in sets:
        lines.append(f"{s.exam}  {s.title}  ({s.marks:g} marks)  [{s.source}]")
        for p in s.problems:
            family = f"  family: {p.family}" if p.family else ""
            parts = ", ".join(part.id for part in p.parts)
            lines.append(f"  {p.id:<6} {p.marks:>4g} marks  {p.title}  (parts: {parts}){family}")
    return "\n".join(lines)


def _yaml_comment(text: str, indent: str) -> list[str]:
    return [f"{indent}# {line}".rstrip() for line in text.strip().splitlines() if line.strip()]


def template_yaml(s: ProblemSet) -> str:
    lines = [f"# Answer file for {s.exam}: {s.title}",
             "# Write each answer after its part id. Quote answers that contain ':' or '#'.",
             "student: your-name", f"exam: {s.exam}", "answers:"]
    for p in s.problems:
        lines.append(f"  # {p.id}: {p.title} ({p.marks:g} marks)")
        lines.append(f"  {p.id}:")
        for part in p.parts:
            prompt = part.prompt or "(see the exam)"
            lines += _yaml_comment(f"({part.id}) {prompt} [{part.answer}, {part.marks:g} marks]", "    ")
            lines.append(f"    {_yaml_key(part.id)}:")
    return "\n".join(lines) + "\n"


def _yaml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() and not key.isdigit() else f'"{key}"'


def findings_text_chunks(findings: list[Finding], options):
    """Each finding, then one line that sums up what was checked."""
    for finding in findings:
        yield finding_text(finding) + "\n"
    sets = options.sets or []
    parts = sum(len(p.parts) for s in sets for p in s.problems)
    keys = sum(1 for s in sets for p in s.problems for part in p.parts if part.has_key)
    warnings = sum(1 for f in findings if f.level == "warning")
    verdict = f"{len(findings) - warnings} finding(s)" if len(findings) > warnings else "all keys agree"
    if warnings:
        verdict += f", {warnings} warning(s)"
    yield f"checked {len(sets)} problem set(s), {parts} parts, {keys} stated keys: {verdict}\n"


def findings_json_chunks(findings: list[Finding], options):
    yield findings_json(findings) + "\n"


def schema_json(schema: dict) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False)
