"""The command line.  It parses options and renders results; it computes
nothing.  Heavy modules are imported inside commands so --help stays fast."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from examcheck import __version__

EXIT_FINDINGS = 1
EXIT_INPUT = 2

problems_option = click.option(
    "--problems", "problem_paths", multiple=True, type=click.Path(path_type=Path),
    help="Problem set file or folder (repeatable). Default: ./problems, else the bundled library.",
)


def _console(color: str = "auto"):
    from rich.console import Console

    force = {"always": True, "never": False}.get(color)
    return Console(force_terminal=force, no_color=color == "never" or None, highlight=False,
                   soft_wrap=False, width=None if sys.stdout.isatty() else 160)


def _fail_input(errors) -> None:
    for error in errors:
        click.echo(f"error: {error}", err=True)
    sys.exit(EXIT_INPUT)


def _load_sets(paths):
    from examcheck.loader import load_sets
    from examcheck.schema import ValidationFailed
    from examcheck.yamlio import InputError

    try:
        sets = load_sets(list(paths) or None)
    except ValidationFailed as exc:
        _fail_input(exc.errors)
    except InputError as exc:
        _fail_input([exc])
    if not sets:
        _fail_input(["no problem sets found (use --problems PATH)"])
    return sets


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="examcheck")
def main() -> None:
    """Check and grade mathematical exam answers (deep learning and ML)."""


@main.command()
@click.argument("answer_files", nargs=-1, required=True, type=click.Path(path_type=Path))
@problems_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--no-reveal", is_flag=True, help="Hide expected answers (for self-checks); feedback stays.")
@click.option("--fail-under", type=click.FloatRange(0, 100), help="Exit 1 if any score is below this percent.")
@click.option("--time-limit", type=click.FloatRange(0.1, 60), default=2.0, show_default=True,
              help="Seconds allowed for each answer check.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto")
def grade(answer_files, problem_paths, fmt, no_reveal, fail_under, time_limit, color) -> None:
    """Grade answer files part by part."""
    from examcheck.answers import load_sheet
    from examcheck.grading import grade_file
    from examcheck.limits import Limits
    from examcheck.reference import Resolver
    from examcheck.render.reports import print_report, reports_json
    from examcheck.schema import ValidationFailed
    from examcheck.yamlio import InputError

    sets = _load_sets(problem_paths)
    resolver, limits = Resolver(), Limits(seconds=time_limit)
    reports, errors = [], []
    for path in answer_files:
        try:
            reports.append(grade_file(load_sheet(path), sets, resolver, limits))
        except ValidationFailed as exc:
            errors += exc.errors
        except InputError as exc:
            errors.append(exc)
    if fmt == "json":
        click.echo(reports_json(reports, reveal=not no_reveal) if reports else "[]")
    else:
        console = _console(color)
        for report in reports:
            print_report(report, console, reveal=not no_reveal)
    for error in errors:
        click.echo(f"error: {error}", err=True)
    if errors:
        sys.exit(EXIT_INPUT)
    if fail_under is not None and any(
        (100 * r.score / r.max_score if r.max_score else 100.0) < fail_under for r in reports
    ):
        sys.exit(EXIT_FINDINGS)


@main.command()
@click.argument("problem_id")
@problems_option
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "latex", "json"]), default="text",
              show_default=True)
def solve(problem_id, problem_paths, fmt) -> None:
    """Print the worked reference solution of a problem (q3, or EXAM/q3)."""
    from examcheck.render.solutions import RENDERERS, solution_json
    from examcheck.solving import find_problem, solve_problem

    sets = _load_sets(problem_paths)
    try:
        problem_set, problem = find_problem(sets, problem_id)
    except LookupError as exc:
        _fail_input([exc.args[0]])
    solution = solve_problem(problem_set, problem)
    click.echo(solution_json([solution]) if fmt == "json" else RENDERERS[fmt](solution))


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--key", "key_files", multiple=True, type=click.Path(path_type=Path),
              help="A key file shaped like an answer file; every answer in it must be correct.")
@problems_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def check(paths, key_files, problem_paths, fmt) -> None:
    """Validate problem sets, recompute every part, and verify stated keys."""
    from examcheck.answers import load_sheet
    from examcheck.checking import check_key_file, check_sets
    from examcheck.render.listings import finding_text, findings_json
    from examcheck.schema import ValidationFailed
    from examcheck.yamlio import InputError

    sets = _load_sets(tuple(paths) + tuple(problem_paths))
    findings = check_sets(sets)
    try:
        for key in key_files:
            findings += check_key_file(load_sheet(key), sets)
    except ValidationFailed as exc:
        _fail_input(exc.errors)
    except InputError as exc:
        _fail_input([exc])
    if fmt == "json":
        click.echo(findings_json(findings))
    else:
        for finding in findings:
            click.echo(finding_text(finding))
        parts = sum(len(p.parts) for s in sets for p in s.problems)
        keys = sum(1 for s in sets for p in s.problems for part in p.parts if part.has_key)
        verdict = f"{len(findings)} finding(s)" if findings else "all keys agree"
        click.echo(f"checked {len(sets)} problem set(s), {parts} parts, {keys} stated keys: {verdict}")
    if findings:
        sys.exit(EXIT_FINDINGS)


@main.command(name="list")
@problems_option
def list_sets(problem_paths) -> None:
    """List the loaded problem sets, their problems and marks."""
    from examcheck.render.listings import listing_text

    click.echo(listing_text(_load_sets(problem_paths)))


@main.command()
@click.argument("exam")
@problems_option
def template(exam, problem_paths) -> None:
    """Print a blank answer file for EXAM."""
    from examcheck.render.listings import template_yaml

    sets = _load_sets(problem_paths)
    matches = [s for s in sets if s.exam == exam]
    if not matches:
        _fail_input([f"no exam {exam!r} (loaded: {', '.join(s.exam for s in sets)})"])
    click.echo(template_yaml(matches[0]), nl=False)


@main.command()
@click.option("--answers", "which", flag_value="answers", help="The schema of answer files instead.")
def schema(which) -> None:
    """Print the JSON Schema of problem sets (for editor autocompletion)."""
    import json

    from examcheck.schema import ANSWER_FILE_SCHEMA, PROBLEM_SET_SCHEMA

    click.echo(json.dumps(ANSWER_FILE_SCHEMA if which == "answers" else PROBLEM_SET_SCHEMA, indent=2))


if __name__ == "__main__":  # pragma: no cover
    main()
