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
EXIT_CLOSED_PIPE = 141  # 128 + SIGPIPE: what the shell reports for any tool whose reader stopped early (| head)


class FiniteFloatRange(click.FloatRange):
    """A float range that also refuses nan (which every comparison lets through)."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if number != number:
            self.fail(f"{value!r} is not a number (expected a finite number from {self.min:g} to {self.max:g})", param, ctx)
        return number


class NamedPath(click.Path):
    """A path that must be spelled: click.Path turns an empty argument into the current folder (Path("") is
    "."), so `--cache ""` would keep a cache in it and `cache clear ""` would clear it."""

    def convert(self, value, param, ctx):
        if isinstance(value, str) and not value:
            self.fail("an empty path (expected a file or folder name)", param, ctx)
        return super().convert(value, param, ctx)


problems_option = click.option(
    "--problems", "problem_paths", multiple=True, type=NamedPath(path_type=Path),
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


def _load_sets(paths, session=None, answers=None, validated=None):
    """The problem sets (exit 2 on errors); the families' load-time checks run in the session's workers.
    answers: the answer files to grade (only the sets they name are loaded: preflight.load_answered_sets);
    validated: the record of problem files found valid before (see loader.load_sets)."""
    from examcheck.loader import load_sets
    from examcheck.preflight import load_answered_sets
    from examcheck.schema import ValidationFailed
    from examcheck.yamlio import InputError

    runner = session.bounded if session is not None else None
    try:
        if answers is not None:
            sets = load_answered_sets(answers, list(paths) or None, runner, validated)
        else:
            sets = load_sets(list(paths) or None, runner, validated=validated)
    except ValidationFailed as exc:
        _fail_input(exc.errors)
    except InputError as exc:
        _fail_input([exc])
    if not sets:
        _fail_input(["no problem sets found (use --problems PATH)"])
    return sets


@contextlib.contextmanager
def _session(jobs: int | None, limits=None, started=None):
    """The run's sandbox session: opened first, so that loading, references and grading share its workers
    (the Engine given it owns it; it is closed here too if the run stops before).  started: a session
    _early_session opened, now with at most `jobs` workers."""
    from examcheck.limits import Limits
    from examcheck.workers import open_session

    if started is not None:
        session = started
        session.shrink(jobs or 1)
    else:
        session = open_session(jobs or os.cpu_count() or 1, limits or Limits())
    try:
        yield session
    finally:
        session.close()


def _early_session(jobs: int | None, time_limit: float):
    """A grading run's session with one worker started at once, before this process imports SymPy: it
    imports what checking needs meanwhile (see examcheck.workers), which is most of grading one file."""
    from examcheck.limits import Limits
    from examcheck.workers import open_session

    session = open_session(jobs or os.cpu_count() or 1, Limits(seconds=time_limit))
    click.get_current_context().call_on_close(session.close)  # if the run stops before grading
    session.start(1)
    return session


def _computable(engine, sets=None, problems=None) -> None:
    """Exit 2 naming each part whose reference cannot be computed (the engine keeps the references), and,
    for a deployed variant exam, each key of its lock file that differs from the key its params give."""
    from examcheck.variants import lock_key_errors

    errors = engine.reference_errors(sets=sets, problems=problems)
    if not errors:
        chosen = problems if problems is not None else [(s, p) for s in (engine.sets if sets is None else sets)
                                                        for p in s.problems]
        errors = lock_key_errors(list(chosen), engine.expected)
    if errors:
        _fail_input(errors)


def _references_or_exit(sets, problems=None) -> None:
    """_computable for a command that needs no grading: a short session of its own."""
    from examcheck.engine import Engine

    with _session(1) as session, Engine(sets, jobs=1, session=session) as engine:
        _computable(engine, problems=problems)


student_option = click.option("--student", help="A variant exam: show this student's version (their own numbers).")
attempt_option = click.option("--attempt", type=click.IntRange(1, 1000), default=1, show_default=True,
                              help="A variant exam: the attempt (another attempt gets another variant).")


def _student_view(problem_set, student, attempt):
    """The set as this student sees it (a variant exam: one variant per problem); exit 2 if not deployed."""
    from examcheck.paper import id_problem
    from examcheck.variants import student_view
    from examcheck.yamlio import InputError

    if student is not None and id_problem(student):
        _fail_input([f"--student: {id_problem(student)}"])
    try:
        return student_view(problem_set, student, attempt)
    except InputError as exc:
        _fail_input([exc])



class _Finished(SystemExit):
    """A command's end once everything is written and closed (its exit code): run as a program (the console
    script, python -m examcheck), examcheck then exits without the interpreter's teardown, which frees every
    SymPy object one by one (about 0.1 s: a fifth of grading one file).  Under CliRunner, a plain SystemExit."""


def _exit_now(code) -> None:
    """Exit with code after the atexit handlers (and weakref finalizers) and a flush, skipping the teardown."""
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError) as exc:
            if _closed_pipe(exc):
                os._exit(EXIT_CLOSED_PIPE)
    os._exit(code if isinstance(code, int) else 0 if code is None else 1)


def _open_closed_streams() -> None:
    """Started with stdout or stderr closed (`>&-`, `2>&-`), Python has None there: what would go to it goes
    nowhere (the run, its -o output and its exit code are as ever), never a traceback or an internal error."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - for the process's life


class _Main(click.Group):
    """Any exception that escapes a command is a bug: said so, its traceback kept in a file, exit 70."""

    def __call__(self, *args, **kwargs):
        _open_closed_streams()
        try:
            return self.main(*args, **kwargs)
        except _Finished as done:
            _exit_now(done.code)

    def make_context(self, *args, **kwargs):
        try:  # --help and --version write while the arguments are read
            return super().make_context(*args, **kwargs)
        except OSError as exc:
            if _closed_pipe(exc):
                _leave_quietly()
            raise

    def invoke(self, ctx):
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # a reader that stopped early is seen here, not as noise at interpreter exit
            return result
        except KeyboardInterrupt:  # Ctrl-C at any moment: exit 130, never click's "Aborted!" with exit 1
            hint = " (run again with --resume to continue)" if "--resume" in sys.argv[1:] else ""
            click.echo(f"interrupted; no output was written{hint}", err=True)
            sys.exit(130)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit,
                GeneratorExit):
            raise
        except Exception as exc:  # noqa: BLE001 - reported as the bug it is
            if _closed_pipe(exc):
                _leave_quietly()
            import traceback

            from examcheck.bugs import EXIT_INTERNAL, from_traceback

            bug = from_traceback("examcheck " + " ".join(sys.argv[1:])[:200], traceback.format_exc())
            click.echo(f"error: {bug}", err=True)
            ctx.exit(EXIT_INTERNAL)


def _closed_pipe(exc: BaseException) -> bool:
    """The reader of stdout/stderr went away (`examcheck grade ... | head -1`): normal shell usage, not a bug."""
    import errno

    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, BrokenPipeError) or (isinstance(exc, OSError) and exc.errno == errno.EPIPE):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _leave_quietly() -> None:
    """Exit 141 (as a process stopped by SIGPIPE), silently: output still buffered goes to /dev/null."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, stream.fileno())
            os.close(null)
    sys.exit(EXIT_CLOSED_PIPE)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="examcheck")
def main() -> None:
    """Check and grade mathematical exam answers (deep learning and ML).

    \b
    Exit codes: 0 success; 1 findings (check), or a score under --fail-under;
    2 usage or input errors (file:line: what was expected); 70 internal error:
    a bug in examcheck, never a fault of the input, with its traceback file named;
    141 the reader of the output stopped early (`| head`), silently.
    """


def _batch_options(fn):
    options = [
        click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None,
                     help="Parallel worker processes (default: the number of cores)."),
        click.option("--cache", "cache_dir", type=NamedPath(path_type=Path),
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
            renderer=None, identity=None, session=None):
    """Grade the answer files named by inputs: yields (result, input errors, done), where done() is
    called once the output is written (a --resume state is then removed).  The engine (and with it
    the cache) closes after the output is written."""
    from examcheck.inputs import spool_inputs
    from examcheck.limits import Limits
    from examcheck.refcache import ReferenceCache

    paths, errors = spool_inputs(list(inputs))  # on disk: no per-file table in this process, nor in its workers
    if scheduler and backend != "dask":
        _fail_input(["--scheduler needs --backend dask"])
    window = os.environ.get("EXAMCHECK_WINDOW", "")  # files graded and committed together (default: 32 per job)
    window = int(window) if window.isdigit() else 0
    limits = Limits(seconds=time_limit)
    workers = min(jobs or os.cpu_count() or 1, max(1, len(paths)))  # one file: one worker does it all
    from examcheck.sandbox import importing_without_collection

    with _session(workers, limits, started=session) as session:
        with importing_without_collection():  # importing SymPy makes objects that are never garbage
            from examcheck.dask_backend import DaskUnavailable
            from examcheck.engine import Engine
            from examcheck.stream import ReportStore, ResumeError, remove_stale_state

        references = ReferenceCache.default(limits)
        # only the sets the answer files name; all with --resume (its state is tied to the whole problem folder)
        sets = _load_sets(problem_paths, session, answers=None if resume else paths, validated=references)
        try:
            engine = Engine(sets, jobs=workers, limits=limits, cache_dir=cache_dir, warn=_warn, window=window,
                            backend=backend, scheduler=scheduler, session=session, identity=identity,
                            references=references)
        except DaskUnavailable as exc:
            _fail_input([exc])
        except OSError as exc:  # the scheduler cannot be reached
            _fail_input([f"--scheduler {scheduler}: {exc}"])
        with engine:
            if renderer is not None:  # imported while the workers prepare themselves
                from examcheck.render import renderer as load_renderer

                load_renderer(*renderer)
            try:  # the resume state first (locked: one run at a time), so progress is durable from the start
                store = ReportStore.for_output(output, engine.run_fingerprint(), _warn) if resume else ReportStore()
            except ResumeError as exc:
                _fail_input([exc])
            if store.changed:
                _warn(f"{store.path}: left by a run with other problems, limits or version; grading every file again")
            finished = []
            try:
                # A part whose reference cannot be computed is an input error (exit 2), before any grading:
                # for one file only its exam's parts, for a batch every part.  Computed once, kept for grading.
                _computable(engine, sets=engine.answered_sets(paths) if len(paths) <= 1 else sets)
                if _progress_wanted(len(paths)):
                    from rich.progress import Progress

                    from examcheck.render.reports import PipeConsole

                    with Progress(console=PipeConsole(stderr=True), transient=True) as bar:
                        task = bar.add_task("grading", total=len(paths))
                        result = engine.grade_paths(paths, progress=lambda n: bar.advance(task, n), store=store)
                else:
                    result = engine.grade_paths(paths, store=store)
                if store.resumed:
                    _warn(f"resumed: {store.resumed} file(s) were graded by an interrupted run and not graded again")
                if store.dropped:
                    _warn(f"{store.dropped} report(s) of the interrupted run were dropped: their files were changed, "
                          "renamed or removed since (the files as they are now were graded)")
                yield result, errors + result.errors, lambda: finished.append(True)
            except KeyboardInterrupt:
                hint = " (run again with --resume to continue)" if resume else ""
                click.echo(f"interrupted; no output was written{hint}", err=True)
                sys.exit(130)
            finally:
                store.close(finished=bool(finished))
                if finished and output is not None and output != "-":
                    remove_stale_state(output)  # an interrupted run's, left beside the output this run completed


def _finish(errors, bugs, written: bool) -> None:
    """Input errors (exit 2) and internal errors (exit 70), after the output."""
    for error in errors:
        _say_error(error, " (skipped)")
    _exit_for_bugs(bugs)
    if errors or not written:
        sys.exit(EXIT_INPUT)


ECHO_PIECE = 2048  # characters: at most 8 KB encoded, the size of stdout's buffer


def _echo(text: str, nl: bool = True, color: bool | None = None) -> None:
    """click.echo a piece at a time: CPython reports a write larger than stdout's buffer as done when its reader
    went away part-way (the rest is dropped, no BrokenPipeError), so a closed pipe would exit 0, not 141."""
    for start in range(0, len(text), ECHO_PIECE):
        click.echo(text[start:start + ECHO_PIECE], nl=False, color=color)
    if nl:
        click.echo(color=color)


def _emit(chunks, output: str | None) -> bool:
    """Print the chunks, or write them to the output file; False (after saying why) if it cannot be written."""
    from examcheck.outputs import OutputError, write_output

    if output is None or output == "-":
        last = ""
        for chunk in chunks:
            if chunk:
                _echo(chunk, nl=False, color=True)  # the renderer decided on colour already
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
        click.option("--roster", "roster_path", type=NamedPath(path_type=Path, dir_okay=False),
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


def _identified(reports, roster, known_only=False, one_row=False):
    """The reports under the roster's ids; each unknown, duplicate and missing student said on stderr."""
    from examcheck.classrun import identified

    reports, identities = identified(reports, roster, known_only, one_row)
    for message in identities.messages():
        _warn(message)
    return reports, identities


def _assignment_ids(pairs) -> dict:
    out = {}
    for pair in pairs:
        exam, sep, ident = pair.partition("=")
        if not sep or not exam.strip() or not ident.strip():
            _fail_input([f"--assignment-id {pair!r}: expected EXAM=ID (e.g. quiz3=12345)"])
        if not ident.strip().isdigit():
            _fail_input([f"--assignment-id {pair!r}: a Canvas assignment id is a number (e.g. quiz3=12345)"])
        out[exam.strip()] = ident.strip()
    return out


def _class_output_errors(fmt, reports, assignment, ids, known_exams) -> list[str]:
    """Options that cannot apply to this batch: each an input error (exit 2), said before anything is written."""
    errors = [f"--assignment-id: no exam {exam!r} in the problem sets (exams: {', '.join(sorted(known_exams))})"
              for exam in ids if exam not in known_exams]
    exams = list(dict.fromkeys(r.exam for r in reports))
    if assignment and len(exams) > 1:
        errors.append(f"--assignment names the column of one exam, and these files are of {len(exams)} "
                      f"({', '.join(exams)}): use --assignment-id EXAM=ID (canvas) or --by-exam DIR")
    if fmt == "gradescope" and len(reports) > 1:
        errors.append(f"--format gradescope writes one results.json, for ONE submission; these are {len(reports)} "
                      "answer files: grade them one at a time (or use --format json/jsonl for many)")
    return errors


@main.command()
@_batch_options
@click.option("--format", "fmt", type=click.Choice(render_names("reports")), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(), help="Write to this regular file (atomically; a symlink is followed).")
@click.option("--no-reveal", is_flag=True, help="Hide expected answers (for self-checks); feedback stays.")
@click.option("--fail-under", type=FiniteFloatRange(0, 100), help="Exit 1 if any score is below this percent (naming who).")
@click.option("--summary", is_flag=True, help="Add class statistics (table format).")
@click.option("--points-row", is_flag=True, help="csv: add a Points Possible row.")
@click.option("--assignment", help="canvas/moodle/brightspace, one exam: the grade item's name (default: the exam's title).")
@click.option("--assignment-id", "assignment_ids", multiple=True, metavar="EXAM=ID",
              help='canvas: the LMS assignment id of an exam (column "Exam title (ID)"); repeatable.')
@_roster_options
@click.option("--by-exam", "exam_dir", type=NamedPath(path_type=Path, file_okay=False),
              help="Write one file per exam into this folder instead of one output.")
@click.option("--split", "split_dir", type=NamedPath(path_type=Path, file_okay=False),
              help="Also write each student's feedback report (Markdown and HTML) into this folder.")
@click.option("--resume", is_flag=True, help="Continue an interrupted run: files it finished are not graded again (needs -o).")
@attempt_option
def grade(inputs, problem_paths, jobs, cache_dir, time_limit, color, backend, scheduler, fmt, output, no_reveal,
          fail_under, summary, points_row, assignment, assignment_ids, roster_path, roster_columns, strict, exam_dir,
          split_dir, resume, attempt) -> None:
    """Grade answer files (files, folders or globs) part by part."""
    from examcheck.render import RenderOptions

    session = _early_session(jobs, time_limit)
    _check_output(output, resume, inputs, problem_paths)
    if exam_dir is not None and output is not None:
        _fail_input(["--by-exam writes one file per exam into its folder: give it or -o, not both"])
    ids = _assignment_ids(assignment_ids)
    roster = _roster(roster_path, roster_columns)
    titles = {s.exam: s.title for s in _load_sets(problem_paths)} if fmt in ("canvas", "moodle", "brightspace") or ids else None
    if ids and _class_output_errors(fmt, [], None, ids, set(titles or ())):  # a typo'd exam: said before grading
        _fail_input(_class_output_errors(fmt, [], None, ids, set(titles or ())))
    from examcheck.identity import IdentityOptions

    with _graded(inputs, problem_paths, jobs, cache_dir, time_limit, backend, scheduler, output, resume,
                 renderer=("reports", fmt), identity=IdentityOptions(roster, attempt), session=session) as (result, errors, done):
        from examcheck.report_warnings import WatchedReports

        watched = WatchedReports(result.reports)  # their warnings, noted on a pass made anyway
        reports, identities = _identified(watched, roster, known_only=fmt in ("canvas", "moodle", "brightspace"),
                                          one_row=fmt in ("csv", "canvas", "moodle", "brightspace"))
        wrong = _class_output_errors(fmt, reports, assignment, ids, set(titles or ()))
        if wrong:
            _fail_input(wrong)
        options = RenderOptions(reveal=not no_reveal, color=color, to_file=output is not None or exam_dir is not None,
                                summary=summary, points_row=points_row, assignment=assignment or "examcheck",
                                errors=tuple(map(str, errors)), stats=result.statistics,
                                students=roster.by_id if roster is not None else None, exam_titles=titles, assignments=ids)
        written = _write_class(reports, fmt, options, output, exam_dir, split_dir)
        if written:
            done()
        if not (fmt == "table" and output is None and exam_dir is None and len(watched) == 1):  # that one shows them
            for line in watched.lines():
                _warn(line)
        below = _below(reports, fail_under)
    _finish(errors, result.bugs, written)
    raise _Finished(EXIT_FINDINGS if below or (strict and identities.problems) else 0)


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
            every = getattr(reports, "with_contested", None)  # each file's own feedback, credited in the gradebook or not
            write_split(split_dir, every() if every else reports, options.reveal)
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
    from examcheck.classrun import below, unjudged

    for who in unjudged(reports)[:50]:
        _warn(f"{who.student} ({who.exam}, {who.source}): no autograded marks, not judged by --fail-under")
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
    from examcheck.identity import IdentityOptions

    with _graded(inputs, problem_paths, jobs, cache_dir, time_limit, backend, scheduler,
                 identity=IdentityOptions(roster)) as (result, errors, _done):
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
@student_option
@attempt_option
def solve(problem_id, problem_paths, fmt, student, attempt) -> None:
    """Print the worked reference solution of a problem (q3, or EXAM/q3)."""
    from examcheck.engine import Engine
    from examcheck.render import render
    from examcheck.solving import find_problem

    with _session(1) as session:
        sets = [_student_view(s, student, attempt) for s in _load_sets(problem_paths, session)]
        try:
            problem_set, problem = find_problem(sets, problem_id)
        except LookupError as exc:
            _fail_input([exc.args[0]])
        if problem.variant is not None and student is None:
            _warn(f"{problem_set.exam}/{problem.id} has a variant per student; this is variant {problem.variant} "
                  "(use --student ID for a student's, or `examcheck variants show`)")
        with Engine(sets, jobs=1, session=session) as engine:
            _computable(engine, problems=[(problem_set, problem)])
            try:
                solution = engine.solve(problem_id)
            except LookupError as exc:
                _fail_input([exc.args[0]])
            _emit(render("solution", fmt, solution), None)
            _exit_for_bugs(engine.bugs)


@main.command()
@click.argument("paths", nargs=-1, type=NamedPath(path_type=Path))
@click.option("--key", "key_files", multiple=True, type=NamedPath(path_type=Path),
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
    with _session(None) as session:
        sets = _load_sets(tuple(paths) + tuple(problem_paths), session)
        try:
            keys = [load_sheet(key) for key in key_files]
        except ValidationFailed as exc:
            _fail_input(exc.errors)
        except InputError as exc:
            _fail_input([exc])
        with Engine(sets, session=session) as engine:
            if any(s.variants is not None for s in sets):  # a deployed variant exam: its lock's keys recomputed
                _computable(engine)
            try:
                from examcheck.variants import deployment_findings

                findings = engine.check_sets(keys) + deployment_findings(sets)  # references computed once per problem
            except ValidationFailed as exc:  # a part whose reference cannot be computed
                _fail_input(exc.errors)
            except InputError as exc:
                _fail_input([exc])
            _emit(render("findings", fmt, findings, RenderOptions(sets=sets)), None)
            _exit_for_bugs(engine.bugs)
    if any(f.level != "warning" for f in findings):
        sys.exit(EXIT_FINDINGS)


@main.command(name="list")
@problems_option
def list_sets(problem_paths) -> None:
    """List the loaded problem sets, their problems and marks."""
    from examcheck.render.listings import listing_text
    from examcheck.variants import selected

    _echo(listing_text([selected(s) for s in _load_sets(problem_paths)]))  # a variant exam: each problem once


@main.command(epilog="""\b
Example:
  examcheck template seed000-quiz > answers.yaml
\b
Exit codes: 0 printed; 2 unknown exam or invalid problem set.""")
@click.argument("exam")
@problems_option
@click.option("--schema-url", metavar="URL",
              help="The answer-file schema named in the editor modeline (default: the file shipped with examcheck, a "
                   "file:// path valid on this machine only: give an https URL or a relative path for students).")
@student_option
@attempt_option
def template(exam, problem_paths, schema_url, student, attempt) -> None:
    """Print a blank answer file for EXAM: statements, prompts, allowed names and quoting advice."""
    from examcheck.answer_template import template_text
    from examcheck.render.variants import variant_template

    sets = _load_sets(problem_paths)
    matches = [s for s in sets if s.exam == exam]
    if not matches:
        _fail_input([f"no exam {exam!r} (loaded: {', '.join(s.exam for s in sets)})"])
    view = _student_view(matches[0], student, attempt)
    text = variant_template(view, student, attempt) if view.variants is not None else template_text(view, schema_url)
    _echo(text, nl=False)


@main.group(name="variants")
def variants_group() -> None:
    """Exams whose problems declare params: deploy variants ahead of time, list them, show one."""


@variants_group.command(name="deploy")
@click.argument("exam_file", type=NamedPath(path_type=Path))
@click.option("--count", type=click.IntRange(1, 1000), help="Variants per problem, from consecutive seeds.")
@click.option("--seeds", help="Exactly these seeds, e.g. 1,2,3 (a seed that gives no good variant fails the deploy).")
@click.option("--first-seed", type=click.IntRange(0, 2**62), default=1, show_default=True, help="--count: the first seed.")
@click.option("--salt", help="Mixed into each student's assignment (default: the exam id); keep it to keep assignments.")
@click.option("--time-limit", type=FiniteFloatRange(1, 86400), default=900, show_default=True,
              help="Seconds for the whole deploy (each computation has its own sandbox limits too).")
@click.option("--force", is_flag=True, help="Replace an existing lock even if students' assignments change.")
def variants_deploy(exam_file, count, seeds, first_seed, salt, time_limit, force) -> None:
    """Draw, vet and lock the variants of EXAM_FILE (writes EXAM.variants.yaml beside it)."""
    from examcheck.render.variants import deploy_text
    from examcheck.schema import ValidationFailed
    from examcheck.variants import DeployError, deploy_and_write, parse_seeds
    from examcheck.yamlio import InputError

    if (count is None) == (seeds is None):
        _fail_input(["say --count N or --seeds 1,2,3 (one of them)"])
    try:
        chosen = parse_seeds(seeds) if seeds is not None else None
        result = deploy_and_write(exam_file, chosen, count, salt, first_seed, time_limit, force)
    except ValidationFailed as exc:
        _fail_input(exc.errors)
    except (InputError, DeployError) as exc:
        _fail_input([exc])
    _echo(deploy_text(result), nl=False)
    if not result.ok:
        sys.exit(EXIT_FINDINGS)


def _one_exam(exam, problem_paths):
    """EXAM as a problem file's path, or an exam id among --problems."""
    if Path(exam).suffix in (".yaml", ".yml") and Path(exam).is_file():
        problem_paths, exam = (*problem_paths, Path(exam)), None
    sets = _load_sets(problem_paths)
    matches = [s for s in sets if exam is None or s.exam == exam]
    if not matches or (exam is None and len(matches) != 1):
        _fail_input([f"no exam {exam!r} (loaded: {', '.join(s.exam for s in sets)})"])
    return matches[0]


@variants_group.command(name="list")
@click.argument("exam")
@problems_option
def variants_list(exam, problem_paths) -> None:
    """Each problem's deployed variants: number, seed and params."""
    from examcheck.render.variants import list_text

    problem_set = _one_exam(exam, problem_paths)
    _echo(list_text(problem_set), nl=False)


@variants_group.command(name="show")
@click.argument("ident", metavar="EXAM/PROBLEM")
@problems_option
@click.option("--variant", "number", type=click.IntRange(1, 1000), help="This variant (default: --student's, else 1).")
@student_option
@attempt_option
def variants_show(ident, problem_paths, number, student, attempt) -> None:
    """One variant of a problem: its params, statement, prompts and keys."""
    from examcheck.render.variants import show_text
    from examcheck.variants import assignment

    if student is not None and number is not None:
        _fail_input(["--variant and --student: give one (--student shows that student's variant)"])
    exam, _, problem_id = ident.rpartition("/")
    problem_set = _one_exam(exam, problem_paths) if exam else _load_sets(problem_paths)[0]
    if student is not None:
        _student_view(problem_set, student, attempt)  # exit 2 if the exam is not deployed
        number = assignment(problem_set, student, attempt).get(problem_id)
    pool = [p for p in problem_set.problems if p.id == problem_id]
    if not pool:
        _fail_input([f"no problem {problem_id!r} in exam {problem_set.exam!r}"])
    chosen = pool[0] if number is None or pool[0].variant is None else next((p for p in pool if p.variant == number), None)
    if chosen is None:
        _fail_input([f"{problem_id} has {len(pool)} variant(s); there is no variant {number}"])
    _echo(show_text(problem_set, chosen), nl=False)


@variants_group.command(name="assign")
@click.argument("exam")
@click.option("--roster", type=NamedPath(path_type=Path), required=True, help="A CSV with a student id column.")
@problems_option
@attempt_option
def variants_assign(exam, roster, problem_paths, attempt) -> None:
    """Which variant of each problem every student on the roster gets (CSV)."""
    from examcheck.paper import read_roster
    from examcheck.render.variants import assignment_csv
    from examcheck.yamlio import InputError

    problem_set = _one_exam(exam, problem_paths)
    try:
        students = read_roster(roster)
        _echo(assignment_csv(problem_set, students, attempt), nl=False)
    except InputError as exc:
        _fail_input([exc])


@main.command()
@click.argument("exam")
@click.option("--roster", type=NamedPath(path_type=Path), required=True, help="A CSV with a student id column.")
@click.option("-o", "--output", "folder", type=NamedPath(path_type=Path, file_okay=False), required=True,
              help="Folder for the papers (created if missing).")
@problems_option
@attempt_option
@click.option("--pdf", is_flag=True, help="Also typeset PDFs (needs a TeX engine: latexmk, pdflatex, xelatex or tectonic).")
def paper(exam, roster, folder, problem_paths, attempt, pdf) -> None:
    """One question sheet per student (markdown and LaTeX) and the matching answer keys."""
    from examcheck.paper import PaperError, read_roster, write_papers
    from examcheck.yamlio import InputError

    problem_set = _one_exam(exam, problem_paths)
    try:
        students = read_roster(roster)
    except InputError as exc:
        _fail_input([exc])
    _references_or_exit([problem_set])
    try:
        written = write_papers(problem_set, students, folder, attempt, pdf)
    except (InputError, PaperError) as exc:
        _fail_input([exc])
    click.echo(f"{folder}: {written.sheets} question sheet(s) and {written.keys} answer key(s) for "
               f"{len(students)} student(s)" + (f"; {written.pdfs} PDF(s)" if pdf else ""))
    for note in written.notes:
        _warn(note)


@main.group(name="cache")
def cache_group() -> None:
    """The verdict cache (a folder given with --cache): statistics, or empty it."""


_cache_folder = click.argument("folder", required=False, type=NamedPath(path_type=Path))


@cache_group.command(name="stats")
@_cache_folder
def cache_stats(folder) -> None:
    """Entries and size of the cache in FOLDER (default: $XDG_CACHE_HOME/examcheck); creates nothing."""
    from examcheck.cache import VerdictCache, disk_bytes

    folder = _existing_cache(folder, "0 verdict(s)", "")
    if folder is None:
        return
    store = VerdictCache(folder, create=False, initialise=False)
    info = store.stats()
    store.close()
    if not info["readable"]:
        _fail_input([f"verdict cache {info['folder']}: {info['problem'] or 'cannot be read'}"])
    click.echo(f"{info['folder']}: {info['entries']} verdict(s), {disk_bytes(folder)} bytes"
               + ("" if info["writable"] else f" (read-only: {info['problem']})" if info["problem"] else " (read-only)"))


def _existing_cache(folder, when_none: str, when_other: str):
    """The cache folder to inspect (default: the user's), or None after saying there is none; exit 2 for a
    path that is not a cache.  Creates nothing."""
    from examcheck.cache import cache_presence, default_cache_dir

    folder = folder or default_cache_dir()
    kind, why = cache_presence(folder)
    if kind == "none":
        click.echo(f"no cache in {folder}: {when_none}")
        return None
    if kind == "other":
        _fail_input([f"verdict cache {folder}: {why}{when_other}"])
    return folder


@cache_group.command(name="clear")
@_cache_folder
def cache_clear(folder) -> None:
    """Remove every verdict from the cache in FOLDER (an empty database file is made an empty cache)."""
    from examcheck.cache import VerdictCache

    folder = _existing_cache(folder, "nothing to remove", "; nothing removed")
    if folder is None:
        return
    store = VerdictCache(folder, create=False)
    info = store.stats()
    if not info["readable"] or not info["writable"]:
        store.close()
        _fail_input([f"verdict cache {info['folder']}: {info['problem'] or 'cannot be cleared'}; nothing removed"])
    removed = store.clear()
    store.close()
    if store.problem:
        _fail_input([f"verdict cache {store.folder}: {store.problem}; nothing removed"])
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

    _echo(published_text(which or "problems"), nl=False)


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
    _echo(FORMATS[fmt]([f.describe() for f in chosen]), nl=False)


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
    from examcheck.variants import not_deployed
    from examcheck.yamlio import InputError

    if Path(exam).suffix in (".yaml", ".yml") and Path(exam).is_file():
        problem_paths, exam = (*problem_paths, Path(exam)), None
    sets = _load_sets(problem_paths)
    matches = [s for s in sets if exam is None or s.exam == exam]
    if len(matches) != 1:
        _fail_input([f"no exam {exam!r} (loaded: {', '.join(s.exam for s in sets)})" if exam else
                     "the problem file holds no single exam"])
    _references_or_exit(sets, [(matches[0], p) for p in matches[0].problems])
    try:
        not_deployed(matches[0])  # a zip of an exam with params needs its lock, or no student has a variant
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
@click.option("--root", type=NamedPath(path_type=Path, file_okay=False),
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
@click.option("--collect", "collect_dir", type=NamedPath(path_type=Path, file_okay=False),
              help="Also store each student's saved answer file in this folder.")
@click.option("--time-limit", type=click.FloatRange(0.1, 60), default=2.0, show_default=True,
              help="Seconds allowed for each answer check.")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Checks run at once (default: up to 4).")
@click.option("--roster", type=NamedPath(path_type=Path, dir_okay=False),
              help="CSV with a student column and a token column: only listed students may save, each with their token.")
@click.option("--issue-tokens", is_flag=True, help="Give every student in --roster without a token a new one, then exit.")
@click.option("--max-versions", type=click.IntRange(1, 10_000), default=100, show_default=True,
              help="Saves kept per student in --collect.")
@click.option("--collect-max-mb", type=click.IntRange(1, 100_000), default=200, show_default=True,
              help="Size cap of the --collect folder.")
def serve(exam, problem_paths, host, port, reveal, student, collect_dir, time_limit, workers, roster, issue_tokens,
          max_versions, collect_max_mb) -> None:
    """Serve a page where students type answers, see them as read, check and save them."""
    from examcheck.web import WebExtraMissing
    from examcheck.web.collecting import CollectLimits, RosterError, issue_tokens_for, load_roster
    from examcheck.web.service import BadRequest, check_student

    if issue_tokens:
        if roster is None:
            _fail_input(["--issue-tokens needs --roster FILE"])
        try:
            issued, path = issue_tokens_for(roster, check_student)
        except (RosterError, OSError) as exc:
            _fail_input([exc])
        click.echo(f"examcheck: issued {issued} new token(s) in {path}; hand each student their own line", err=True)
        return

    if Path(exam).suffix in (".yaml", ".yml") and Path(exam).is_file():
        problem_paths, exam = (*problem_paths, Path(exam)), None
    sets = _load_sets(problem_paths)
    matches = [s for s in sets if exam is None or s.exam == exam]
    if not matches or (exam is None and len(matches) != 1):
        _fail_input([f"no exam {exam!r} (loaded: {', '.join(s.exam for s in sets)})"])
    if matches[0].variants is not None:  # a variant exam: one student's version only
        if student is None:
            _fail_input([f"exam {matches[0].exam!r} gives each student their own variant: serve it with --student ID"])
        matches[0] = _student_view(matches[0], student, 1)
    try:
        if student is not None:
            check_student(student)
        if collect_dir is not None:
            collect_dir.mkdir(parents=True, exist_ok=True)
        students = load_roster(roster, check_student) if roster is not None else None
        if students is not None and students.missing_tokens():
            _fail_input([f"{roster}: {len(students.missing_tokens())} student(s) have no token; "
                         "run with --issue-tokens first"])
        from examcheck.web.serve import build_app, run

        app = build_app(matches[0], reveal, student, collect_dir, time_limit, workers, students,
                        CollectLimits(versions_per_student=max_versions, total_bytes=collect_max_mb * 1024 * 1024))
    except (BadRequest, OSError, RosterError) as exc:
        _fail_input([exc])
    except WebExtraMissing as exc:
        _fail_input([exc])
    click.echo(f"examcheck: serving {matches[0].exam} on http://{host}:{port}/ (Ctrl+C stops)", err=True)
    run(app, host, port)


@main.command(name="import")
@click.argument("export", type=NamedPath(path_type=Path))
@click.option("--map", "mapping", required=True, type=NamedPath(path_type=Path),
              help="YAML: `exam:` and `questions:` from LMS question ids (Canvas) or slots (Moodle) to problem.part.")
@click.option("--from", "fmt", type=click.Choice(["canvas", "moodle"]), help="The export's format (default: detected).")
@click.option("-o", "--output", "folder", required=True, type=NamedPath(path_type=Path, file_okay=False),
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
