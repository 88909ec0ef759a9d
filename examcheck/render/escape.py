"""Escaping for every output format: text written by students (names, answers, file
names) must never act as a spreadsheet formula, break an XML file, or drive a terminal.

- CSV/Canvas: a text cell starting with =, +, -, @, tab or carriage return (also after
  leading spaces) is prefixed with a single quote (OWASP's CSV-injection rule).  Numbers
  stay numbers; text that is exactly a decimal number (``-1.5``) is left as it is.
  Control characters are made visible as in the terminal (a CSV is often printed).
- XML: characters XML 1.0 forbids (most C0 controls, surrogates, U+FFFE/U+FFFF) are removed.
- Terminal and Markdown: control characters (C0 but newline, DEL, C1, and the bidi
  controls that reorder text) are shown as visible escapes such as ``\\x1b``; so are the lone
  surrogates that stand for the bytes of a file name that is not UTF-8.
"""

from __future__ import annotations

import re

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "|")  # OWASP's list, plus "|" (DDE in older Excel)
_LEADING_BLANKS = " \n\r\t\u2028\u2029"  # blanks and line breaks cannot hide a formula behind them
_PLAIN_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?\Z")
_XML_FORBIDDEN = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                      "\ud800-\udfff]")
_CONTROL_NO_NEWLINES = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
                                  "\ud800-\udfff]")


_LINK_OPEN = re.compile(r"(\](?:\s*\n?\s*)?)\(")  # "](" opens a link or image target: "]\(" is text


def csv_cell(value):
    """A spreadsheet cell that cannot start a formula.  Non-text values pass unchanged."""
    if not isinstance(value, str) or not value:
        return value
    value = terminal_text(value)
    if _PLAIN_NUMBER.match(value):
        return value
    if value.lstrip(_LEADING_BLANKS).startswith(_FORMULA_START) or value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_row(values) -> list:
    return [csv_cell(v) for v in values]


def xml_text(value) -> str:
    """Text safe inside an XML 1.0 document (ElementTree escapes <, & and quotes itself)."""
    return _XML_FORBIDDEN.sub("", str(value))


def _visible(match: re.Match) -> str:
    char = match.group()
    code = ord(char)
    if char == "\t":
        return " "
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def terminal_text(value, keep_newlines: bool = True) -> str:
    """Text that cannot move the cursor, change colours or reorder what is shown."""
    pattern = _CONTROL if keep_newlines else _CONTROL_NO_NEWLINES
    text = str(value)
    return pattern.sub(_visible, text) if pattern.search(text) else text


def rich_text(value, style: str = ""):
    """A rich Text (never parsed as console markup) with control characters made visible."""
    from rich.text import Text

    return Text(terminal_text(value), style=style)


def markdown_cell(value) -> str:
    """Text for one cell of a Markdown table: one line, no pipes, no HTML, no links or images (the "(" after
    "]" is escaped, so `[a](javascript:…)` stays text and `[2, 6]` reads as written), no control characters."""
    text = str(value).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    text = terminal_text(text, keep_newlines=False)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
    return _LINK_OPEN.sub(lambda m: m.group(1) + "\\(", text)
