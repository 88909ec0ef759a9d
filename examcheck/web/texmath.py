"""Problem statements and prompts as HTML: text escaped, `$...$` segments as MathML.

Statements are written by instructors (validated problem files), but they are still never trusted as
markup: each `$...$` (or `$$...$$`) segment goes through latex2mathml, and its output is parsed as XML
and rebuilt from a whitelist of MathML elements and attributes, every text node escaped.  A segment
that cannot be converted, is too long, or produces anything outside the whitelist (latex2mathml copies
the body of ``\\text{...}`` through as raw markup) is shown as the escaped LaTeX source instead.
Without latex2mathml installed every segment is shown as escaped text.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html import escape

from examcheck.math_spans import math_spans

MATHML_NS = "http://www.w3.org/1998/Math/MathML"
MAX_SEGMENT = 1000
TAGS = frozenset({"math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msup", "msub", "msubsup", "mfrac",
                  "msqrt", "mroot", "mtable", "mtr", "mtd", "mstyle", "munder", "mover", "munderover", "mpadded",
                  "mphantom", "menclose", "merror"})
ATTRIBUTES = frozenset({"display", "mathvariant", "stretchy", "fence", "separator", "linethickness", "columnalign",
                        "form", "lspace", "rspace", "notation", "accent", "accentunder", "movablelimits", "largeop",
                        "symmetric", "minsize", "maxsize", "displaystyle", "scriptlevel", "width", "height", "depth",
                        "columnspacing", "rowspacing", "columnlines", "rowlines", "frame"})


class _Unsafe(ValueError):
    """Something outside the whitelist."""


def _rebuild(node: ET.Element) -> str:
    tag = node.tag
    if not tag.startswith("{" + MATHML_NS + "}") or tag.split("}", 1)[1] not in TAGS:
        raise _Unsafe(tag)
    name = tag.split("}", 1)[1]
    attrs = "".join(f' {key}="{escape(value, quote=True)}"' for key, value in sorted(node.attrib.items())
                    if key in ATTRIBUTES)
    if name == "math":
        attrs = f' xmlns="{MATHML_NS}"' + attrs
    inner = escape(node.text or "", quote=False)
    for child in node:
        inner += _rebuild(child) + escape(child.tail or "", quote=False)
    return f"<{name}{attrs}>{inner}</{name}>"


def tex_mathml(tex: str, display: bool = False) -> str | None:
    """The whitelisted MathML of one LaTeX segment, or None when it cannot be shown safely."""
    if len(tex) > MAX_SEGMENT or not tex.strip():
        return None
    try:
        from latex2mathml.converter import convert
    except ImportError:
        return None
    try:
        markup = convert(tex, display="block" if display else "inline")
        root = ET.fromstring(markup)
        if any((node.text or "").startswith("\\") for node in root.iter()):
            return None  # a command latex2mathml does not know comes out as its name: show the source instead
        return _rebuild(root)
    except (_Unsafe, ET.ParseError):
        return None
    except Exception:  # noqa: BLE001 - latex2mathml raises many kinds on LaTeX it does not know: show the source
        return None


def text_html(text: str) -> str:
    """text as HTML: escaped, with every `$...$` segment rendered as MathML where it can be (the segments
    are math_spans', as in substitution and paper; `\\$` outside them is a dollar sign)."""
    out = []
    end = 0
    for start, stop in math_spans(text):
        out.append(escape(text[end:start].replace("\\$", "$")))
        end = stop
        segment = text[start:stop]
        display = segment.startswith("$$")
        mathml = tex_mathml(segment[2:-2] if display else segment[1:-1], display=display)
        out.append(mathml if mathml is not None else f'<code class="tex">{escape(segment)}</code>')
    out.append(escape(text[end:].replace("\\$", "$")))
    return "".join(out)
