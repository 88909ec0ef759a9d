"""Grades for CI systems: JUnit XML (valid against Jenkins' junit-10.xsd) and GitHub workflow commands.

JUnit: one <testsuite> per answer file, named ``exam.student``; one <testcase> per part with
classname ``exam.student`` (made unique when one student has two files for an exam) and name
``q1.i``.  The XSD allows no file or line on a testcase, so they are the suite's properties
(``file``, ``student``, ``exam``, and ``line.q1.i`` for each part written on a known line).
Wrong, unreadable and *missing* answers are failures; hand-marked parts are skipped.
Characters XML 1.0 forbids are removed from every text.

GitHub: GitHub shows at most 10 error and 10 warning annotations per step and drops the rest
silently, so at most 10 of each are written, the worst first (most marks lost), then one notice
that counts them all.  The full table is Markdown for ``$GITHUB_STEP_SUMMARY``
(`step_summary_chunks`; the command line appends it to that file when the variable is set).
"""

from __future__ import annotations

import heapq
from xml.etree import ElementTree as ET

from examcheck.model import Report, Status
from examcheck.render.escape import markdown_cell, terminal_text, xml_text

MAX_ANNOTATIONS = 10  # per level, per step (GitHub's limit)
MAX_SUMMARY_BYTES = 900_000  # GitHub accepts 1 MiB of step summary


def _num(x: float):
    return int(x) if float(x).is_integer() else round(x, 4)


def _junit_text(value) -> str:
    """Student text in a JUnit report: its controls shown as visible escapes (reports are read in CI pages and
    terminals: a bidi override or an escape sequence must not act there), then made valid XML."""
    return xml_text(terminal_text(str(value)))


def _junit_suite(report: Report, classname: str) -> ET.Element:
    x = _junit_text
    parts = [(p, q) for p in report.problems for q in p.parts]
    failed = [q for _, q in parts if not q.hand_marked and (q.status.is_failure or q.status is Status.MISSING)]
    skipped = [q for _, q in parts if q.hand_marked]
    suite = ET.Element("testsuite", name=x(classname), tests=str(len(parts)), failures=str(len(failed)),
                       errors="0", skipped=str(len(skipped)), file=x(report.source))
    properties = ET.SubElement(suite, "properties")
    for name, value in (("file", report.source), ("student", report.student), ("exam", report.exam),
                        ("score", f"{_num(report.score)}/{_num(report.max_score)}")):
        ET.SubElement(properties, "property", name=name, value=x(value))
    for problem, part in parts:
        if part.line:
            ET.SubElement(properties, "property", name=x(f"line.{problem.id}.{part.id}"), value=str(part.line))
    for problem, part in parts:
        case = ET.SubElement(suite, "testcase", classname=x(classname), name=x(f"{problem.id}.{part.id}"), time="0")
        if part.hand_marked:  # answered or blank: informational, never a failure
            ET.SubElement(case, "skipped", message=x(f"{part.status}: {part.feedback}"[:500]))
        elif part.status.is_failure or part.status is Status.MISSING:
            message = f"{part.status}: {part.feedback}" if part.feedback else str(part.status)
            failure = ET.SubElement(case, "failure", message=x(message[:500]), type=x(part.status))
            where = f"{report.source}:{part.line}" if part.line else report.source
            text = [f"{where}: score {_num(part.score)}/{_num(part.max_score)}"]
            if part.interpreted:
                text.append(f"read as {part.interpreted}")
            if part.expected:
                text.append(f"expected {part.expected}")
            failure.text = x("; ".join(text))
    return suite


def junit_chunks(reports, options):
    yield "<?xml version='1.0' encoding='utf-8'?>\n<testsuites name=\"examcheck\">\n"
    seen: dict[str, int] = {}
    for report in reports:
        classname = f"{report.exam}.{report.student}"
        seen[classname] = seen.get(classname, 0) + 1
        if seen[classname] > 1:  # one student's second file for an exam: still a distinct id
            classname = f"{classname}~{seen[classname]}"
        yield ET.tostring(_junit_suite(report, classname), encoding="unicode") + "\n"
    yield "</testsuites>\n"


# ----------------------------------------------------------------------------- GitHub


def escape_data(text: str) -> str:
    text = str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return terminal_text(text)


def _escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, file: str, line: int | None, title: str, message: str) -> str:
    props = [f"file={_escape_property(file)}"]
    if line:
        props.append(f"line={line}")
    props.append(f"title={_escape_property(title)}")
    return f"::{level} {','.join(props)}::{escape_data(message)}"


def _level(status: Status) -> str | None:
    if status.is_correct or status is Status.UNGRADED:
        return None
    return "warning" if status.is_warning else "error"


def github_chunks(reports, options):
    """At most 10 errors and 10 warnings (most marks lost first, then file order), then a notice counting all."""
    worst: dict[str, list] = {"error": [], "warning": []}
    counts = {"error": 0, "warning": 0}
    files = 0
    order = 0
    for report in reports:
        files += 1
        for problem in report.problems:
            for part in problem.parts:
                level = None if part.hand_marked else _level(part.status)
                if level is None:
                    continue
                counts[level] += 1
                order += 1
                entry = (-(part.max_score - part.score), order,
                         (report.source, part.line, f"{report.student}: {problem.id}.{part.id}",
                          f"{part.status}: {part.feedback}".strip().rstrip(":")))
                heap = worst[level]
                if len(heap) < MAX_ANNOTATIONS:
                    heapq.heappush(heap, _Max(entry))
                elif _Max(entry) > heap[0]:
                    heapq.heapreplace(heap, _Max(entry))
    for level in ("error", "warning"):
        for item in sorted(worst[level], reverse=True):
            yield annotation(level, *item.entry[2]) + "\n"
    shown = {k: len(v) for k, v in worst.items()}
    hidden = sum(counts.values()) - sum(shown.values())
    more = f"; {hidden} more not annotated (see the step summary)" if hidden else ""
    yield (f"::notice title=examcheck::{files} answer file(s): {counts['error']} error(s) and {counts['warning']} "
           f"warning(s); annotated the worst {shown['error']} and {shown['warning']}{more}\n")


class _Max:
    """Heap order: the entry that is *better* (fewer marks lost, later) is the smaller one."""

    __slots__ = ("entry",)

    def __init__(self, entry):
        self.entry = entry

    def key(self):
        lost, order, _ = self.entry
        return (-lost, -order)  # lost is stored negated: larger marks lost is worse

    def __lt__(self, other):
        return self.key() < other.key()

    def __gt__(self, other):
        return self.key() > other.key()

    def __eq__(self, other):
        return self.key() == other.key()


def step_summary_chunks(reports, options):
    """The full table, in Markdown, for $GITHUB_STEP_SUMMARY (cut, said so, past GitHub's 1 MiB)."""
    size = 0

    def bounded(text: str):
        nonlocal size
        size += len(text.encode("utf-8", "surrogateescape"))
        return text if size <= MAX_SUMMARY_BYTES else None

    yield "## examcheck\n\n| student | exam | score | max | % |\n|---|---|---|---|---|\n"
    findings = []
    for report in reports:
        percent = 100 * report.score / report.max_score if report.max_score else 0.0
        row = bounded(f"| {markdown_cell(report.student)} | {markdown_cell(report.exam)} | {_num(report.score)} | "
                      f"{_num(report.max_score)} | {percent:.1f} |\n")
        if row is None:
            yield "\n(cut: the step summary is limited to 1 MiB)\n"
            return
        yield row
        for problem in report.problems:
            for part in problem.parts:
                if not part.hand_marked and _level(part.status) is not None and len(findings) < 100_000:
                    where = f"{report.source}:{part.line}" if part.line else report.source
                    findings.append(f"| {markdown_cell(where)} | {markdown_cell(report.student)} | {problem.id}.{part.id} | "
                                    f"{part.status} | {markdown_cell(part.feedback)} |\n")
    yield "\n| file | student | part | status | feedback |\n|---|---|---|---|---|\n"
    for row in findings:
        if bounded(row) is None:
            yield "\n(cut: the step summary is limited to 1 MiB)\n"
            return
        yield row
