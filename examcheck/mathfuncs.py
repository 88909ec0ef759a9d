"""SymPy functions that examcheck adds: the logistic sigmoid."""

from __future__ import annotations

import sympy as sp


class sigma(sp.Function):  # noqa: N801 - printed as the math name
    """The logistic function 1/(1+e^{-z}), kept as a named function so that
    derivatives stay readable (sigma' = sigma (1 - sigma))."""

    nargs = 1

    @classmethod
    def eval(cls, arg):
        if arg.is_zero:
            return sp.S.Half
        if arg is sp.oo:
            return sp.S.One
        if arg is sp.S.NegativeInfinity:
            return sp.S.Zero
        return None

    def fdiff(self, argindex=1):
        return self * (1 - self)

    def _eval_rewrite_as_exp(self, arg, **kwargs):
        return 1 / (1 + sp.exp(-arg))

    def _eval_evalf(self, prec):
        return (1 / (1 + sp.exp(-self.args[0])))._eval_evalf(prec)

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        return True if self.args[0].is_real else None

    def _latex(self, printer):
        inner = printer._print(self.args[0])
        return rf"\sigma\left({inner}\right)"


def expand_sigma(expr: sp.Basic) -> sp.Basic:
    """Replace sigma(x) by 1/(1+exp(-x)) everywhere."""
    return expr.replace(sigma, lambda a: 1 / (1 + sp.exp(-a)))
