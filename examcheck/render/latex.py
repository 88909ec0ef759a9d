"""Text to LaTeX that compiles with plain pdflatex: every special character escaped in one pass (so an
escape is never escaped again), and every non-ASCII character written as a LaTeX command (math symbols in
$...$, which is valid inside \\texttt too); nothing outside ASCII reaches the output."""

from __future__ import annotations

import re
import unicodedata

SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#", "%": r"\%",
    "_": r"\_", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}", "<": r"\textless{}", ">": r"\textgreater{}",
    "|": r"\textbar{}", '"': "''",
}

GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta", "η": "eta", "θ": "theta",
    "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu", "ξ": "xi", "π": "pi", "ρ": "rho", "σ": "sigma",
    "ς": "varsigma", "τ": "tau", "υ": "upsilon", "φ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega",
    "Γ": "Gamma", "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda", "Ξ": "Xi", "Π": "Pi", "Σ": "Sigma", "Υ": "Upsilon",
    "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega", "ϵ": "epsilon", "ϕ": "phi",
}

MATH = {
    "×": r"\times", "·": r"\cdot", "⋅": r"\cdot", "÷": r"\div", "±": r"\pm", "∓": r"\mp", "−": "-",
    "≤": r"\le", "≥": r"\ge", "≠": r"\ne", "≈": r"\approx", "≡": r"\equiv", "∝": r"\propto", "∼": r"\sim",
    "→": r"\to", "←": r"\leftarrow", "↦": r"\mapsto", "⇒": r"\Rightarrow", "⇔": r"\Leftrightarrow",
    "∞": r"\infty", "∂": r"\partial", "∇": r"\nabla", "∑": r"\sum", "∏": r"\prod", "∫": r"\int", "√": r"\surd",
    "⌊": r"\lfloor", "⌋": r"\rfloor", "⌈": r"\lceil", "⌉": r"\rceil", "‖": r"\|", "⊙": r"\odot", "⊗": r"\otimes",
    "∘": r"\circ", "∈": r"\in", "∉": r"\notin", "⊂": r"\subset", "∪": r"\cup", "∩": r"\cap", "∀": r"\forall",
    "∃": r"\exists", "¬": r"\neg", "∧": r"\wedge", "∨": r"\vee", "⋆": r"\star", "∗": "*", "′": "'", "″": "''",
    "ℓ": r"\ell", "ℝ": r"\mathbf{R}", "∅": r"\emptyset", "⟨": r"\langle", "⟩": r"\rangle", "°": r"^{\circ}",
    "…": r"\ldots", "⋯": r"\cdots",
}

TEXT = {"–": "--", "—": "---", "‘": "`", "’": "'", "“": "``", "”": "''", "\u00a0": "~", "•": r"\textbullet{}",
        "§": r"\S{}", "¶": r"\P{}", "©": r"\copyright{}", "£": r"\pounds{}"}

SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵀᵗ", "0123456789+-=()niTt"))
SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜᵢⱼ", "0123456789+-=()aeoxhklmnpstij"))

ACCENTS = {"\u0301": "'", "\u0300": "`", "\u0302": "^", "\u0308": '"', "\u0303": "~", "\u0327": "c", "\u030c": "v"}


def _piece(c: str) -> tuple[bool, str]:
    """(is math, LaTeX) for one character."""
    if c in SPECIAL:
        return False, SPECIAL[c]
    if c.isascii():
        return False, c if c.isprintable() or c in "\n\t" else " "
    if c in GREEK:
        return True, f"\\{GREEK[c]}"
    if c in MATH:
        return True, MATH[c]
    if c in TEXT:
        return False, TEXT[c]
    if c in SUPERSCRIPTS:
        return True, f"^{{{SUPERSCRIPTS[c]}}}"
    if c in SUBSCRIPTS:
        return True, f"_{{{SUBSCRIPTS[c]}}}"
    decomposed = unicodedata.normalize("NFD", c)
    if len(decomposed) == 2 and decomposed[0].isascii() and decomposed[0].isalpha() and decomposed[1] in ACCENTS:
        return False, f"\\{ACCENTS[decomposed[1]]}{{{decomposed[0]}}}"
    compatible = unicodedata.normalize("NFKD", c)
    if compatible != c and compatible.isascii() and compatible.isprintable():
        return False, tex(compatible)
    return False, f"[U+{ord(c):04X}]"


def tex(text) -> str:
    """Any text as LaTeX text: special characters escaped, Unicode as commands; pure ASCII out.
    Neighbouring math symbols share one $...$ group."""
    out: list[str] = []
    math: list[str] = []
    for c in str(text):
        is_math, latex = _piece(c)
        if is_math:
            math.append(latex)
            continue
        if math:
            out.append("$" + _join_math(math) + "$")
            math = []
        out.append(latex)
    if math:
        out.append("$" + _join_math(math) + "$")
    return "".join(out)


_SCRIPT = re.compile(r"([\^_])\{([^{}]*)\}")


def _join_math(pieces: list[str]) -> str:
    """Math in a row: runs of superscripts (or subscripts) become one group (⁻¹ is ^{-1}, not ^{-}^{1}),
    and a space separates a command word from a following letter."""
    merged: list[str] = []
    for piece in pieces:
        script = _SCRIPT.fullmatch(piece)
        previous = _SCRIPT.fullmatch(merged[-1]) if merged else None
        if script and previous and script.group(1) == previous.group(1):
            merged[-1] = f"{script.group(1)}{{{previous.group(2)}{script.group(2)}}}"
        else:
            merged.append(piece)
    text = ""
    for piece in merged:
        if text and text[-1].isalpha() and piece[0].isalpha():
            text += " "
        text += piece
    return text


# ----------------------------------------------------------------------------- instructor LaTeX in statements

MATH_COMMANDS = frozenset("""
alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi varpi rho varrho
sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega
frac dfrac tfrac sqrt cdot cdots ldots dots vdots ddots times div pm mp le leq ge geq ne neq approx sim simeq equiv
propto infty partial nabla sum prod int oint lim limsup liminf max min sup inf arg argmax argmin log ln lg exp sin
cos tan sinh cosh tanh arcsin arccos arctan sec csc cot det dim ker Pr left right big Big bigg Bigg bigl bigr
Bigl Bigr mathbf mathrm mathit mathcal mathbb mathsf boldsymbol bm text textrm textbf textit operatorname hat
bar tilde vec dot ddot widehat widetilde overline underline overbrace underbrace in notin subset subseteq supset
cup cap setminus emptyset forall exists neg land lor to rightarrow leftarrow Rightarrow Leftarrow leftrightarrow
mapsto implies iff mid parallel perp circ odot otimes oplus langle rangle lceil rceil lfloor rfloor lvert rvert
lVert rVert quad qquad top intercal ell binom tbinom dbinom displaystyle textstyle colon prime star ast bullet
""".split())
_COMMAND = re.compile(r"\\([A-Za-z]+)|\\(.)", re.DOTALL)


def tex_with_math(text) -> str:
    """A statement or prompt as LaTeX: its $...$ segments stay math (the instructor's formulas typeset), with
    only known math commands kept (\\input, \\write, \\def, \\catcode, ... and ^^ escapes are neutralised, and a
    segment with unbalanced braces is escaped as text); everything else is escaped as text by tex()."""
    from examcheck.math_spans import math_spans

    text = str(text)
    out, last = [], 0
    for start, end in math_spans(text):
        out.append(tex(text[last:start].replace("\\$", "$")))
        out.append(_math_segment(text[start:end]))
        last = end
    out.append(tex(text[last:].replace("\\$", "$")))
    return "".join(out)


def _math_segment(segment: str) -> str:
    delim = "$$" if segment.startswith("$$") else "$"
    body = segment[len(delim):-len(delim)]
    depth = 0
    for c in re.sub(r"\\.", "", body):
        depth += {"{": 1, "}": -1}.get(c, 0)
        if depth < 0:
            break
    if depth != 0 or not body.strip():
        return tex(segment)

    def command(match: re.Match) -> str:
        name, symbol = match.group(1), match.group(2)
        if name is not None:
            return match.group(0) if name in MATH_COMMANDS else r"\backslash\mathrm{" + name + "}"
        if symbol in ",;:! {}|_%#&$":
            return match.group(0)
        return r"\backslash{}"

    safe = _COMMAND.sub(command, body)
    safe = re.sub(r"(?<!\\)([%#&])", r"\\\1", safe).replace("^^", "^{}^").replace("~", r"\sim ")
    safe = re.sub(r"\s*\n\s*", " ", safe)
    safe = "".join(c if 32 <= ord(c) < 127 else _math_char(c) for c in safe)
    return "$" + safe + "$"


def _math_char(c: str) -> str:
    is_math, latex = _piece(c)
    return latex if is_math else r"\text{" + latex + "}"
