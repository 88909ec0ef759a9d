"""Grades for the tools instructors use: CSV gradebooks, Canvas, Gradescope,
JUnit XML, GitHub annotations, JSON Lines and Markdown feedback."""

from __future__ import annotations

import csv
import io
import json
from xml.etree import ElementTree as ET

from examcheck.model import Finding, Report, Status
from examcheck.render.escape import csv_row, markdown_cell, terminal_text, xml_text
from examcheck.render.reports import report_dict


def _num(x: float):
    return int(x) if float(x).is_integer() else round(x, 4)


def jsonl(reports: list[Report], reveal: bool = True) -> str:
    return "".join(json.dumps(report_dict(r, reveal), ensure_ascii=False) + "\n" for r in reports)


def _part_columns(reports: list[Report]) -> list[tuple[str, float]]:
    """(problem.part, max score) in exam order, over every report."""
    columns: dict[str, float] = {}
    for report in reports:
        for problem in report.problems:
            for part in problem.parts:
                columns.setdefault(f"{problem.id}.{part.id}", part.max_score)
    return list(columns.items())


def gradebook_csv(reports: list[Report], points_row: bool = False) -> str:
    """One row per student: id, exam, each part's score, total, max."""
    columns = _part_columns(reports)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(csv_row(["student", "exam", *(name for name, _ in columns), "total", "max"]))
    if points_row:
        total = sum(m for _, m in columns)
        writer.writerow(csv_row(["Points Possible", "", *(_num(m) for _, m in columns), _num(total), _num(total)]))
    for report in reports:
        scores = {f"{p.id}.{q.id}": q.score for p in report.problems for q in p.parts}
        writer.writerow(csv_row([report.student, report.exam,
                                 *(_num(scores[n]) if n in scores else "" for n, _ in columns),
                                 _num(report.score), _num(report.max_score)]))
    return out.getvalue()


CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def canvas_csv(reports: list[Report], assignment: str) -> str:
    """Canvas gradebook import: the five student columns, one assignment column, and a Points Possible row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(csv_row([*CANVAS_COLUMNS, assignment]))
    most = max((r.max_score for r in reports), default=0)
    writer.writerow(csv_row(["Points Possible", "", "", "", "", _num(most)]))
    for report in reports:
        writer.writerow(csv_row([report.student, "", report.student, report.student, "", _num(report.score)]))
    return out.getvalue()


def gradescope_json(report: Report, reveal: bool = True) -> str:
    """results.json as Gradescope's autograder specification defines it; the total is shown."""
    tests = []
    for problem in report.problems:
        for part in problem.parts:
            lines = [f"status: {part.status}"]
            if part.interpreted:
                lines.append(f"your answer, as read: {part.interpreted}")
            if reveal and part.expected:
                lines.append(f"expected: {part.expected}")
            if reveal and part.follow_through and part.follow_through.expected_for_value(part.expected):
                lines.append(f"expected {part.follow_through.expected_for_value(part.expected)}")
            if part.feedback:
                lines.append(part.feedback)
            tests.append({
                "name": f"{problem.id}.{part.id}", "number": f"{problem.id}.{part.id}",
                "score": _num(part.score), "max_score": _num(part.max_score),
                "status": "passed" if part.status.is_correct else "failed",
                "output": "\n".join(lines), "visibility": "visible",
            })
    summary = f"{report.student}: {_num(report.score)}/{_num(report.max_score)} on {report.exam}"
    return json.dumps({"score": _num(report.score), "output": summary, "visibility": "visible",
                       "stdout_visibility": "visible", "tests": tests}, indent=2, ensure_ascii=False)


def gradescope_failure(messages: list[str]) -> str:
    """results.json for a submission that could not be read: score 0 and the reason, shown."""
    text = "Your answer file could not be graded:\n" + "\n".join(messages or ["no answer file was found"])
    return json.dumps({"score": 0, "output": text, "visibility": "visible", "stdout_visibility": "visible",
                       "tests": []}, indent=2)


def junit_xml(reports: list[Report]) -> str:
    """One testsuite per answer file, one testcase per part (classname = exam, file = answer file)."""
    x = xml_text
    suites = ET.Element("testsuites", name="examcheck")
    for report in reports:
        parts = [(p, q) for p in report.problems for q in p.parts]
        failed = [q for _, q in parts if q.status.is_failure]
        skipped = [q for _, q in parts if q.status.is_skipped]
        suite = ET.SubElement(suites, "testsuite", name=x(report.student), tests=str(len(parts)),
                              failures=str(len(failed)), errors="0", skipped=str(len(skipped)))
        for problem, part in parts:
            case = ET.SubElement(suite, "testcase", classname=x(report.exam), name=x(f"{problem.id}.{part.id}"),
                                 file=x(report.source))
            if part.line:
                case.set("line", str(part.line))
            if part.status.is_skipped:
                ET.SubElement(case, "skipped", message=x(part.status))
            elif part.status.is_failure:
                failure = ET.SubElement(case, "failure", message=x(f"{part.status}: {part.feedback}"[:500]),
                                        type=x(part.status))
                failure.text = x(f"score {_num(part.score)}/{_num(part.max_score)}; read as {part.interpreted}")
        ET.SubElement(suite, "properties")
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _escape_data(text: str) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return terminal_text(text)


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotation(level: str, file: str, line: int | None, title: str, message: str) -> str:
    props = [f"file={_escape_property(file)}"]
    if line:
        props.append(f"line={line}")
    props.append(f"title={_escape_property(title)}")
    return f"::{level} {','.join(props)}::{_escape_data(message)}"


def github_findings(findings: list[Finding]) -> str:
    lines = []
    for f in findings:
        message = "\n".join([f.message, *f.details()])
        lines.append(github_annotation("warning" if f.level == "warning" else "error", f.source, f.line,
                                       f.where or "examcheck", message))
    return "\n".join(lines) + ("\n" if lines else "")


def github_reports(reports: list[Report]) -> str:
    lines = []
    for report in reports:
        for problem in report.problems:
            for part in problem.parts:
                if part.status.is_correct or part.status is Status.UNGRADED:
                    continue
                level = "warning" if part.status.is_warning else "error"
                lines.append(github_annotation(level, report.source, part.line, f"{problem.id}.{part.id}",
                                               f"{part.status}: {part.feedback}".strip()))
    return "\n".join(lines) + ("\n" if lines else "")


def markdown_report(report: Report, reveal: bool = True) -> str:
    lines = [f"# {_md(report.student)}: {_md(report.exam)}", "",
             f"**Total: {_num(report.score)} / {_num(report.max_score)}**", ""]
    header = "| part | status | marks | your answer, as read |" + (" expected |" if reveal else "") + " feedback |"
    lines += [header, "|" + "---|" * (header.count("|") - 1)]
    for problem in report.problems:
        for part in problem.parts:
            cells = [f"{problem.id}.{part.id}", part.status, f"{_num(part.score)}/{_num(part.max_score)}",
                     _md(part.interpreted or (str(part.given) if part.given is not None else ""))]
            if reveal:
                extra = part.follow_through.expected_for_value(part.expected) if part.follow_through else ""
                cells.append(_md(f"{part.expected or ''} ({extra})" if extra else part.expected or ""))
            cells.append(_md(part.feedback or part.note))
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return markdown_cell(text)


# ----------------------------------------------------------------------------- the registry's streaming formats


def jsonl_chunks(reports, options):
    for report in reports:
        yield json.dumps(report_dict(report, options.reveal), ensure_ascii=False) + "\n"


def _csv_line(row: list) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(csv_row(row))
    return out.getvalue()


def csv_chunks(reports, options):
    """gradebook_csv, a row at a time (one pass for the columns, one for the rows)."""
    columns = _part_columns(reports)
    yield _csv_line(["student", "exam", *(name for name, _ in columns), "total", "max"])
    if options.points_row:
        total = sum(m for _, m in columns)
        yield _csv_line(["Points Possible", "", *(_num(m) for _, m in columns), _num(total), _num(total)])
    for report in reports:
        scores = {f"{p.id}.{q.id}": q.score for p in report.problems for q in p.parts}
        yield _csv_line([report.student, report.exam, *(_num(scores[n]) if n in scores else "" for n, _ in columns),
                         _num(report.score), _num(report.max_score)])


def canvas_chunks(reports, options):
    yield _csv_line([*CANVAS_COLUMNS, options.assignment])
    most = max((r.max_score for r in reports), default=0)
    yield _csv_line(["Points Possible", "", "", "", "", _num(most)])
    for report in reports:
        yield _csv_line([report.student, "", report.student, report.student, "", _num(report.score)])


def gradescope_chunks(reports, options):
    count = len(reports)
    if count == 0:
        yield gradescope_failure(list(options.errors))
    elif count == 1:
        yield gradescope_json(next(iter(reports)), options.reveal)
    else:
        yield "["
        for i, report in enumerate(reports):
            yield ("" if i == 0 else ",\n") + gradescope_json(report, options.reveal)
        yield "]"


def junit_chunks(reports, options):
    """junit_xml, a test suite at a time."""
    if not len(reports):
        yield junit_xml([])
        return
    for i, report in enumerate(reports):
        document = junit_xml([report])
        start = document.index("<testsuite ")
        yield document[0 if i == 0 else start:document.rindex("</testsuites>")]
    yield "</testsuites>\n"


def github_chunks(reports, options):
    for report in reports:
        yield github_reports([report])


def markdown_chunks(reports, options):
    for i, report in enumerate(reports):
        yield ("" if i == 0 else "\n") + markdown_report(report, options.reveal)


def github_findings_chunks(findings, options):
    yield github_findings(findings)
