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
            return log_of(args[0], args[1])
        return log_of(args[0]) if base is None else log_of(args[0], base)

    return build


def _relu(args):
    return sp.Max(0, args[0])


def exp_of(arg):
    """exp(arg), kept as written when arg is a log: exp(log x) is not x (that hides log's domain)."""
    if isinstance(arg, sp.log):
        return sp.exp(arg, evaluate=False)
    return sp.exp(arg)


def log_of(arg, base=None):
    """log(arg[, base]), kept as written when arg is an exponential: log(exp x) stays log(exp x)."""
    keep = isinstance(arg, sp.exp) or (isinstance(arg, sp.Pow) and arg.base == sp.E)
    if base is None:
        return sp.log(arg, evaluate=False) if keep else sp.log(arg)
    if keep:
        return sp.Mul(sp.log(arg, evaluate=False), sp.Pow(sp.log(base), -1), evaluate=False)
    return sp.log(arg, base)


def nth_root(value, index):
    """The index-th root.  An odd root is the real root (∛-8 = -2, ∛(x^3) = x on the reals), built as
    sign(a)·|a|^(1/n); an even root is kept as written over a power: sqrt(x^2) is not x."""
    index = sp.Integer(index) if isinstance(index, int) else index
    if index.is_Integer and index.is_odd and index > 1 and not value.is_nonnegative:
        return sp.sign(value) * sp.Pow(sp.Abs(value), 1 / index)
    if isinstance(value, (sp.Pow, sp.exp)):
        return sp.Pow(value, 1 / index, evaluate=False)
    return sp.Pow(value, 1 / index)


def softplus(x):
    """softplus(x) = log(1 + e^x), built from standard SymPy heads."""
    return sp.log(1 + sp.exp(x))


def logit(x):
    """logit(x) = log(x / (1 - x)), the inverse of the sigmoid."""
    return sp.log(x / (1 - x))


def clip(x, low, high):
    """clip(x, a, b) = min(max(x, a), b)."""
    return sp.Min(sp.Max(x, low), high)


def gelu(x):
    """The exact GELU: x·Φ(x) = x (1 + erf(x/√2)) / 2."""
    return x * (1 + sp.erf(x / sp.sqrt(2))) / 2


def normal_cdf(x):
    return (1 + sp.erf(x / sp.sqrt(2))) / 2


def _one(fn):
    return (1, 1, lambda a: fn(a[0]))


def nearest_integer(value: sp.Float) -> sp.Integer:
    return sp.floor(value + sp.Rational(1, 2))


def _written_integer(x: sp.Expr) -> bool:
    """An integer written as arithmetic the parser kept as written (sqrt(2)^2): its operations carried out."""
    if x.has(sp.Sum, sp.Product, sp.Integral, sp.Derivative):
        return False
    return x.doit().is_Integer


EXACT_DIGITS_MAX = 5000  # floor/ceiling of a constant is computed exactly up to this many digits


def integer_part(func):
    """floor or ceiling (func), computed exactly when its argument is a real constant.  SymPy leaves
    floor(2^999.5) unevaluated, and whether a later step then fails with PrecisionExhausted depends on the
    order its assumptions are asked in, which depends on the process's hash seed: a verdict that changed
    from run to run.  Here the integer is found at enough precision (its digits + 30; + 130 or + 1000
    when the value is that close to an integer), or the answer is too complex, the same every time."""

    def build(x):
        if not isinstance(x, sp.Expr) or not x.is_number or x.is_Rational:
            return func(x)
        from examcheck.parsing.errors import TooComplex

        estimate = x.evalf(15)
        if not (estimate.is_Float and estimate.is_finite):
            return func(x)  # not a real number: left to SymPy (and refused later as complex)
        digits = 1 + max(0, int(sp.log(abs(estimate), 10))) if estimate else 1
        if digits > EXACT_DIGITS_MAX:
            raise TooComplex(f"{func.__name__} of a number of {digits} digits")
        for margin in (30, 130, 1000):
            value = x.evalf(digits + margin)
            below = sp.floor(value)
            distance = min(value - below, below + 1 - value)
            if distance > sp.Float(10) ** -(margin // 2):
                return sp.Integer(int(func(value)))
        if x.is_integer or _written_integer(x):
            return sp.Integer(int(nearest_integer(value)))
        raise TooComplex(f"{func.__name__} of a number within 10^-500 of an integer (give the integer)")

    return build


FUNCTIONS: dict[str, tuple[int, int, object]] = {
    # name: (min args, max args, builder)
    "sigma": _one(sigma), "sigmoid": _one(sigma), "sigm": _one(sigma),
    "exp": _one(exp_of),
    "ln": _one(log_of),
    "log10": _one(lambda x: log_of(x, 10)),
    "log2": _one(lambda x: log_of(x, 2)),
    "lb": _one(lambda x: log_of(x, 2)),
    "log1p": _one(lambda x: log_of(1 + x)),
    "sqrt": _one(lambda x: nth_root(x, 2)),
    "tanh": _one(sp.tanh), "sinh": _one(sp.sinh), "cosh": _one(sp.cosh), "sech": _one(sp.sech),
    "csch": _one(sp.csch), "coth": _one(sp.coth),
    "sin": _one(sp.sin), "cos": _one(sp.cos), "tan": _one(sp.tan),
    "sec": _one(sp.sec), "csc": _one(sp.csc), "cot": _one(sp.cot),
    "arcsin": _one(sp.asin), "asin": _one(sp.asin), "arccos": _one(sp.acos), "acos": _one(sp.acos),
    "arctan": _one(sp.atan), "atan": _one(sp.atan),
    "arsinh": _one(sp.asinh), "arcsinh": _one(sp.asinh), "asinh": _one(sp.asinh),
    "arcosh": _one(sp.acosh), "arccosh": _one(sp.acosh), "acosh": _one(sp.acosh),
    "artanh": _one(sp.atanh), "arctanh": _one(sp.atanh), "atanh": _one(sp.atanh),
    "erf": _one(sp.erf), "erfc": _one(sp.erfc), "erfinv": _one(sp.erfinv),
    "softplus_inv": _one(lambda y: log_of(sp.exp(y) - 1)),
    "softplus": _one(softplus), "logit": _one(logit),
    "gelu": _one(gelu), "GELU": _one(gelu), "Phi": _one(normal_cdf),
    "silu": _one(lambda x: x * sigma(x)), "swish": _one(lambda x: x * sigma(x)), "SiLU": _one(lambda x: x * sigma(x)),
    "softsign": _one(lambda x: x / (1 + sp.Abs(x))),
    "relu": (1, 1, _relu), "ReLU": (1, 1, _relu), "Relu": (1, 1, _relu),
    "clip": (3, 3, lambda a: clip(*a)), "clamp": (3, 3, lambda a: clip(*a)),
    "hardtanh": _one(lambda x: clip(x, -1, 1)), "Hardtanh": _one(lambda x: clip(x, -1, 1)),
    "relu6": _one(lambda x: clip(x, 0, 6)), "ReLU6": _one(lambda x: clip(x, 0, 6)),
    "hardsigmoid": _one(lambda x: clip(x / 6 + sp.Rational(1, 2), 0, 1)),
    "hardswish": _one(lambda x: x * clip(x / 6 + sp.Rational(1, 2), 0, 1)),
    "cbrt": _one(lambda x: nth_root(x, 3)),
    "binom": (2, 2, lambda a: sp.binomial(a[0], a[1])), "binomial": (2, 2, lambda a: sp.binomial(a[0], a[1])),
    "max": (2, 16, lambda a: sp.Max(*a)),
    "min": (2, 16, lambda a: sp.Min(*a)),
    "abs": _one(sp.Abs),
    "floor": _one(integer_part(sp.floor)),
    "ceil": _one(integer_part(sp.ceiling)),
    "ceiling": _one(integer_part(sp.ceiling)),
    "sign": _one(sp.sign),
    "sgn": _one(sp.sign),
    "Heaviside": _one(sp.Heaviside), "heaviside": _one(sp.Heaviside), "step": _one(sp.Heaviside),
    "H": _one(sp.Heaviside),  # H(x): the Heaviside step, unless the part declares a variable H
}
# f^{-1}: the inverse function, never a reciprocal
INVERSES = {
    "sin": "asin", "cos": "acos", "tan": "atan", "sinh": "asinh", "cosh": "acosh", "tanh": "atanh",
    "sigma": "logit", "sigmoid": "logit", "exp": "ln", "logit": "sigma", "asin": "sin", "acos": "cos",
    "atan": "tan", "asinh": "sinh", "acosh": "cosh", "atanh": "tanh", "arcsin": "sin", "arccos": "cos",
    "arctan": "tan", "arsinh": "sinh", "arcsinh": "sinh", "artanh": "tanh", "arctanh": "tanh", "ln": "exp",
    "softplus": "softplus_inv", "erf": "erfinv", "erfinv": "erf",
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
