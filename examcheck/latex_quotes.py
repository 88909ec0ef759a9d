"""The double-quoted-LaTeX trap in answer files, found and explained.

In a YAML double-quoted string a backslash starts an escape: ``"\\frac{1}{2}"`` holds a form feed and
``rac{1}{2}``, ``"\\theta"`` a tab and ``heta``; ``"\\sigma"`` is not an escape at all and the whole file
cannot be read.  Students meant LaTeX.  This module recognises both cases and says how to fix them: single
quotes (``'\\frac{1}{2}'``, where a backslash is a backslash) or a block scalar (``|``).

Characters that only an escape can produce (bell, backspace, vertical tab, form feed, escape, NUL) are always
the trap.  Tab, newline, carriage return and the Unicode separators are also legitimate text, so they count
only when the letters after them complete a LaTeX command (tab + ``heta`` = ``\\theta``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# YAML 1.2 double-quoted escapes that are letters or digits, and the character each produces
ESCAPES = {"0": "\x00", "a": "\x07", "b": "\x08", "t": "\t", "n": "\n", "v": "\x0b", "f": "\x0c", "r": "\r",
           "e": "\x1b", "N": "\x85", "_": "\xa0", "L": "\u2028", "P": "\u2029"}
CHARACTER_NAMES = {"\x00": "NUL", "\x07": "bell", "\x08": "backspace", "\t": "tab", "\n": "line break",
                   "\x0b": "vertical tab", "\x0c": "form feed", "\r": "carriage return", "\x1b": "escape character",
                   "\x85": "next-line character", "\xa0": "no-break space", "\u2028": "line separator",
                   "\u2029": "paragraph separator"}
ONLY_FROM_ESCAPES = frozenset("\x00\x07\x08\x0b\x0c\x1b")
_BY_CHARACTER = {char: letter for letter, char in ESCAPES.items()}

# LaTeX commands that begin with an escape letter whose character can also be ordinary text
COMMANDS = frozenset("""
theta tau tan tanh times text textbf textrm textit tilde to top triangle tfrac tbinom therefore tiny
nabla nu neq ne neg not notin nolimits nexists ni nmid nleq ngeq nless ngtr
rho right rangle rceil rfloor rvert rVert rightarrow rbrace rbrack restriction
Lambda Leftarrow Leftrightarrow Longrightarrow Longleftarrow Large LARGE
Pi Phi Psi Pr P
Nu
""".split())

_LETTERS = re.compile(r"[A-Za-z]*")


@dataclass(frozen=True)
class Trap:
    command: str      # the LaTeX command meant, with its backslash: \theta
    character: str    # what YAML made of it: tab

    def describe(self) -> str:
        letter = self.command[1]
        return f'"{self.command}" became a {self.character} ("\\{letter}") followed by "{self.command[2:]}"'


def _trap_at(text: str, index: int) -> Trap | None:
    char = text[index]
    letter = _BY_CHARACTER.get(char)
    if letter is None:
        return None
    tail = _LETTERS.match(text, index + 1).group()
    name = letter + tail
    if char in ONLY_FROM_ESCAPES:
        return Trap("\\" + name, CHARACTER_NAMES[char])
    if tail and (name in COMMANDS or any(name.startswith(c) for c in COMMANDS if len(c) >= 3)):
        return Trap("\\" + name, CHARACTER_NAMES[char])
    return None


def find_traps(value) -> list[Trap]:
    """Every double-quoted-LaTeX trap in an answer (a string, or lists/mappings of them)."""
    if isinstance(value, str):
        if len(value) > 100_000:
            value = value[:100_000]
        return [t for i in range(len(value)) if (t := _trap_at(value, i)) is not None] if _may_hold(value) else []
    if isinstance(value, list):
        return [t for item in value[:10_000] for t in find_traps(item)]
    if isinstance(value, dict):
        return [t for item in list(value.values())[:10_000] for t in find_traps(item)]
    return []


def _may_hold(text: str) -> bool:
    return any(char in text for char in _BY_CHARACTER)


def repaired(value: str) -> str:
    """The answer as the student meant it: every trapped character back to its backslash command."""
    out = []
    for i, char in enumerate(value):
        out.append("\\" + _BY_CHARACTER[char] if _trap_at(value, i) is not None else char)
    return "".join(out)


def single_quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def trap_message(value, line: int | None = None) -> str | None:
    """Why this answer is not what the student typed, and exactly how to fix it; None if no trap."""
    traps = find_traps(value)
    if not traps:
        return None
    where = f"line {line}: " if line else ""
    seen = list(dict.fromkeys(t.describe() for t in traps))[:3]
    fix = ""
    if isinstance(value, str) and "\n" not in repaired(value):
        fix = f": {single_quoted(repaired(value))}"
    return (f"{where}LaTeX in double quotes: {'; '.join(seen)}. In YAML double quotes a backslash starts an escape; "
            f"write the answer in single quotes{fix} (or as a block scalar: `|` and the answer indented on the next "
            "line), or double every backslash")


_UNKNOWN_ESCAPE = ("unknown escape character", "escape sequence of", "hexdecimal number", "hexadecimal number")


def is_escape_error(message: str) -> bool:
    return any(marker in message for marker in _UNKNOWN_ESCAPE)


def explain_yaml_error(message: str, line: int | None, text: str | None) -> str | None:
    """A clearer message for a file YAML cannot read because of a backslash in double quotes."""
    if not is_escape_error(message):
        return None
    command = ""
    if text is not None and line:
        lines = text.splitlines()
        if 0 < line <= len(lines):
            command = _first_bad_escape(_double_quoted_part(lines[line - 1]))
    shown = f'"{command}"' if command else "a backslash"
    example = command or "\\sigma"
    return (f"{shown} in double quotes is not a YAML escape, so the file cannot be read. LaTeX goes in single quotes "
            f"('{example}') or a block scalar (`|` and the answer indented on the next line); in double quotes "
            f'write every backslash twice ("\\{example}")')


_VALID_SINGLE = set(ESCAPES) | set(' "/\\\t')
_HEX = {"x": 2, "u": 4, "U": 8}


def _first_bad_escape(text: str) -> str:
    """The first backslash sequence that YAML cannot read (\\sigma, \\xi, \\upsilon), as written."""
    i = 0
    while i < len(text) - 1:
        if text[i] != "\\":
            i += 1
            continue
        letter = text[i + 1]
        word = _LETTERS.match(text, i + 1).group()
        if letter in _HEX:
            digits = text[i + 2:i + 2 + _HEX[letter]]
            if len(digits) < _HEX[letter] or not all(c in "0123456789abcdefABCDEF" for c in digits):
                return "\\" + word
            i += 2 + _HEX[letter]
            continue
        if letter not in _VALID_SINGLE:
            return "\\" + (word or letter)
        i += 2
    return ""


def _double_quoted_part(line: str) -> str:
    start = line.find('"')
    return line[start:] if start >= 0 else line
