"""Before grading: which problem sets the answer files answer, so that only their references are computed
(and checked: a part whose reference cannot be computed is an input error, see Engine.reference_errors)."""

from __future__ import annotations

from examcheck.model import ProblemSet
from examcheck.yamlio import InputError


def answered_sets(paths, sets: list[ProblemSet]) -> list[ProblemSet]:
    """The problem sets these answer files answer (a file that cannot be read is reported when it is graded)."""
    from examcheck.answers import choose_set, load_sheet
    from examcheck.schema import ValidationFailed

    chosen: dict[str, ProblemSet] = {}
    for path in paths:
        try:
            problem_set = choose_set(load_sheet(path), sets)
        except (InputError, ValidationFailed, OSError, ValueError):
            continue
        chosen[problem_set.exam] = problem_set
    return list(chosen.values())


# ----------------------------------------------------------------------------- which sets to load

PEEK_BYTES = 64 * 1024   # an exam id is looked for in the first this many bytes of a file
PEEK_EVENTS = 20_000     # ... and among its first this many YAML events
UNKNOWN = object()       # the exam a file names cannot be told without loading it

_CORE_STR = (None, "!", "tag:yaml.org,2002:str")


def peek_exam(path, answer: bool = True):
    """The exam a file names, read from its top-level `exam:` key alone, exactly as loading the whole file
    would read it (an answer file: its text as written, stripped; a problem file: str of its value), or
    UNKNOWN.  The file is untrusted: at most PEEK_BYTES are read, by libyaml's event parser (no document
    is built), and anything unusual (no such key, a tag, a truncated value, invalid YAML) is UNKNOWN."""
    from yaml import YAMLError, events

    from examcheck.yamlio import _parser, core_value

    text, truncated = _head(path)
    if text is None:
        return UNKNOWN
    parser = None
    try:
        parser = _parser(text)
        get = parser.get_event
        if not (isinstance(get(), events.StreamStartEvent) and isinstance(get(), events.DocumentStartEvent)):
            return UNKNOWN
        top = get()
        if not isinstance(top, events.MappingStartEvent) or top.anchor is not None or top.tag not in (None, "!"):
            return UNKNOWN
        for _ in range(PEEK_EVENTS):
            key = get()
            if not isinstance(key, events.ScalarEvent) or key.anchor is not None or key.tag not in _CORE_STR:
                return UNKNOWN  # the end of the mapping (no exam key), or a key loading refuses
            value = get()
            if key.value != "exam":
                if not _skip(get, value, events):
                    return UNKNOWN
                continue
            if not isinstance(value, events.ScalarEvent) or value.anchor is not None or value.tag not in (None, "!"):
                return UNKNOWN
            if truncated and not isinstance(get(), events.ScalarEvent):  # the value may go on past the cut
                return UNKNOWN
            return _exam_text(value, answer, core_value)
    except (YAMLError, ValueError, TypeError, RecursionError, MemoryError):
        return UNKNOWN
    finally:
        dispose = getattr(parser, "dispose", None)
        if dispose is not None:
            dispose()
    return UNKNOWN


def _head(path) -> tuple[str | None, bool]:
    """The first PEEK_BYTES of a regular file, cut after its last full line if the file is longer."""
    import os
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except (OSError, ValueError):
        return None, False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None, False
        data = b""
        while len(data) <= PEEK_BYTES:
            chunk = os.read(fd, PEEK_BYTES + 1 - len(data))
            if not chunk:
                break
            data += chunk
    except OSError:
        return None, False
    finally:
        os.close(fd)
    truncated = len(data) > PEEK_BYTES
    if truncated:
        data = data[:data.rfind(b"\n", 0, PEEK_BYTES) + 1]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, False
    if not text or "\x00" in text:
        return None, False
    return text, truncated


def _skip(get, event, events) -> bool:
    """Past one value (a scalar, or a whole mapping or list); False on anything loading refuses (aliases)."""
    depth = 0
    for _ in range(PEEK_EVENTS):
        if isinstance(event, events.AliasEvent):
            return False
        if isinstance(event, (events.MappingStartEvent, events.SequenceStartEvent)):
            depth += 1
        elif isinstance(event, (events.MappingEndEvent, events.SequenceEndEvent)):
            depth -= 1
        elif not isinstance(event, events.ScalarEvent):
            return False
        if depth == 0:
            return True
        event = get()
    return False


def _exam_text(event, answer: bool, core_value):
    text = event.value
    if event.style or event.tag == "!":  # quoted (or the non-specific tag): the text itself
        value = text
    else:
        value = core_value(text)
        if value is None or isinstance(value, (bool, float)):
            return UNKNOWN
        if isinstance(value, int):
            value = text if answer else str(value)  # an answer's id as written (0123), a problem set's str()
    if answer:
        return value.strip() or UNKNOWN
    return value


def load_answered_sets(answer_paths, paths=None, runner=None, validated=None) -> list[ProblemSet]:
    """The problem sets for grading these answer files: only the files whose exam one of them names, and
    the files whose exam cannot be told without loading them (a problem file that is broken elsewhere in
    the folder does not stop the grading of another exam).  Every set is loaded, as load_sets does, when
    an answer file's exam cannot be told (it names none, or not plainly), when a folder cannot be read,
    or when the files chosen do not hold every exam named: the errors are then the same as ever.
    validated: see loader.load_sets."""
    from examcheck.loader import default_paths, load_sets, problem_files

    paths = list(paths or default_paths())
    files, errors = problem_files(paths)
    if errors:
        return load_sets(paths, runner, validated=validated)
    exams = {file: peek_exam(file, answer=False) for file in files}
    known = {exam for exam in exams.values() if exam is not UNKNOWN}
    wanted = set()
    for path in answer_paths:
        exam = peek_exam(path, answer=True)
        if exam is UNKNOWN:
            return load_sets(paths, runner, validated=validated)
        wanted.add(exam)
        if known <= wanted:  # every set is answered: load them all (no need to look further)
            return load_sets(paths, runner, validated=validated)
    if not wanted:  # no answer file to read: as ever
        return load_sets(paths, runner, validated=validated)
    chosen = {file for file, exam in exams.items() if exam is UNKNOWN or exam in wanted}
    sets = load_sets(paths, runner, select=lambda found: [f for f in found if f in chosen], validated=validated) if chosen else []
    if not wanted <= {s.exam for s in sets}:
        return load_sets(paths, runner, validated=validated)
    return sets
