"""Safe YAML loading that remembers where every value came from.

Scalars follow the YAML 1.2 core schema, not YAML 1.1: ``1:30`` (sexagesimal),
``2024-01-01`` (timestamp), ``yes``/``on`` and ``1_000`` stay text, ``0123`` is
decimal.  Each plain scalar's text exactly as written (so ``1.40`` keeps its
trailing zero) is kept beside the data, and answers are read from that text.

Only plain YAML is accepted: no anchors or aliases, no merge keys, no tags but
the core ones (``!!str``; ``!!int``/``!!float``/``!!bool``/``!!null`` only on text
of that type), no duplicate keys, one document per file.  The read is bounded:
file size, number of values, nesting depth (block and flow alike) and the time
taken; a very long value reaches the part's reader, which has its own limits.
The document is built here from libyaml's events without recursion, so no
input reaches a recursive composer.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from yaml import events

MAX_FILE_BYTES = 5_000_000       # a problem file
MAX_ANSWER_BYTES = 5_000_000     # an answer file
MAX_NODES = 200_000              # values in one document
MAX_DEPTH = 64                   # nesting of mappings and lists
MAX_INT_DIGITS = 1_000           # a longer integer stays text (the part's reader decides)
READ_SECONDS = 10.0              # building one document

Path_ = tuple  # a path into the data: ('problems', 2, 'parts', 0, 'marks')

_CORE = "tag:yaml.org,2002:"
_NULL = re.compile(r"(?:~|null|Null|NULL|)\Z")
_TRUE = re.compile(r"(?:true|True|TRUE)\Z")
_FALSE = re.compile(r"(?:false|False|FALSE)\Z")
_INT = re.compile(r"[-+]?[0-9]+\Z")
_OCT = re.compile(r"0o[0-7]+\Z")
_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"[-+]?\.(?:inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)\Z")


class InputError(Exception):
    """Bad input: names the file, the line and what was expected."""

    def __init__(self, source: str, line: int | None, message: str):
        super().__init__(message)
        self.source = source
        self.line = line
        self.message = message

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.message}"

    def __reduce__(self):
        return (InputError, (self.source, self.line, self.message))


@dataclass
class YamlDoc:
    source: str
    data: object
    lines: dict[Path_, int] = field(default_factory=dict)
    raw: dict[Path_, str] = field(default_factory=dict)

    def line(self, path: Path_) -> int | None:
        """The line of the value at path, or of its nearest ancestor."""
        path = tuple(path)
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path)

    def error(self, path: Path_, message: str) -> InputError:
        return InputError(self.source, self.line(path), f"{format_path(path)}: {message}" if path else message)


def format_path(path: Path_) -> str:
    out = ""
    for key in path:
        if isinstance(key, int):
            out += f"[{key}]"
        else:
            out += f".{key}" if out else str(key)
    return out


def read_regular_file(path: str | Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most max_bytes.  A FIFO, device, socket or
    folder is refused without reading from it (it could block or never end)."""
    source = display_path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise InputError(source, None, f"cannot read file: {_os_reason(exc)}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(source, None, f"not a regular file ({file_kind(info.st_mode)}); not read")
        if info.st_size > max_bytes:
            raise InputError(source, None, f"file is larger than {_size(max_bytes)} (the limit for this file)")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > max_bytes:
                raise InputError(source, None, f"file is larger than {_size(max_bytes)} (the limit for this file)")
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise InputError(source, None, f"cannot read file: {_os_reason(exc)}") from None
    finally:
        os.close(fd)


def file_kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symlink")):
        if test(mode):
            return name
    return "not a regular file"


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ENAMETOOLONG:
        return "file name too long"
    return exc.strerror or type(exc).__name__


def _size(limit: int) -> str:
    return f"{limit / 1_000_000:g} MB"


def display_path(path: str | Path) -> str:
    """The path as text that any output can carry: bytes of a file name that are not UTF-8
    (lone surrogates in Python) are shown as \\udcNN."""
    text = str(path)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def load_file(path: str | Path, max_bytes: int = MAX_FILE_BYTES) -> YamlDoc:
    return load_bytes(read_regular_file(path, max_bytes), path, max_bytes)


def load_bytes(data: bytes, path: str | Path, max_bytes: int = MAX_FILE_BYTES) -> YamlDoc:
    """A document from the bytes of the file at path (read with read_regular_file)."""
    source = display_path(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(source, line, f"file is not UTF-8 text (byte 0x{data[exc.start]:02x})") from None
    return load_text(text, source, max_bytes)


def load_text(text: str, source: str = "<text>", max_bytes: int = MAX_FILE_BYTES) -> YamlDoc:
    if len(text) > max_bytes:
        raise InputError(source, None, f"document is larger than {_size(max_bytes)}")
    if "\x00" in text:
        raise InputError(source, text.count("\n", 0, text.index("\x00")) + 1, "not valid YAML: a NUL character")
    doc = YamlDoc(source, None)
    parser = None
    try:
        parser = _parser(text)
        doc.data = _Composer(doc, parser).document()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = str(exc.problem or exc.context)
        if "nesting depth" in problem:
            raise InputError(source, line, f"document is nested too deeply (more than {MAX_DEPTH} levels)") from None
        raise InputError(source, line, f"not valid YAML: {problem}") from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (control characters)
        position = exc.position if isinstance(exc.position, int) else 0
        line = text.count("\n", 0, position) + 1 if position <= len(text) else None
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        raise InputError(source, line, f"not valid YAML: character U+{code:04X}: {exc.reason}") from None
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(source, None, f"not valid YAML: {first}") from None
    except UnicodeError:
        raise InputError(source, None, "text is not valid Unicode") from None
    except (RecursionError, MemoryError):
        raise InputError(source, None, "YAML is too large or nested too deeply") from None
    finally:
        dispose = getattr(parser, "dispose", None)
        if dispose is not None:
            dispose()
    return doc


def _parser(text: str):
    """libyaml's event parser (a state machine: no recursion), else PyYAML's pure-Python one."""
    try:
        from yaml.cyaml import CParser
    except ImportError:
        return yaml.SafeLoader(text)
    return CParser(text)


class _Frame:
    __slots__ = ("container", "path", "key", "is_map")

    def __init__(self, container, path: Path_, is_map: bool):
        self.container = container
        self.path = path
        self.key = None
        self.is_map = is_map


class _Composer:
    """Builds plain data from parser events, iteratively, under the limits."""

    def __init__(self, doc: YamlDoc, parser):
        self.doc = doc
        self.parser = parser
        self.count = 0
        self.deadline = time.monotonic() + READ_SECONDS

    def fail(self, event, message: str) -> InputError:
        mark = getattr(event, "start_mark", None)
        return InputError(self.doc.source, mark.line + 1 if mark else None, message)

    def document(self):
        get = self.parser.get_event
        get()  # stream start
        event = get()
        if isinstance(event, events.StreamEndEvent):
            return None
        root = self._body(get)
        event = get()
        if not isinstance(event, events.StreamEndEvent):
            raise self.fail(event, "only one YAML document is allowed per file (found a second `---`)")
        return root

    def _body(self, get):
        root = None
        stack: list[_Frame] = []
        while True:
            event = get()
            kind = type(event)
            if kind is events.DocumentEndEvent:
                return root
            if kind is events.MappingEndEvent or kind is events.SequenceEndEvent:
                stack.pop()
                continue
            if kind is events.AliasEvent:
                raise self.fail(event, "YAML aliases (*name) are not supported")
            if event.anchor is not None:
                raise self.fail(event, "YAML anchors (&name) are not supported")
            self.count += 1
            if self.count > MAX_NODES:
                raise self.fail(event, f"document has too many values (more than {MAX_NODES})")
            if not self.count % 2048 and time.monotonic() > self.deadline:
                raise self.fail(event, f"document took more than {READ_SECONDS:g} s to read")
            top = stack[-1] if stack else None
            if top is not None and top.is_map and top.key is None:
                top.key = self._key(event, top)
                continue
            if top is None:
                path: Path_ = ()
            else:
                path = (*top.path, top.key if top.is_map else len(top.container))
            self.doc.lines[path] = event.start_mark.line + 1
            if kind is events.ScalarEvent:
                value = self._scalar(event, path)
            else:
                if len(stack) >= MAX_DEPTH:
                    raise self.fail(event, f"document is nested too deeply (more than {MAX_DEPTH} levels)")
                is_map = kind is events.MappingStartEvent
                self._check_collection_tag(event, "map" if is_map else "seq")
                value = {} if is_map else []
            if top is None:
                root = value
            elif top.is_map:
                top.container[top.key] = value
                top.key = None
            else:
                top.container.append(value)
            if kind is not events.ScalarEvent:
                stack.append(_Frame(value, path, kind is events.MappingStartEvent))

    def _key(self, event, top: _Frame) -> str:
        if type(event) is not events.ScalarEvent:
            raise self.fail(event, "mapping keys must be plain names")
        if event.tag not in (None, "!", _CORE + "str"):
            raise self.fail(event, f"unsupported tag {event.tag!r} on a mapping key")
        key = event.value
        if key == "<<" and not event.style:
            raise self.fail(event, "YAML merge keys (<<) are not supported")
        if len(key) > 1000:
            raise self.fail(event, "mapping key is too long")
        if key in top.container:
            raise self.fail(event, f"duplicate key {key[:80]!r}")
        return key

    def _check_collection_tag(self, event, kind: str) -> None:
        if event.tag not in (None, "!", _CORE + kind):
            raise self.fail(event, f"unsupported YAML tag {event.tag!r}")

    def _scalar(self, event, path: Path_):
        text = event.value
        tag = event.tag
        plain = not event.style
        if tag is None:
            if not plain:
                return text
            self.doc.raw[path] = text
            return core_value(text)
        if tag == "!" or tag == _CORE + "str":
            return text
        expected = {_CORE + "int": int, _CORE + "float": float, _CORE + "bool": bool, _CORE + "null": type(None)}
        if tag not in expected:
            raise self.fail(event, f"unsupported YAML tag {tag!r}")
        value = core_value(text)
        wanted = expected[tag]
        if wanted is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value) if len(text) < 300 else text
        if not isinstance(value, wanted) or (wanted is int and isinstance(value, bool)):
            name = tag[len(_CORE):]
            raise self.fail(event, f"!!{name} {text[:40]!r}: not a YAML 1.2 {name}")
        if plain:
            self.doc.raw[path] = text
        return value


def core_value(text: str):
    """A plain scalar under the YAML 1.2 core schema: null, bool, int, float or the text itself.
    Integers longer than MAX_INT_DIGITS stay text."""
    if len(text) > 400 and not text[:1].isdigit() and text[:1] not in "+-.":
        return text
    if _NULL.match(text):
        return None
    if _TRUE.match(text):
        return True
    if _FALSE.match(text):
        return False
    if _INT.match(text):
        return int(text) if len(text) <= MAX_INT_DIGITS else text
    if _OCT.match(text):
        return int(text[2:], 8) if len(text) <= MAX_INT_DIGITS else text
    if _HEX.match(text):
        return int(text[2:], 16) if len(text) <= MAX_INT_DIGITS else text
    if _FLOAT.match(text):
        return float(text) if len(text) <= MAX_INT_DIGITS else text
    if _INF.match(text):
        return float("-inf") if text.startswith("-") else float("inf")
    if _NAN.match(text):
        return float("nan")
    return text
