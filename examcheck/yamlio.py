"""Safe YAML loading that remembers where every value came from.

Only plain YAML is accepted: no tags such as ``!!python/object``, no
duplicate keys, bounded size and nesting.  Each value's line and, for plain
scalars, its text exactly as written (so ``1.40`` keeps its trailing zero) are
kept beside the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

MAX_FILE_BYTES = 5_000_000
MAX_NODES = 200_000
MAX_DEPTH = 64

Path_ = tuple  # a path into the data: ('problems', 2, 'parts', 0, 'marks')

_STANDARD_TAGS = {
    "tag:yaml.org,2002:" + t
    for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
}


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


def load_file(path: str | Path) -> YamlDoc:
    path = Path(path)
    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(source, None, f"file is larger than {MAX_FILE_BYTES // 1_000_000} MB")
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(source, None, "file is not UTF-8 text") from None
    except OSError as exc:
        raise InputError(source, None, f"cannot read file: {exc.strerror or exc}") from None
    return load_text(text, source)


def load_text(text: str, source: str = "<text>") -> YamlDoc:
    if len(text) > MAX_FILE_BYTES:
        raise InputError(source, None, "document is too large")
    try:
        node = yaml.compose(text, Loader=_loader_for(text))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise InputError(source, line, f"not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(source, None, f"not valid YAML: {first}") from None
    except RecursionError:
        raise InputError(source, None, "YAML is nested too deeply") from None
    doc = YamlDoc(source, None)
    if node is None:
        return doc
    builder = _Builder(doc)
    doc.data = builder.build(node, (), 0)
    return doc


C_LOADER_MAX_DEPTH = 500


def _loader_for(text: str):
    """libyaml's composer is fast but recurses in C and crashes on absurdly deep flow nesting;
    such text goes to the pure-Python composer, whose RecursionError is caught."""
    depth = deepest = 0
    for c in text:
        if c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth -= 1
    fast = getattr(yaml, "CSafeLoader", None)
    return fast if fast is not None and deepest <= C_LOADER_MAX_DEPTH else yaml.SafeLoader


class _Builder:
    def __init__(self, doc: YamlDoc):
        self.doc = doc
        self.count = 0
        self.constructor = yaml.SafeLoader("")

    def fail(self, node, message: str) -> InputError:
        return InputError(self.doc.source, node.start_mark.line + 1, message)

    def build(self, node, path: Path_, depth: int):
        self.count += 1
        if self.count > MAX_NODES:
            raise self.fail(node, "document has too many values")
        if depth > MAX_DEPTH:
            raise self.fail(node, "document is nested too deeply")
        if node.tag not in _STANDARD_TAGS:
            raise self.fail(node, f"unsupported YAML tag {node.tag!r}")
        self.doc.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if not node.style:  # plain (unquoted) scalar: keep the text as written
            self.doc.raw[path] = node.value
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            raise self.fail(node, f"bad value: {exc}") from None

    def _mapping(self, node, path: Path_, depth: int) -> dict:
        out: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise self.fail(key_node, "YAML merge keys (<<) are not supported")
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(key_node, "mapping keys must be plain names")
            key = str(key_node.value)
            if key in out:
                raise self.fail(key_node, f"duplicate key {key!r}")
            out[key] = self.build(value_node, (*path, key), depth + 1)
        return out
