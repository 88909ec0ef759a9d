"""Text normalisation before tokenising: one ASCII/LaTeX spelling for Unicode math.

- digits of every script (Arabic-Indic, fullwidth, mathematical bold ...) become ASCII digits;
- superscript runs become ``^{...}`` (``10⁻⁴`` -> ``10^{-4}``, ``x²¹`` -> ``x^{21}``), subscript runs
  ``_{...}`` (``β₂`` -> ``\\beta_{2}``);
- Greek letters become LaTeX commands (``σ`` -> ``\\sigma``), with the lunate/variant forms read as
  their plain letter (ϵ -> \\epsilon);
- thin, narrow and no-break spaces become ``\\,`` (a digit-group separator between digit groups);
- minus signs, multiplication signs, brackets ⟨⟩ ⌊⌋ ⌈⌉, ≤ ≥ ≠, primes and vulgar fractions get their
  ASCII/LaTeX spelling; other compatibility characters (mathematical italic letters, fullwidth
  forms) are NFKC-normalised.
"""

from __future__ import annotations

import re
import unicodedata

GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ϵ": "epsilon", "ζ": "zeta",
    "η": "eta", "θ": "theta", "ϑ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "µ": "mu",
    "ν": "nu", "ξ": "xi", "ο": "omicron", "π": "pi", "ρ": "rho", "ϱ": "rho", "σ": "sigma", "ς": "sigma",
    "τ": "tau", "υ": "upsilon", "φ": "phi", "ϕ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega",
    "Γ": "Gamma", "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda", "Ξ": "Xi", "Π": "Pi", "Σ": "Sigma",
    "Υ": "Upsilon", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega", "ℓ": "ell",
}

SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵀ", "0123456789+-=()niT"))
SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜᵢⱼᵣᵤᵥ", "0123456789+-=()aeoxhklmnpstijruv"))

REPLACEMENTS = {
    "·": "*", "×": "*", "⋅": "*", "∗": "*", "✕": "*", "−": "-", "–": "-", "—": "-", "‐": "-", "‑": "-",
    "÷": "/", "⁄": "/", "∕": "/", "√": " sqrt ", "∛": "\\sqrt[3]", "∜": "\\sqrt[4]", "±": "\\pm ", "∓": "\\mp ", "∞": "\\infty ",
    "≤": "<=", "⩽": "<=", "≥": ">=", "⩾": ">=", "≠": "!=", "′": "'", "″": "''", "‴": "'''", "’": "'",
    "∑": "\\sum", "∏": "\\prod", "（": "(", "）": ")", "，": ",", "；": ";",
    "⟨": "\\langle ", "⟩": "\\rangle ", "〈": "\\langle ", "〉": "\\rangle ",
    "⌊": "\\lfloor ", "⌋": "\\rfloor ", "⌈": "\\lceil ", "⌉": "\\rceil ",
    "∣": "|", "∈": "\\in ", "∧": " and ", "∨": " or ", "…": "...", "⋯": "...", "∅": "\\emptyset ", "٫": ".", "٬": ",",
    "𝟙": "\\mathbb{1}", "ℝ": "\\mathbb{R}", "ℕ": "\\mathbb{N}", "ℤ": "\\mathbb{Z}",
    "\u00a0": "\\,", "\u2009": "\\,", "\u202f": "\\,", "\u2007": "\\,", "\u2008": "\\,", "\u205f": "\\,",
    "\u2002": " ", "\u2003": " ", "\u3000": " ", "\u200b": "", "\u2060": "", "\ufeff": "",
}
COMBINING = {"\u0302": "hat", "\u0304": "bar", "\u0303": "tilde", "\u0307": "dot", "\u0305": "bar"}
_VULGAR = re.compile("[\u00bc-\u00be\u2150-\u215e]")


def _script(c: str) -> tuple[str, str] | None:
    """('^', 't') for a superscript or modifier letter (ᵗ), ('_', '2') for a subscript (₂); else None."""
    if c in SUPERSCRIPTS:
        return "^", SUPERSCRIPTS[c]
    if c in SUBSCRIPTS:
        return "_", SUBSCRIPTS[c]
    name = unicodedata.name(c, "")
    base = unicodedata.normalize("NFKC", c)
    if len(base) != 1 or not base.isascii() or not base.isalnum():
        if base in GREEK and ("SUBSCRIPT" in name or "MODIFIER" in name):
            return ("_" if "SUBSCRIPT" in name else "^"), "\\" + GREEK[base] + " "
        return None
    if "SUPERSCRIPT" in name or name.startswith("MODIFIER LETTER"):
        return "^", base
    if "SUBSCRIPT" in name:
        return "_", base
    return None


def _digit(c: str) -> str | None:
    if c.isascii():
        return None
    value = unicodedata.decimal(c, None)
    return str(value) if value is not None else None


def unicode_to_ascii(text: str) -> str:
    """The character-level part of normalisation (see the module docstring)."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFC", text)
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        script = _script(c) if not c.isascii() else None
        if script is not None:
            mark, pieces = script[0], []
            j = i
            while j < n and (nxt := _script(text[j]) if not text[j].isascii() else None) is not None and nxt[0] == mark:
                pieces.append(nxt[1])
                j += 1
            out.append(mark + "{" + "".join(pieces) + "}")
            i = j
            continue
        if c == "Σ" and re.match(r"\s*[_^]", text[i + 1:i + 4]):
            out.append("\\sum")  # Σ_{i=1}^n: the summation sign written with the Greek capital
            i += 1
            continue
        if c in GREEK:
            nxt = text[i + 1:i + 2]
            out.append("\\" + GREEK[c] + (" " if nxt.isascii() and nxt.isalnum() else ""))
        elif c in REPLACEMENTS:
            out.append(REPLACEMENTS[c])
        elif (d := _digit(c)) is not None:
            out.append(d)
        elif _VULGAR.match(c):
            num, _, den = unicodedata.normalize("NFKC", c).partition("\u2044")
            out.append(f"({num}/{den})")
        else:
            decomposed = unicodedata.normalize("NFD", c)
            if len(decomposed) == 2 and decomposed[0].isascii() and decomposed[1] in COMBINING:
                out.append(f"\\{COMBINING[decomposed[1]]}{{{decomposed[0]}}}")
            elif len(decomposed) > 1 and decomposed[0].isascii() and decomposed[0].isalpha():
                out.append(decomposed[0])  # an accent we do not read as notation: the letter
            else:
                compat = unicodedata.normalize("NFKC", c)
                if compat != c and compat.isascii():
                    out.append(compat)
                elif compat != c and compat in GREEK:
                    out.append("\\" + GREEK[compat] + " ")
                else:
                    out.append(c)
        i += 1
    return "".join(out)


_PRIMES = re.compile(r"\^\s*\{\s*((?:\\prime\s*|')+)\s*\}|\^\s*\\prime(?![A-Za-z])")


def primes(text: str) -> str:
    """f^{\\prime}(x), f^{\\prime\\prime}, f^\\prime -> f'(x), f''."""
    def repl(m: re.Match) -> str:
        if m.group(1) is None:
            return "'"
        return "'" * (m.group(1).count("\\prime") + m.group(1).count("'"))

    return _PRIMES.sub(repl, text)


def strip_math_delimiters(text: str) -> str:
    text = text.strip()
    for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if len(text) >= len(left) + len(right) and text.startswith(left) and text.endswith(right):
            text = text[len(left):len(text) - len(right)].strip()
            break
    if text.startswith("\\boxed{") and text.endswith("}"):
        text = text[len("\\boxed{"):-1].strip()
    if text.endswith((".", ";")) and not text.endswith(("..", "\\;")) and not re.search(r"\d\.$", text):
        text = text[:-1].rstrip()
    return text


def normalise(text: str) -> str:
    return primes(unicode_to_ascii(strip_math_delimiters(text)))
