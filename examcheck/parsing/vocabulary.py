"""The names a part accepts: its variables, given values, the whitelisted functions and
constants, and how it reads log."""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from examcheck.mathfuncs import sigma


def canonical_name(base: str, sub: str = "", sup: str = "") -> str:
    """One spelling for a (possibly sub- or superscripted) name: x_{i} -> x_i."""
    name = base
    if sup:
        name += f"^({sup})"
    if sub:
        name += f"_{sub}"
    return name



def _log(base):
    def build(args):
        if len(args) == 2:
            return sp.log(args[0], args[1])
        return sp.log(args[0]) if base is None else sp.log(args[0], base)

    return build


def _relu(args):
    return sp.Max(0, args[0])


FUNCTIONS: dict[str, tuple[int, int, object]] = {
    # name: (min args, max args, builder)
    "sigma": (1, 1, lambda a: sigma(a[0])),
    "sigmoid": (1, 1, lambda a: sigma(a[0])),
    "exp": (1, 1, lambda a: sp.exp(a[0])),
    "ln": (1, 1, lambda a: sp.log(a[0])),
    "log10": (1, 1, lambda a: sp.log(a[0], 10)),
    "log2": (1, 1, lambda a: sp.log(a[0], 2)),
    "sqrt": (1, 1, lambda a: sp.sqrt(a[0])),
    "tanh": (1, 1, lambda a: sp.tanh(a[0])),
    "sinh": (1, 1, lambda a: sp.sinh(a[0])),
    "cosh": (1, 1, lambda a: sp.cosh(a[0])),
    "sech": (1, 1, lambda a: sp.sech(a[0])),
    "sin": (1, 1, lambda a: sp.sin(a[0])),
    "cos": (1, 1, lambda a: sp.cos(a[0])),
    "tan": (1, 1, lambda a: sp.tan(a[0])),
    "relu": (1, 1, _relu),
    "ReLU": (1, 1, _relu),
    "max": (2, 16, lambda a: sp.Max(*a)),
    "min": (2, 16, lambda a: sp.Min(*a)),
    "abs": (1, 1, lambda a: sp.Abs(a[0])),
    "floor": (1, 1, lambda a: sp.floor(a[0])),
    "ceil": (1, 1, lambda a: sp.ceiling(a[0])),
    "ceiling": (1, 1, lambda a: sp.ceiling(a[0])),
    "sign": (1, 1, lambda a: sp.sign(a[0])),
    "sgn": (1, 1, lambda a: sp.sign(a[0])),
    "Heaviside": (1, 1, lambda a: sp.Heaviside(a[0])),
}
LOG_NAMES = {"log", "lg"}
CONSTANTS = {"e": sp.E, "pi": sp.pi, "oo": sp.oo, "inf": sp.oo, "infty": sp.oo}


@dataclass(frozen=True)
class Vocabulary:
    """The names one part accepts, and how it reads ``log``."""

    symbols: dict[str, sp.Symbol] = field(default_factory=dict)
    values: dict[str, sp.Expr] = field(default_factory=dict)
    log_base: int | None = None
    functions: frozenset[str] = frozenset()  # unknown functions such as an activation h

    def lookup(self, name: str):
        if name in self.symbols:
            return self.symbols[name]
        if name in self.values:
            return self.values[name]
        if name in CONSTANTS:
            return CONSTANTS[name]
        return None

    def is_function(self, name: str) -> bool:
        if name in self.functions:
            return True
        return (name in FUNCTIONS or name in LOG_NAMES) and name not in self.symbols

    def describe(self) -> str:
        names = sorted(self.symbols) + [f"{f}(·)" for f in sorted(self.functions)]
        return ", ".join(names) if names else "none (numbers only)"
