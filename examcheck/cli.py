"""The command line.  It parses options and renders results; it computes
nothing.  Heavy modules are imported inside commands so --help stays fast."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from examcheck import __version__

EXIT_FINDINGS = 1
EXIT_INPUT = 2

class FiniteFloatRange(click.FloatRange):
    """A float range that also refuses nan (which every comparison lets through)."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if number != number:
            self.fail(f"{value!r} is not a number (expected a finite number from {self.min:g} to {self.max:g})", param, ctx)
        return number


problems_option = click.option(
    "--problems", "problem_paths", multiple=True, type=click.Path(path_type=Path),
    help="Problem set file or folder (repeatable). Default: ./problems, else the bundled library.",
)


def _console(color: str = "auto"):
    from rich.console import Console

    force = {"always": True, "never": False}.get(color)
    plain = color == "never"
    return Console(force_terminal=force, no_color=plain or None, color_system=None if plain else "auto",
                   highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 160)


def _exit_for_bugs(bugs) -> None:
    """Internal errors are bugs: each said as such (with its traceback file), and their own exit code."""
    from examcheck.bugs import EXIT_INTERNAL

    for bug in dict.fromkeys(str(b) for b in bugs):
        _say_error(bug)
    if bugs:
        sys.exit(EXIT_INTERNAL)


def _say_error(error, suffix: str = "") -> None:
    from examcheck.render.escape import terminal_text

    click.echo(f"error: {terminal_text(error)}{suffix}", err=True)


def _fail_input(errors) -> None:
    for error in errors:
        _say_error(error)
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


class _Main(click.Group):
    """Any exception that escapes a command is a bug: said so, its traceback kept in a file, exit 70."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit,
                KeyboardInterrupt, GeneratorExit):
            raise
        except Exception:  # noqa: BLE001 - reported as the bug it is
            import traceback

            from examcheck.bugs import EXIT_INTERNAL, from_traceback

            bug = from_traceback("examcheck " + " ".join(sys.argv[1:])[:200], traceback.format_exc())
            click.echo(f"error: {bug}", err=True)
            ctx.exit(EXIT_INTERNAL)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="examcheck")
def main() -> None:
    """Check and grade mathematical exam answers (deep learning and ML).

    \b
    Exit codes: 0 success; 1 findings (check), or a score under --fail-under;
    2 usage or input errors (file:line: what was expected); 70 internal error:
    a bug in examcheck, never a fault of the input, with its traceback file named.
    """


GRADE_FORMATS = ["table", "json", "jsonl", "csv", "canvas", "gradescope", "junit", "github", "markdown"]


def _batch_options(fn):
    options = [
        click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None,
                     help="Parallel worker processes (default: the number of cores)."),
        click.option("--cache", "cache_dir", type=click.Path(path_type=Path),
                     help="Keep the verdict cache in this folder between runs."),
        click.option("--time-limit", type=FiniteFloatRange(0.1, 60), default=2.0, show_default=True,
                     help="Seconds allowed for each answer check."),
        click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto",
                     help="Colour in the terminal (NO_COLOR and FORCE_COLOR are honoured too)."),
        problems_option,
        click.argument("inputs", nargs=-1, required=True),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _progress_wanted(files: int) -> bool:
    """A progress bar on long runs, and only when stderr is a terminal."""
    return files > 1 and sys.stderr.isatty()


def _run_batch(inputs, problem_paths, jobs, cache_dir, time_limit):
    """(sets, batch result, input errors) for the answer files named by inputs."""
    from examcheck.engine import Engine
    from examcheck.inputs import expand_inputs
    from examcheck.limits import Limits

    sets = _load_sets(problem_paths)
    paths, errors = expand_inputs(list(inputs))
    warn = lambda message: click.echo(f"warning: {message}", err=True)  # noqa: E731
    with Engine(sets, jobs=jobs, limits=Limits(seconds=time_limit), cache_dir=cache_dir, warn=warn) as engine:
        if _progress_wanted(len(paths)):
            from rich.console import Console
            from rich.progress import Progress

            with Progress(console=Console(stderr=True), transient=True) as bar:
                task = bar.add_task("grading", total=len(paths))
                result = engine.grade_paths(paths, progress=lambda n: bar.advance(task, n))
        else:
            result = engine.grade_paths(paths)
    return sets, result, errors + result.errors


def _emit(text: str, output: str | None) -> bool:
    """Print text, or write it to the output file; False (after saying why) if it cannot be written."""
    from examcheck.outputs import OutputError, write_output

    if output is None or output == "-":
        click.echo(text, nl=not text.endswith("\n"))
        return True
    try:
        write_output(output, text)
    except OutputError as exc:
        _say_error(exc)
        return False
    return True


def _check_output(output: str | None) -> None:
    """A bad -o is a usage error before any grading starts."""
    from examcheck.outputs import OutputError, check_output

    try:
        check_output(output)
    except OutputError as exc:
        _fail_input([exc])


def _table_text(reports, reveal, summary, color, to_file: bool) -> str | None:
    from examcheck.render.reports import print_report
    from examcheck.render.stats import print_class_table

    console = _console("never" if to_file else color)
    if to_file:
        console.begin_capture()
    if len(reports) == 1:
        print_report(reports[0], console, reveal=reveal)
    elif reports:
        print_class_table(reports, console)
    if summary or len(reports) > 1:
        _print_stats(reports, console)
    return console.end_capture() if to_file else None


def _print_stats(reports, console) -> None:
    from examcheck.render.stats import print_stats
    from examcheck.stats import class_stats

    for exam in dict.fromkeys(r.exam for r in reports):
        print_stats(exam, class_stats([r for r in reports if r.exam == exam]), console)


@main.command()
@_batch_options
@click.option("--format", "fmt", type=click.Choice(GRADE_FORMATS), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(), help="Write to this regular file (atomically; a symlink is followed).")
@click.option("--no-reveal", is_flag=True, help="Hide expected answers (for self-checks); feedback stays.")
@click.option("--fail-under", type=FiniteFloatRange(0, 100), help="Exit 1 if any score is below this percent.")
@click.option("--summary", is_flag=True, help="Add class statistics (table format).")
@click.option("--points-row", is_flag=True, help="csv: add a Points Possible row.")
@click.option("--assignment", default="examcheck", show_default=True, help="canvas: the assignment column's name.")
def grade(inputs, problem_paths, jobs, cache_dir, time_limit, color, fmt, output, no_reveal, fail_under, summary,
          points_row, assignment) -> None:
    """Grade answer files (files, folders or globs) part by part."""
    from examcheck.render import exports
    from examcheck.render.reports import reports_json

    _check_output(output)
    _sets, result, errors = _run_batch(inputs, problem_paths, jobs, cache_dir, time_limit)
    reports, reveal = result.reports, not no_reveal
    written = True
    renderers = {
        "json": lambda: reports_json(reports, reveal=reveal) if reports else "[]",
        "jsonl": lambda: exports.jsonl(reports, reveal),
        "csv": lambda: exports.gradebook_csv(reports, points_row),
        "canvas": lambda: exports.canvas_csv(reports, assignment),
        "gradescope": lambda: exports.gradescope_json(reports[0], reveal) if len(reports) == 1 else
        "[" + ",\n".join(exports.gradescope_json(r, reveal) for r in reports) + "]",
        "junit": lambda: exports.junit_xml(reports),
        "github": lambda: exports.github_reports(reports),
        "markdown": lambda: "\n".join(exports.markdown_report(r, reveal) for r in reports),
    }
    if fmt == "table":
        text = _table_text(reports, reveal, summary, color, to_file=output is not None)
        if text is not None:
            written = _emit(text, output)
    elif fmt == "gradescope" and not reports:
        written = _emit(exports.gradescope_failure([str(e) for e in errors]), output)
    elif reports or fmt in ("json", "csv", "canvas", "junit"):
        written = _emit(renderers[fmt](), output)
    for error in errors:
        _say_error(error, " (skipped)")
    _exit_for_bugs(result.bugs)
    if errors or not written:
        sys.exit(EXIT_INPUT)
    if fail_under is not None and any(
        (100 * r.score / r.max_score if r.max_score else 100.0) < fail_under for r in reports
    ):
        sys.exit(EXIT_FINDINGS)


@main.command()
@_batch_options
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(), help="Write to this regular file (atomically; a symlink is followed).")
def stats(inputs, problem_paths, jobs, cache_dir, time_limit, color, fmt, output) -> None:
    """Class statistics: per-part means and commonest mistakes, discrimination, a histogram."""
    from examcheck.render.stats import stats_json
    from examcheck.stats import class_stats

    _check_output(output)
    _sets, result, errors = _run_batch(inputs, problem_paths, jobs, cache_dir, time_limit)
    reports = result.reports
    written = True
    if fmt == "json":
        by_exam = {e: class_stats([r for r in reports if r.exam == e]) for e in dict.fromkeys(r.exam for r in reports)}
        written = _emit(stats_json(by_exam), output)
    else:
        console = _console("never" if output else color)
        if output:
            console.begin_capture()
        _print_stats(reports, console)
        if output:
            written = _emit(console.end_capture(), output)
    for error in errors:
        _say_error(error, " (skipped)")
    _exit_for_bugs(result.bugs)
    if errors or not written:
        sys.exit(EXIT_INPUT)


@main.command()
@click.argument("problem_id")
@problems_option
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "latex", "json"]), default="text",
              show_default=True)
def solve(problem_id, problem_paths, fmt) -> None:
    """Print the worked reference solution of a problem (q3, or EXAM/q3)."""
    from examcheck.engine import Engine
    from examcheck.render.solutions import RENDERERS, solution_json

    sets = _load_sets(problem_paths)
    with Engine(sets, jobs=1) as engine:
        try:
            solution = engine.solve(problem_id)
        except LookupError as exc:
            _fail_input([exc.args[0]])
        bugs = list(engine.bugs)
    click.echo(solution_json([solution]) if fmt == "json" else RENDERERS[fmt](solution))
    _exit_for_bugs(bugs)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--key", "key_files", multiple=True, type=click.Path(path_type=Path),
              help="A key file shaped like an answer file; every answer in it must be correct.")
@problems_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True,
              help="github: workflow annotations on the exact line of the problem file.")
def check(paths, key_files, problem_paths, fmt) -> None:
    """Validate problem sets, recompute every part, and verify stated keys."""
    from examcheck.answers import load_sheet
    from examcheck.engine import Engine
    from examcheck.render.listings import finding_text, findings_json
    from examcheck.schema import ValidationFailed
    from examcheck.yamlio import InputError

    sets = _load_sets(tuple(paths) + tuple(problem_paths))
    try:
        keys = [load_sheet(key) for key in key_files]
    except ValidationFailed as exc:
        _fail_input(exc.errors)
    except InputError as exc:
        _fail_input([exc])
    with Engine(sets) as engine:
        try:
            findings = engine.check_sets(keys)
        except InputError as exc:
            _fail_input([exc])
        bugs = list(engine.bugs)
    if fmt == "json":
        click.echo(findings_json(findings))
    elif fmt == "github":
        from examcheck.render.exports import github_findings

        click.echo(github_findings(findings), nl=False)
    else:
        for finding in findings:
            click.echo(finding_text(finding))
        parts = sum(len(p.parts) for s in sets for p in s.problems)
        stated = sum(1 for s in sets for p in s.problems for part in p.parts if part.has_key)
        verdict = f"{len(findings)} finding(s)" if findings else "all keys agree"
        click.echo(f"checked {len(sets)} problem set(s), {parts} parts, {stated} stated keys: {verdict}")
    _exit_for_bugs(bugs)
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


@main.group(name="cache")
def cache_group() -> None:
    """The verdict cache (a folder given with --cache): statistics, or empty it."""


_cache_folder = click.argument("folder", required=False, type=click.Path(path_type=Path))


@cache_group.command(name="stats")
@_cache_folder
def cache_stats(folder) -> None:
    """Entries and size of the cache in FOLDER (default: $XDG_CACHE_HOME/examcheck)."""
    from examcheck.cache import VerdictCache, default_cache_dir

    store = VerdictCache(folder or default_cache_dir(), warn=lambda m: click.echo(f"warning: {m}", err=True))
    info = store.stats()
    store.close()
    click.echo(f"{info['folder']}: {info['entries']} verdict(s), {info['bytes']} bytes"
               + ("" if info["writable"] else " (read-only)"))


@cache_group.command(name="clear")
@_cache_folder
def cache_clear(folder) -> None:
    """Remove every verdict from the cache in FOLDER."""
    from examcheck.cache import VerdictCache, default_cache_dir

    store = VerdictCache(folder or default_cache_dir(), warn=lambda m: click.echo(f"warning: {m}", err=True))
    removed = store.clear()
    store.close()
    click.echo(f"{store.folder}: removed {removed} verdict(s)")


@main.command()
@click.option("--answers", "which", flag_value="answers", help="The schema of answer files instead.")
def schema(which) -> None:
    """Print the JSON Schema of problem sets (for editor autocompletion)."""
    import json

    from examcheck.schema import ANSWER_FILE_SCHEMA, PROBLEM_SET_SCHEMA

    click.echo(json.dumps(ANSWER_FILE_SCHEMA if which == "answers" else PROBLEM_SET_SCHEMA, indent=2))


if __name__ == "__main__":  # pragma: no cover
    main()
