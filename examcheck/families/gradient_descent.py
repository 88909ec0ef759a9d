"""Gradient descent (optionally with momentum) on a function of several
variables: iterates, gradients, the true minimiser and distances to it."""

from __future__ import annotations

import sympy as sp

from examcheck.families import (
    NUMBER_VALUE,
    Conventions,
    Family,
    FamilyError,
    GivenError,
    Result,
    Solution,
    Step,
    Variant,
    register,
)
from examcheck.parsing import ParseError
from examcheck.values import exact, expression, show

MAX_STEPS = 10_000


def real_eigenvalues(matrix: sp.Matrix) -> list:
    """Eigenvalues of a real symmetric matrix: exact when SymPy writes them without i (cubic roots are
    often written with complex radicals), else 30-digit decimals of their real parts.  Sorted."""
    values = []
    for e in matrix.eigenvals(multiple=True):
        exact_form = sp.nsimplify(e) if not e.has(sp.I) else sp.simplify(e)
        if exact_form.has(sp.I) or not exact_form.is_real:
            exact_form = sp.Float(sp.re(sp.N(e, 40)), 30)
        values.append(exact_form)
    return sorted(values, key=lambda v: float(v))


@register
class GradientDescent(Family):
    name = "gradient_descent"
    summary = "gradient-descent iterates, the true minimiser, distances, and step-size stability"
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["f", "variables", "start", "step_size"],
        "properties": {
            "f": {"type": "string", "description": "the function to minimise"},
            "variables": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "start": {"type": "array", "items": NUMBER_VALUE, "minItems": 1},
            "step_size": NUMBER_VALUE,
            "steps": {"type": "integer", "minimum": 0, "maximum": MAX_STEPS},
            "momentum": {**NUMBER_VALUE, "description": "heavy-ball β: v ← βv − s∇f; x ← x + v"},
        },
    }

    results = (
        Result("gradient", "vector", "∇f as expressions in the variables"),
        Result("gradient_at_start", "vector", "∇f at the start point x_0"),
        Result("iterates", "matrix", "x_0, x_1, …, x_steps: the start point first, so steps + 1 rows"),
        Result("gradients", "matrix", "∇f at x_0, …, x_steps (steps + 1 rows)"),
        Result("point", "vector", "x_steps, the point after the last step"),
        Result("f_at_point", "expression", "f(x_steps)"),
        Result("minimiser", "vector", "a critical point of f (a minimum if there is one)"),
        Result("critical_point_type", "choice", "minimum, maximum, saddle or degenerate"),
        Result("hessian_eigenvalues", "vector", "eigenvalues of the Hessian at the critical point"),
        Result("minimum_value", "expression", "f at the critical point"),
        Result("distances", "vector", "‖x_k − x*‖ for k = 0 … steps"),
        Result("distance", "expression", "‖x_steps − x*‖"),
        Result("max_stable_step", "expression", "2/λ_max for a quadratic f without momentum"),
        Result("diverges", "boolean", "the step size is at least 2/λ_max"),
    )
    example = {"f": "x^2 + 3*y^2", "variables": ["x", "y"], "start": [1, 1], "step_size": 0.1, "steps": 2}
    notes = ("`iterates` and `gradients` include the start point: iterates[0] = start, iterates[k] = x_k, "
             "so they have steps + 1 entries; `point` is the last one.")

    def check_given(self, given: dict) -> list[GivenError]:
        names = given.get("variables", [])
        errors = [GivenError(("variables", i), f"{n!r} is not a variable name")
                  for i, n in enumerate(names) if not str(n).isidentifier()]
        if len(set(names)) != len(names):
            errors.append(GivenError(("variables",), "a variable is named twice"))
        if errors:
            return errors
        if "f" in given:
            try:
                expression(given["f"], {n: sp.Symbol(n, real=True) for n in names})
            except (ParseError, ValueError, TypeError) as exc:
                errors.append(GivenError(("f",), f"cannot read f = {given['f']!r}: {exc}"))
        if "start" in given and len(given["start"]) != len(names):
            errors.append(GivenError(("start",), f"start has {len(given['start'])} values for {len(names)} variable(s)"))
        return errors

    def solve(self, given: dict, conventions: Conventions) -> Solution:
        names = given["variables"]
        symbols = {n: sp.Symbol(n, real=True) for n in names}
        xs = [symbols[n] for n in names]
        f = expression(given["f"], symbols)
        start = [exact(v) for v in given["start"]]
        if len(start) != len(xs):
            raise FamilyError("start must have one value per variable")
        step, beta = exact(given["step_size"]), exact(given.get("momentum", 0))
        n_steps = given.get("steps", 1)
        gradient = [sp.diff(f, x) for x in xs]
        steps = [Step("gradient", f"∇f = ({', '.join(show(g) for g in gradient)})")]
        iterates, gradients = self._iterate(gradient, xs, start, step, beta, n_steps, steps)
        results = {
            "gradient": gradient,
            "gradient_at_start": gradients[0],
            "iterates": iterates,
            "gradients": gradients,
            "point": iterates[-1],
            "f_at_point": f.subs(dict(zip(xs, iterates[-1]))),
        }
        self._minimiser(f, xs, iterates, results, steps)
        self._stability(f, xs, step, beta, results, steps)
        return Solution(results, steps)

    def variants(self, given: dict) -> list[Variant]:
        step = given["step_size"]
        flipped = -exact(step)
        return [Variant({**given, "step_size": str(flipped)},
                        "you stepped along the gradient (ascent); descent subtracts s·∇f")]

    def _iterate(self, gradient, xs, start, step, beta, n_steps, steps):
        point, velocity = list(start), [sp.Integer(0)] * len(xs)
        iterates, gradients = [point], []
        for k in range(n_steps + 1):
            g = [sp.expand(gi.subs(dict(zip(xs, point)))) for gi in gradient]
            gradients.append(g)
            if k == n_steps:
                break
            velocity = [beta * v - step * gi for v, gi in zip(velocity, g)]
            new = [sp.expand(p + v) for p, v in zip(point, velocity)]
            if any(sp.Abs(c).evalf() > 1e100 for c in new):
                raise FamilyError("the iterates blow up (|x| > 1e100)")
            steps.append(Step(f"step {k + 1}", f"∇f({show(point)}) = {show(g)}; "
                                               f"x_{k + 1} = {show(point)} − {show(step)}·{show(g)}"
                                               f"{' + momentum' if beta else ''} = {show(new)}"))
            point = new
            iterates.append(point)
        return iterates, gradients

    def _minimiser(self, f, xs, iterates, results, steps):
        try:
            critical = sp.solve([sp.diff(f, x) for x in xs], xs, dict=True)
        except (NotImplementedError, ValueError):
            critical = []
        hessian = sp.hessian(f, xs)
        for point in critical:
            if len(point) != len(xs) or any(not v.is_real for v in point.values()):
                continue
            h = hessian.subs(point)
            eigen = real_eigenvalues(h)
            kind = ("minimum" if all(e > 0 for e in eigen) else
                    "maximum" if all(e < 0 for e in eigen) else
                    "saddle" if any(e > 0 for e in eigen) and any(e < 0 for e in eigen) else "degenerate")
            if kind != "minimum" and "minimiser" in results:
                continue
            where = [point[x] for x in xs]
            results.update(minimiser=where, critical_point_type=kind, hessian_eigenvalues=eigen,
                           minimum_value=f.subs(point))
            distances = [sp.sqrt(sum((c - m) ** 2 for c, m in zip(it, where))) for it in iterates]
            results["distances"] = distances
            results["distance"] = distances[-1]
            steps.append(Step("critical point", f"∇f = 0 at {show(where)}; Hessian eigenvalues "
                                                f"{show(eigen)} ⇒ {kind}"))
            steps.append(Step("distance to the minimiser", f"‖x − x*‖ = {show(distances[-1])}"))
            if kind == "minimum":
                break

    def _stability(self, f, xs, step, beta, results, steps):
        poly = sp.Poly(sp.expand(f), *xs) if f.is_polynomial(*xs) else None
        if poly is None or poly.total_degree() != 2 or beta != 0:
            return
        eigen = real_eigenvalues(sp.hessian(f, xs))
        largest = max(eigen, key=lambda e: float(e))
        if largest <= 0:
            return
        bound = sp.simplify(2 / largest)
        results["max_stable_step"] = bound
        results["diverges"] = bool(step >= bound)
        steps.append(Step("stability (quadratic)", f"converges iff s < 2/λ_max = {show(bound)}; "
                                                   f"s = {show(step)} {'diverges' if step >= bound else 'converges'}"))
