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


@main.command()
@_batch_options
@click.option("--format", "fmt", type=click.Choice(render_names("reports")), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(), help="Write to this regular file (atomically; a symlink is followed).")
@click.option("--no-reveal", is_flag=True, help="Hide expected answers (for self-checks); feedback stays.")
@click.option("--fail-under", type=FiniteFloatRange(0, 100), help="Exit 1 if any score is below this percent.")
@click.option("--summary", is_flag=True, help="Add class statistics (table format).")
@click.option("--points-row", is_flag=True, help="csv: add a Points Possible row.")
@click.option("--assignment", default="examcheck", show_default=True, help="canvas: the assignment column's name.")
@click.option("--resume", is_flag=True, help="Continue an interrupted run: files it finished are not graded again (needs -o).")
def grade(inputs, problem_paths, jobs, cache_dir, time_limit, color, backend, scheduler, fmt, output, no_reveal,
          fail_under, summary, points_row, assignment, resume) -> None:
    """Grade answer files (files, folders or globs) part by part."""
    from examcheck.render import RenderOptions, render

    _check_output(output, resume, inputs, problem_paths)
    with _graded(inputs, problem_paths, jobs, cache_dir, time_limit, backend, scheduler, output, resume,
                 renderer=("reports", fmt)) as (result, errors, done):
        options = RenderOptions(reveal=not no_reveal, color=color, to_file=output is not None, summary=summary,
                                points_row=points_row, assignment=assignment, errors=tuple(map(str, errors)),
                                stats=result.statistics)
        written = _emit(render("reports", fmt, result.reports, options), output)
        if written:
            done()
        below = fail_under is not None and result.any_below(fail_under)
    _finish(errors, result.bugs, written)
    if below:
        sys.exit(EXIT_FINDINGS)


@main.command()
@_batch_options
@click.option("--format", "fmt", type=click.Choice(render_names("stats")), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(), help="Write to this regular file (atomically; a symlink is followed).")
def stats(inputs, problem_paths, jobs, cache_dir, time_limit, color, backend, scheduler, fmt, output) -> None:
    """Class statistics: per-part means and commonest mistakes, discrimination, a histogram."""
    from examcheck.render import RenderOptions, render

    _check_output(output, inputs=inputs, problem_paths=problem_paths)
    with _graded(inputs, problem_paths, jobs, cache_dir, time_limit, backend, scheduler) as (result, errors, _done):
        options = RenderOptions(color=color, to_file=output is not None)
        written = _emit(render("stats", fmt, result.statistics(), options), output)
    _finish(errors, result.bugs, written)


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

    if paths:  # files named one by one (the pre-commit hook): YAML that is not a problem set is skipped
        from examcheck.problem_files import only_problem_sets

        paths, notes = only_problem_sets(paths)
        for note in notes:
            click.echo(f"note: {note}", err=True)
        if notes and not paths and not problem_paths:
            click.echo("no problem sets among the files given; nothing to check")
            return
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


@main.command(epilog="""\b
Example:
  examcheck template seed000-quiz > answers.yaml
\b
Exit codes: 0 printed; 2 unknown exam or invalid problem set.""")
@click.argument("exam")
@problems_option
@click.option("--schema-url", metavar="URL",
              help="The answer-file schema named in the editor modeline (default: the file shipped with examcheck).")
def template(exam, problem_paths, schema_url) -> None:
    """Print a blank answer file for EXAM: statements, prompts, allowed names and quoting advice."""
    from examcheck.answer_template import template_text

    sets = _load_sets(problem_paths)
    matches = [s for s in sets if s.exam == exam]
    if not matches:
        _fail_input([f"no exam {exam!r} (loaded: {', '.join(s.exam for s in sets)})"])
    click.echo(template_text(matches[0], schema_url), nl=False)


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


@main.command(epilog="""\b
Example:
  examcheck schema > problem-set.schema.json
  examcheck schema --answers > answer-file.schema.json
\b
Both are JSON Schema draft-07 (what the YAML language server supports); the answer-file
schema also ships with examcheck in examcheck/schemas/.  Exit codes: 0.""")
@click.option("--answers", "which", flag_value="answers", help="The schema of answer files instead.")
def schema(which) -> None:
    """Print the JSON Schema of problem sets, with each family's given fields, layer types and results
    (for editor autocompletion and checking)."""
    from examcheck.schema_files import published_text

    click.echo(published_text(which or "problems"), nl=False)


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


@main.group(name="gradescope")
def gradescope_group() -> None:
    """Gradescope autograder: build the zip to upload; run is what the zip runs per submission."""


@gradescope_group.command(name="build", epilog="""\b
Example:
  examcheck gradescope build seed000-quiz -o autograder.zip --visibility after_published
\b
Exit codes: 0 written; 2 usage or input errors (unknown exam, invalid problem set, unwritable -o).""")
@click.argument("exam")
@problems_option
@click.option("-o", "--output", required=True, type=click.Path(), help="The zip to upload to Gradescope.")
@click.option("--visibility", type=click.Choice(["after_due_date", "after_published", "visible", "hidden"]),
              default="after_published", show_default=True, help="When students see their results.")
@click.option("--output-format", type=click.Choice(["text", "md"]), default="text", show_default=True,
              help="How Gradescope shows the feedback (student text is escaped for it).")
@click.option("--reveal", is_flag=True, help="Show the expected answers in the results (default: hidden).")
@click.option("--time-limit", type=FiniteFloatRange(0.1, 60), default=2.0, show_default=True,
              help="Seconds allowed for each answer check.")
def gradescope_build(exam, problem_paths, output, visibility, output_format, reveal, time_limit) -> None:
    """Write the autograder zip for EXAM (an exam id, or a problem file)."""
    from examcheck.gradescope import AutograderError, build_autograder
    from examcheck.yamlio import InputError

    if Path(exam).suffix in (".yaml", ".yml") and Path(exam).is_file():
        problem_paths, exam = (*problem_paths, Path(exam)), None
    sets = _load_sets(problem_paths)
    matches = [s for s in sets if exam is None or s.exam == exam]
    if len(matches) != 1:
        _fail_input([f"no exam {exam!r} (loaded: {', '.join(s.exam for s in sets)})" if exam else
                     "the problem file holds no single exam"])
    _computable(sets, [(matches[0], p) for p in matches[0].problems])
    try:
        names = build_autograder(matches[0].source, matches[0].exam, output, visibility=visibility,
                                 output_format=output_format, reveal=reveal, time_limit=time_limit)
    except (AutograderError, InputError) as exc:
        _fail_input([exc])
    click.echo(f"{output}: {', '.join(names)}")


@gradescope_group.command(name="run", epilog="""\b
Example (what run_autograder does):
  examcheck gradescope run --root /autograder
\b
Exit codes: 0 results.json written (also for a submission that cannot be graded); 70 internal error.""")
@click.option("--root", type=click.Path(path_type=Path, file_okay=False),
              help="The autograder folder (default: $EXAMCHECK_AUTOGRADER_ROOT, else /autograder).")
def gradescope_run(root) -> None:
    """Grade the submission in ROOT/submission and write ROOT/results/results.json."""
    from examcheck.gradescope import ROOT_ENV, run_submission

    results = run_submission(root or Path(os.environ.get(ROOT_ENV) or "/autograder"))
    click.echo(f"score {results['score']}; {len(results['tests'])} test(s)")


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


@main.command(name="import")
@click.argument("export", type=click.Path(path_type=Path))
@click.option("--map", "mapping", required=True, type=click.Path(path_type=Path),
              help="YAML: `exam:` and `questions:` from LMS question ids (Canvas) or slots (Moodle) to problem.part.")
@click.option("--from", "fmt", type=click.Choice(["canvas", "moodle"]), help="The export's format (default: detected).")
@click.option("-o", "--output", "folder", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Folder for the answer files (one per student).")
@click.option("--exam", help="The exam id (default: the mapping file's `exam:`).")
@click.option("--id-column", help="The CSV column that identifies students (default: sis_id/id; Moodle: ID number, "
                                  "Username or Email address).")
@problems_option
def import_command(export, mapping, fmt, folder, exam, id_column, problem_paths) -> None:
    """Turn an LMS quiz export (Canvas Student Analysis, Moodle Responses) into answer files."""
    from examcheck import lms_import

    try:
        imported, written = lms_import.run(export, mapping, folder, fmt, exam, id_column, problem_paths)
    except lms_import.ImportFailed as exc:
        _fail_input(exc.errors)
    except OSError as exc:
        _fail_input([f"{folder}: {exc.strerror or exc}"])
    for note in imported.notes:
        _warn(note)
    click.echo(f"{len(written)} answer file(s) for {imported.exam} written to {folder} ({imported.format} export)")
    for error in imported.errors:
        _say_error(error)
    if imported.errors:
        sys.exit(EXIT_INPUT)


def _finish_help() -> None:
    from examcheck.cli_help import COMPLETION, add_epilogs

    add_epilogs(main)
    main.epilog = (main.epilog or "") + COMPLETION


_finish_help()


if __name__ == "__main__":  # pragma: no cover
    main()
