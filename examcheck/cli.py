"""The command line, thin: options in, one engine call, a renderer out.  It computes nothing
(no grouping, no statistics, no JSON).  Heavy modules are imported inside commands so
--help stays fast."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import click

from examcheck import __version__
from examcheck.render import names as render_names

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


def _computable(sets, only=None):
    """A resolver holding every reference; exit 2 naming each part whose reference cannot be computed."""
    from examcheck.preflight import reference_errors
    from examcheck.reference import Resolver

    resolver = Resolver()
    errors = reference_errors(sets, resolver, only)
    if errors:
        _fail_input(errors)
    return resolver




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
        click.option("--backend", type=click.Choice(["local", "dask"]), default="local", show_default=True,
                     help='Where answers are checked: this machine, or Dask (pip install "examcheck[distributed]").'),
        click.option("--scheduler", metavar="tcp://HOST:PORT",
                     help="dask: an existing scheduler (default: a local cluster of --jobs workers on loopback)."),
        problems_option,
        click.argument("inputs", nargs=-1, required=True),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _progress_wanted(files: int) -> bool:
    """A progress bar on long runs, and only when stderr is a terminal."""
    return files > 1 and sys.stderr.isatty()


def _warn(message: str) -> None:
    from examcheck.render.escape import terminal_text

    click.echo(f"warning: {terminal_text(message)}", err=True)


@contextlib.contextmanager
def _graded(inputs, problem_paths, jobs, cache_dir, time_limit, backend, scheduler, output=None, resume=False,
            renderer=None):
    """Grade the answer files named by inputs: yields (result, input errors, done), where done() is
    called once the output is written (a --resume state is then removed).  The engine (and with it
    the cache) closes after the output is written."""
    from examcheck.dask_backend import DaskUnavailable
    from examcheck.engine import Engine
    from examcheck.inputs import expand_inputs
    from examcheck.limits import Limits
    from examcheck.preflight import answered_sets
    from examcheck.stream import ReportStore

    sets = _load_sets(problem_paths)
    paths, errors = expand_inputs(list(inputs))
    # A part whose reference cannot be computed is an input error (exit 2), before any grading:
    # for one file only its exam's parts, for a batch every part.
    targets = answered_sets(paths, sets) if len(paths) <= 1 else sets
    _computable(sets, [(s, p) for s in targets for p in s.problems])
    window = os.environ.get("EXAMCHECK_WINDOW", "")  # files graded and committed together (default: 32 per job)
    window = int(window) if window.isdigit() else 0
    if scheduler and backend != "dask":
        _fail_input(["--scheduler needs --backend dask"])
    try:
        engine = Engine(sets, jobs=jobs, limits=Limits(seconds=time_limit), cache_dir=cache_dir, warn=_warn,
                        window=window, backend=backend, scheduler=scheduler)
    except DaskUnavailable as exc:
        _fail_input([exc])
    except OSError as exc:  # the scheduler cannot be reached
        _fail_input([f"--scheduler {scheduler}: {exc}"])
    with engine:
        store = ReportStore.for_output(output, engine.run_fingerprint()) if resume else ReportStore()
        if store.changed:
            _warn(f"{store.path}: left by a run with other problems, limits or version; grading every file again")
        finished = []
        if renderer is not None:  # imported while this process waits for its workers
            import threading

            from examcheck.render import renderer as load_renderer

            threading.Thread(target=load_renderer, args=renderer, daemon=True).start()
        try:
            if _progress_wanted(len(paths)):
                from rich.console import Console
                from rich.progress import Progress

                with Progress(console=Console(stderr=True), transient=True) as bar:
                    task = bar.add_task("grading", total=len(paths))
                    result = engine.grade_paths(paths, progress=lambda n: bar.advance(task, n), store=store)
            else:
                result = engine.grade_paths(paths, store=store)
            if store.resumed:
                _warn(f"resumed: {store.resumed} file(s) were graded by an interrupted run and not graded again")
            yield result, errors + result.errors, lambda: finished.append(True)
        except KeyboardInterrupt:
            hint = " (run again with --resume to continue)" if resume else ""
            click.echo(f"interrupted; no output was written{hint}", err=True)
            sys.exit(130)
        finally:
            store.close(finished=bool(finished))


def _finish(errors, bugs, written: bool) -> None:
    """Input errors (exit 2) and internal errors (exit 70), after the output."""
    for error in errors:
        _say_error(error, " (skipped)")
    _exit_for_bugs(bugs)
    if errors or not written:
        sys.exit(EXIT_INPUT)


def _emit(chunks, output: str | None) -> bool:
    """Print the chunks, or write them to the output file; False (after saying why) if it cannot be written."""
    from examcheck.outputs import OutputError, write_output

    if output is None or output == "-":
        last = ""
        for chunk in chunks:
            if chunk:
                click.echo(chunk, nl=False, color=True)  # the renderer decided on colour already
                last = chunk
        if last and not last.endswith("\n"):
            click.echo()
        return True
    try:
        write_output(output, chunks)
    except OutputError as exc:
        _say_error(exc)
        return False
    return True


def _check_output(output: str | None, resume: bool = False, inputs=(), problem_paths=()) -> None:
    """A bad -o (or one that would replace an input file) is a usage error before any grading starts."""
    from examcheck.outputs import OutputError, check_output

    if resume and (output is None or output == "-"):
        _fail_input(["--resume needs -o FILE (the state of an interrupted run is kept beside it)"])
    try:
        params = click.get_current_context().params  # -o must not replace one of the run's own input files
        check_output(output, [str(p) for name in ("inputs", "problem_paths") for p in params.get(name) or ()])
    except OutputError as exc:
        _fail_input([exc])


def _roster_options(fn):
    options = [
        click.option("--roster", "roster_path", type=click.Path(path_type=Path, dir_okay=False),
                     help="Class roster CSV (id, name, sis_id, login, email, section): files are joined to students "
                          "by LMS file/folder name, else by a student: field that is on the roster."),
        click.option("--roster-columns", metavar="FIELD=HEADER,...",
                     help='The roster\'s header names, e.g. "id=Student ID,name=Full name,sis_id=Matric".'),
        click.option("--strict", is_flag=True, help="Exit 1 on unknown, duplicate or missing students."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _roster(roster_path, roster_columns):
    """The roster (exit 2 naming file:line when it cannot be used), before any grading."""
    from examcheck.classrun import load_roster
    from examcheck.roster import RosterError

    try:
        return load_roster(roster_path, roster_columns)
    except RosterError as exc:
        _fail_input([exc])


def _identified(reports, roster):
    """The reports under the roster's ids; each unknown, duplicate and missing student said on stderr."""
    from examcheck.classrun import identified

    reports, identities = identified(reports, roster)
    for message in identities.messages():
        _warn(message)
    return reports, identities


def _assignment_ids(pairs) -> dict:
    out = {}
    for pair in pairs:
        exam, sep, ident = pair.partition("=")
        if not sep or not exam.strip() or not ident.strip():
            _fail_input([f"--assignment-id {pair!r}: expected EXAM=ID (e.g. quiz3=12345)"])
        out[exam.strip()] = ident.strip()
    return out


@main.command()
@_batch_options
@click.option("--format", "fmt", type=click.Choice(render_names("reports")), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(), help="Write to this regular file (atomically; a symlink is followed).")
@click.option("--no-reveal", is_flag=True, help="Hide expected answers (for self-checks); feedback stays.")
@click.option("--fail-under", type=FiniteFloatRange(0, 100), help="Exit 1 if any score is below this percent (naming who).")
@click.option("--summary", is_flag=True, help="Add class statistics (table format).")
@click.option("--points-row", is_flag=True, help="csv: add a Points Possible row.")
@click.option("--assignment", help="canvas, one exam: the column's name (default: the exam's title, with --assignment-id).")
@click.option("--assignment-id", "assignment_ids", multiple=True, metavar="EXAM=ID",
              help='canvas: the LMS assignment id of an exam (column "Exam title (ID)"); repeatable.')
@_roster_options
@click.option("--by-exam", "exam_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Write one file per exam into this folder instead of one output.")
@click.option("--split", "split_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Also write each student's feedback report (Markdown and HTML) into this folder.")
@click.option("--resume", is_flag=True, help="Continue an interrupted run: files it finished are not graded again (needs -o).")
def grade(inputs, problem_paths, jobs, cache_dir, time_limit, color, backend, scheduler, fmt, output, no_reveal,
          fail_under, summary, points_row, assignment, assignment_ids, roster_path, roster_columns, strict, exam_dir,
          split_dir, resume) -> None:
    """Grade answer files (files, folders or globs) part by part."""
    from examcheck.render import RenderOptions

    _check_output(output, resume, inputs, problem_paths)
    if exam_dir is not None and output is not None:
        _fail_input(["--by-exam writes one file per exam into its folder: give it or -o, not both"])
    ids = _assignment_ids(assignment_ids)
    roster = _roster(roster_path, roster_columns)
    titles = {s.exam: s.title for s in _load_sets(problem_paths)} if fmt in ("canvas", "moodle", "brightspace") else None
    with _graded(inputs, problem_paths, jobs, cache_dir, time_limit, backend, scheduler, output, resume,
                 renderer=("reports", fmt)) as (result, errors, done):
        reports, identities = _identified(result.reports, roster)
        options = RenderOptions(reveal=not no_reveal, color=color, to_file=output is not None or exam_dir is not None,
                                summary=summary, points_row=points_row, assignment=assignment or "examcheck",
                                errors=tuple(map(str, errors)), stats=result.statistics,
                                students=roster.by_id if roster is not None else None, exam_titles=titles, assignments=ids)
        written = _write_class(reports, fmt, options, output, exam_dir, split_dir)
        if written:
            done()
        below = _below(reports, fail_under)
    _finish(errors, result.bugs, written)
    if below or (strict and identities.problems):
        sys.exit(EXIT_FINDINGS)


def _write_class(reports, fmt, options, output, exam_dir, split_dir) -> bool:
    """The output (one file, or one per exam), the per-student reports, the GitHub step summary."""
    from examcheck.classrun import write_per_exam, write_split
    from examcheck.outputs import OutputError
    from examcheck.render import render

    try:
        if exam_dir is not None:
            write_per_exam(exam_dir, reports, fmt, lambda some: render("reports", fmt, some, options))
            written = True
        else:
            written = _emit(render("reports", fmt, reports, options), output)
        if split_dir is not None:
            write_split(split_dir, reports, options.reveal)
    except OutputError as exc:
        _say_error(exc)
        return False
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if fmt == "github" and summary_file:
        from examcheck.render.ci import step_summary_chunks

        try:
            with open(summary_file, "a", encoding="utf-8", errors="surrogateescape") as out:
                for chunk in step_summary_chunks(_shown(reports, options), options):
                    out.write(chunk)
        except OSError as exc:
            _warn(f"GITHUB_STEP_SUMMARY {summary_file}: {exc.strerror or exc}")
    return written


def _shown(reports, options):
    if options.reveal:
        return reports
    from examcheck.render.redact import redacted

    return redacted(reports)


def _below(reports, fail_under) -> bool:
    """Whether anyone scored under --fail-under; each of them named on stderr."""
    if fail_under is None:
        return False
    from examcheck.classrun import below

    found = below(reports, fail_under)
    for who in found[:50]:
        _warn(f"{who.student} ({who.exam}, {who.source}): {who.percent:.1f}% is under --fail-under {fail_under:g}%")
    if len(found) > 50:
        _warn(f"... and {len(found) - 50} more under --fail-under {fail_under:g}%")
    return bool(found)


@main.command()
@_batch_options
@click.option("--format", "fmt", type=click.Choice(render_names("stats")), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(), help="Write to this regular file (atomically; a symlink is followed).")
@_roster_options
def stats(inputs, problem_paths, jobs, cache_dir, time_limit, color, backend, scheduler, fmt, output, roster_path,
          roster_columns, strict) -> None:
    """Class statistics: per-part means and commonest mistakes, discrimination, a histogram."""
    from examcheck.render import RenderOptions, render

    _check_output(output, inputs=inputs, problem_paths=problem_paths)
    roster = _roster(roster_path, roster_columns)
    with _graded(inputs, problem_paths, jobs, cache_dir, time_limit, backend, scheduler) as (result, errors, _done):
        _reports, identities = _identified(result.reports, roster)
        options = RenderOptions(color=color, to_file=output is not None)
        written = _emit(render("stats", fmt, result.statistics(), options), output)
    _finish(errors, result.bugs, written)
    if strict and identities.problems:
        sys.exit(EXIT_FINDINGS)


@main.command()
@click.argument("problem_id")
@problems_option
@click.option("--format", "fmt", type=click.Choice(render_names("solution")), default="text", show_default=True)
def solve(problem_id, problem_paths, fmt) -> None:
    """Print the worked reference solution of a problem (q3, or EXAM/q3)."""
    from examcheck.engine import Engine
    from examcheck.render import render

    sets = _load_sets(problem_paths)
    from examcheck.solving import find_problem

    try:
        problem_set, problem = find_problem(sets, problem_id)
    except LookupError as exc:
        _fail_input([exc.args[0]])
    _computable(sets, [(problem_set, problem)])
    with Engine(sets, jobs=1) as engine:
        try:
            solution = engine.solve(problem_id)
        except LookupError as exc:
            _fail_input([exc.args[0]])
        _emit(render("solution", fmt, solution), None)
        _exit_for_bugs(engine.bugs)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--key", "key_files", multiple=True, type=click.Path(path_type=Path),
              help="A key file shaped like an answer file; every answer in it must be correct.")
@problems_option
@click.option("--format", "fmt", type=click.Choice(render_names("findings")), default="text", show_default=True,
              help="github: workflow annotations on the exact line of the problem file.")
def check(paths, key_files, problem_paths, fmt) -> None:
    """Validate problem sets, recompute every part, and verify stated keys."""
    from examcheck.answers import load_sheet
    from examcheck.engine import Engine
    from examcheck.render import RenderOptions, render
    from examcheck.schema import ValidationFailed
    from examcheck.yamlio import InputError

    sets = _load_sets(tuple(paths) + tuple(problem_paths))
    _computable(sets)
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
        _emit(render("findings", fmt, findings, RenderOptions(sets=sets)), None)
        _exit_for_bugs(engine.bugs)
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
    """Print the JSON Schema of problem sets, with each family's given fields, layer types and results
    (for editor autocompletion and checking)."""
    from examcheck.publish import problem_set_schema
    from examcheck.render.listings import schema_json
    from examcheck.schema import ANSWER_FILE_SCHEMA

    click.echo(schema_json(ANSWER_FILE_SCHEMA if which == "answers" else problem_set_schema()))


@main.command()
@click.argument("names", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True,
              help="markdown: the README's family table.")
def families(names, fmt) -> None:
    """List every family (or the named ones): given fields, layer types, results, conventions, an example."""
    from examcheck.families import FamilyError, all_families, get
    from examcheck.render.families import FORMATS

    try:
        chosen = [get(n) for n in names] if names else list(all_families().values())
    except FamilyError as exc:
        _fail_input([exc])
    click.echo(FORMATS[fmt]([f.describe() for f in chosen]), nl=False)


@main.command()
@click.argument("exam")
@problems_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 for a lab).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--reveal", type=click.Choice(["none", "feedback", "answers"]), default="feedback", show_default=True,
              help="none: only whether answers were read; feedback: right/wrong and feedback; answers: also the keys.")
@click.option("--student", help="Fix the student ID (else the page asks for it).")
@click.option("--collect", "collect_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Also store each student's saved answer file in this folder.")
@click.option("--time-limit", type=click.FloatRange(0.1, 60), default=2.0, show_default=True,
              help="Seconds allowed for each answer check.")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Checks run at once (default: up to 4).")
def serve(exam, problem_paths, host, port, reveal, student, collect_dir, time_limit, workers) -> None:
    """Serve a page where students type answers, see them as read, check and save them."""
    from examcheck.web import WebExtraMissing
    from examcheck.web.service import BadRequest, check_student

    if Path(exam).suffix in (".yaml", ".yml") and Path(exam).is_file():
        problem_paths, exam = (*problem_paths, Path(exam)), None
    sets = _load_sets(problem_paths)
    matches = [s for s in sets if exam is None or s.exam == exam]
    if not matches or (exam is None and len(matches) != 1):
        _fail_input([f"no exam {exam!r} (loaded: {', '.join(s.exam for s in sets)})"])
    try:
        if student is not None:
            check_student(student)
        if collect_dir is not None:
            collect_dir.mkdir(parents=True, exist_ok=True)
        from examcheck.web.serve import build_app, run

        app = build_app(matches[0], reveal, student, collect_dir, time_limit, workers)
    except (BadRequest, OSError) as exc:
        _fail_input([exc])
    except WebExtraMissing as exc:
        _fail_input([exc])
    click.echo(f"examcheck: serving {matches[0].exam} on http://{host}:{port}/ (Ctrl+C stops)", err=True)
    run(app, host, port)


if __name__ == "__main__":  # pragma: no cover
    main()
