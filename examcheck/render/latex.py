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
