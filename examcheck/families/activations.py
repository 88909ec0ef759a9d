"""Activation functions: derivatives, one-sided derivatives, limits, the
sigmoid identities, and the gradient of a single sigmoid neuron."""

from __future__ import annotations

import sympy as sp

from examcheck.families import NUMBER_VALUE, Conventions, Family, FamilyError, GivenError, Result, Solution, Step, register
from examcheck.families.helpers import branch_near, one_sided, one_sided_second
from examcheck.mathfuncs import expand_sigma, sigma
from examcheck.numeval import evaluate
from examcheck.parsing import ParseError
from examcheck.values import exact, expression, show

STANDARD = {
    "sigmoid": lambda z, beta: sigma(z),
    "tanh": lambda z, beta: sp.tanh(z),
    "relu": lambda z, beta: sp.Max(0, z),
    "swish": lambda z, beta: z * sigma(beta * z),
    "softplus": lambda z, beta: sp.log(1 + sp.exp(z)),
}


def _limit_or_none(expr, var, point, direction="+-"):
    for form in (expr, expr.rewrite(sp.Piecewise)):
        try:
            value = sp.limit(form, var, point, direction)
        except (NotImplementedError, ValueError, TypeError):
            continue
        if not value.has(sp.Limit, sp.Max, sp.Min, sp.Piecewise):
            return value
    return None


def _golden_max(expr, name: str, low: float, high: float) -> float:
    """The largest value of expr on [low, high] (unimodal there), by golden-section search."""
    ratio = (5 ** 0.5 - 1) / 2

    def value(x: float) -> float:
        return evaluate(expr, {name: x}) or float("-inf")

    a, b = low, high
    for _ in range(80):
        c, d = b - ratio * (b - a), a + ratio * (b - a)
        if value(c) >= value(d):
            b = d
        else:
            a = c
    return value((a + b) / 2)


def _real_log_form(expr):
    """SymPy solves 1/(1+e^-z) = u as log(u) - log(u - 1) + iπ; write it log(u/(1-u))."""
    inside = sp.simplify(sp.exp(expr))
    if not inside.has(sp.I) and not inside.has(sp.exp):
        return sp.log(sp.factor(inside))
    return sp.simplify(expr)


PARAMETER_DOMAINS = {"real": {"real": True}, "positive": {"positive": True}, "negative": {"negative": True},
                     "nonnegative": {"nonnegative": True}, "nonpositive": {"nonpositive": True}}


def _parameters(given: dict) -> tuple[dict, dict]:
    """(symbols, values) of the constants a definition may use besides its variable and β."""
    symbols, values = {}, {}
    for name, spec in given.get("parameters", {}).items():
        if isinstance(spec, str) and spec in PARAMETER_DOMAINS:
            symbols[name] = sp.Symbol(name, **PARAMETER_DOMAINS[spec])
        else:
            symbols[name] = sp.Symbol(name, real=True)
            values[symbols[name]] = exact(spec)
    return symbols, values


@register
class Activation(Family):
    name = "activation"
    summary = "an activation function: derivative, one-sided derivatives, limits, identities"
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "function": {"enum": sorted(STANDARD)},
            "definition": {"type": "string", "description": "the function as written, in the variable"},
            "variable": {"type": "string"},
            "at": {**NUMBER_VALUE, "description": "a point for values and one-sided derivatives"},
            "identities": {"type": "boolean", "description": "check f(-z) = 1 - f(z) and the inverse"},
            "beta": {**NUMBER_VALUE, "description": "a value for β (swish); without it β stays a symbol"},
            "shape": {"type": "boolean", "description": "monotonicity and the largest slope"},
            "inverse_claim": {"type": "string", "description": "a claimed inverse, in u"},
            "parameters": {
                "type": "object", "propertyNames": {"pattern": "^[A-Za-z][A-Za-z0-9_]*$"},
                "additionalProperties": {"anyOf": [{"enum": sorted(PARAMETER_DOMAINS)}, NUMBER_VALUE]},
                "description": "other constants in the definition: a value, or a domain (positive, real, ...) "
                               "to keep it a symbol, e.g. {alpha: positive}",
            },
        },
    }

    results = (
        Result("function", "expression", "f(z) as used (standard name or definition, β substituted when given)"),
        Result("derivative", "expression", "f'(z)"),
        Result("second_derivative", "expression", "f''(z)"),
        Result("derivative_in_f", "expression", "f'(z) written through f itself, e.g. σ(z)(1 − σ(z)), when possible"),
        Result("value_at", "expression", "f(at)"),
        Result("left_limit", "expression", "lim f(z) as z → at from the left (from the branch left of at)"),
        Result("right_limit", "expression", "lim f(z) as z → at from the right"),
        Result("continuous_at", "boolean", "f is continuous at `at`"),
        Result("left_derivative", "expression", "lim h→0⁺ (f(at) − f(at − h))/h, from the branch left of at"),
        Result("right_derivative", "expression", "lim h→0⁺ (f(at + h) − f(at))/h, from the branch right of at"),
        Result("differentiable_at", "boolean", "both one-sided derivatives exist, are finite and agree"),
        Result("derivative_at", "expression", "f'(at), only where f is differentiable at `at`"),
        Result("second_derivative_at", "expression", "f''(at), only where both sides' second derivatives agree"),
        Result("limit_beta_0", "expression", "lim f as β → 0⁺ (f containing β)"),
        Result("limit_beta_inf", "expression", "lim f as β → ∞ (f containing β)"),
        Result("reflection_identity", "boolean", "f(−z) = 1 − f(z) (with identities: true)"),
        Result("inverse", "expression", "f⁻¹(u) (with identities: true)"),
        Result("logit_is_inverse", "boolean", "the claimed inverse (default log(u/(1−u))) inverts f"),
        Result("f_of_claimed_inverse", "expression", "the claimed inverse applied to f(z)"),
        Result("monotonic", "boolean", "f is monotonic (with shape: true)"),
        Result("max_derivative", "number", "the largest slope of f (with shape: true)"),
    )
    example = {"definition": "max(0, z) + min(0, 2*(exp(z) - 1))", "at": 0}
    notes = ("One-sided derivatives and limits at `at` use the branch of max/min/abs/Piecewise that holds on "
             "each side of the point, not the one that holds at it.")

    def solve(self, given: dict, conventions: Conventions) -> Solution:
        name = given.get("variable", "z")
        z = sp.Symbol(name, real=True)
        beta = sp.Symbol("beta", positive=True)
        f = self._function(given, z, beta)
        if "beta" in given:
            f = f.subs(beta, exact(given["beta"]))
        steps = [Step("function", f"f({name}) = {show(f)}")]
        derivative = sp.factor(sp.diff(f, z)) if f.has(sigma) else sp.diff(f, z)
        results = {"function": f, "derivative": derivative, "second_derivative": sp.diff(f, z, 2)}
        steps.append(Step("differentiate", f"f'({name}) = {show(derivative)}"))
        in_f = self._in_terms_of_f(f, derivative, z)
        if in_f is not None:
            results["derivative_in_f"] = in_f
            steps.append(Step("in terms of f", f"f'({name}) = {show(in_f)}"))
        if "at" in given:
            self._at_point(f, z, exact(given["at"]), results, steps)
        if f.has(beta):
            self._beta_limits(f, z, beta, results, steps)
        if given.get("identities"):
            self._identities(f, z, given, results, steps)
        if given.get("shape"):
            self._shape(f.subs(beta, 1), z, results, steps)
        return Solution(results, steps)

    def _shape(self, f, z, results, steps):
        """Monotonic or not, and the largest slope: the derivative on a fine grid, refined,
        and written exactly when a small fraction fits (sigmoid: 1/4)."""
        slope = sp.diff(f, z)
        grid = [(evaluate(slope, {z.name: k / 8}), k / 8) for k in range(-120, 121)]
        values = [(v, x) for v, x in grid if v is not None]
        results["monotonic"] = all(v >= 0 for v, _ in values) or all(v <= 0 for v, _ in values)
        best, where = max(values, key=lambda t: t[0])
        peak = max(best, _golden_max(slope, z.name, where - 0.125, where + 0.125))
        fraction = sp.Rational(peak).limit_denominator(100)
        results["max_derivative"] = fraction if abs(float(fraction) - peak) < 1e-12 else sp.Float(peak, 15)
        steps.append(Step("shape", f"{'monotonic' if results['monotonic'] else 'not monotonic (the slope changes sign)'}"
                                   f"; largest slope {show(results['max_derivative'])}"))

    def check_given(self, given: dict) -> list[GivenError]:
        errors = []
        symbols, _ = _parameters(given)
        name = given.get("variable", "z")
        if name in symbols or name == "beta":
            errors.append(GivenError(("variable",), f"the variable {name!r} is also a parameter"))
        for key, names in (("definition", {name: sp.Symbol(name, real=True), "beta": sp.Symbol("beta"), **symbols}),
                           ("inverse_claim", {"u": sp.Symbol("u")})):
            if key in given:
                try:
                    expression(given[key], names)
                except (ParseError, ValueError, TypeError) as exc:
                    errors.append(GivenError((key,), f"cannot read {given[key]!r}: {exc}"))
        if "function" not in given and "definition" not in given:
            errors.append(GivenError((), "give either `function` or `definition`"))
        return errors

    def _function(self, given, z, beta):
        if "definition" in given:
            symbols, values = _parameters(given)
            return expression(given["definition"], {z.name: z, "beta": beta, **symbols}).subs(values)
        if "function" not in given:
            raise FamilyError("give either function or definition")
        return STANDARD[given["function"]](z, beta)

    def _in_terms_of_f(self, f, derivative, z):
        """Write f' through f itself, e.g. sigma' = sigma(1 - sigma)."""
        if f.has(sp.Max, sp.Min, sp.Abs, sp.sign, sp.Heaviside, sp.Piecewise) or f.is_polynomial(z) or len(f.free_symbols) > 1:
            return None
        u = sp.Symbol("u", positive=True)
        try:
            inverses = sp.solve(sp.Eq(expand_sigma(f), u), z)
        except (NotImplementedError, ValueError):
            return None
        if len(inverses) != 1:
            return None
        through_u = sp.factor(sp.simplify(expand_sigma(derivative).subs(z, inverses[0])))
        if through_u.free_symbols != {u} or through_u.has(sp.log, sp.LambertW, sp.I):
            return None
        name = f if isinstance(f, sp.Function) else sp.Symbol(f"f({z})")
        return through_u.subs(u, name)

    def _at_point(self, f, z, a, results, steps):
        """Values, one-sided limits and derivatives at a, each from the branch that applies on that side."""
        results["value_at"] = f.subs(z, a)
        left_branch, right_branch = branch_near(f, z, a, -1), branch_near(f, z, a, 1)
        left_limit, left = one_sided(f, z, a, -1, left_branch)
        right_limit, right = one_sided(f, z, a, 1, right_branch)
        for name, value in (("left_limit", left_limit), ("right_limit", right_limit),
                            ("left_derivative", left), ("right_derivative", right)):
            if value is not None:
                results[name] = value
        if left_limit is not None and right_limit is not None and not results["value_at"].has(sp.Piecewise):
            results["continuous_at"] = bool(sp.simplify(left_limit - results["value_at"]) == 0
                                            and sp.simplify(right_limit - results["value_at"]) == 0)
        if left is not None and right is not None:
            differentiable = bool(left.is_finite and right.is_finite and sp.simplify(left - right) == 0)
            results["differentiable_at"] = differentiable
            if differentiable:
                results["derivative_at"] = left
                second_left = one_sided_second(left_branch, z, a)
                second_right = one_sided_second(right_branch, z, a)
                if second_left is not None and second_right is not None and sp.simplify(second_left - second_right) == 0:
                    results["second_derivative_at"] = second_left
        steps.append(Step(f"one-sided derivatives at {a}",
                          f"left of {a} f = {show(left_branch)}, right of {a} f = {show(right_branch)}; "
                          f"left = lim h→0⁺ (f({a}) − f({a}−h))/h = {show(left)}; "
                          f"right = lim h→0⁺ (f({a}+h) − f({a}))/h = {show(right)}"))

    def _beta_limits(self, f, z, beta, results, steps):
        to_zero = _limit_or_none(f, beta, 0, "+")
        if to_zero is not None:
            results["limit_beta_0"] = sp.simplify(to_zero)
            steps.append(Step("β → 0", f"lim f = {show(results['limit_beta_0'])}"))
        zp, zn = sp.Symbol("zp", positive=True), sp.Symbol("zn", negative=True)
        pos = _limit_or_none(f.subs(z, zp), beta, sp.oo)
        neg = _limit_or_none(f.subs(z, zn), beta, sp.oo)
        if pos is not None and neg is not None:
            limit = sp.Piecewise((pos.subs(zp, z), z > 0), (neg.subs(zn, z), True))
            if sp.simplify(pos.subs(zp, z) - z) == 0 and neg == 0:
                limit = sp.Max(0, z)
            results["limit_beta_inf"] = limit
            steps.append(Step("β → ∞", f"z > 0: {show(pos.subs(zp, z))}; z < 0: {show(neg.subs(zn, z))}; "
                                       f"so the limit is {show(limit)}"))

    def _identities(self, f, z, given, results, steps):
        plain = expand_sigma(f)
        symmetric = sp.simplify(plain.subs(z, -z) - (1 - plain)) == 0
        results["reflection_identity"] = bool(symmetric)
        steps.append(Step("f(−z) = 1 − f(z)?", "holds" if symmetric else "does not hold"))
        u = sp.Symbol("u", positive=True)
        try:
            inverses = sp.solve(sp.Eq(plain, u), z)
        except (NotImplementedError, ValueError):
            inverses = []
        if len(inverses) == 1:
            inverse = _real_log_form(inverses[0])
            results["inverse"] = inverse
            steps.append(Step("inverse", f"f⁻¹(u) = {show(inverse)}"))
            claim = expression(given.get("inverse_claim", "log(u/(1-u))"), {"u": u})
            holds = sp.simplify(sp.expand_log(plain.subs(z, claim) - u, force=True)) == 0
            results["logit_is_inverse"] = bool(holds)
            results["f_of_claimed_inverse"] = sp.simplify(sp.expand_log(claim.subs(u, f), force=True))
            steps.append(Step("claimed inverse", f"{show(claim)} applied to f(z) gives "
                                                 f"{show(results['f_of_claimed_inverse'])}"))


@register
class ActivationLayer(Family):
    name = "activation_layer"
    summary = "an elementwise activation on a vector: its local Jacobian and which units barely learn"
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["function", "inputs"],
        "properties": {
            "function": {"enum": sorted(STANDARD)},
            "inputs": {"type": "array", "items": NUMBER_VALUE, "minItems": 1},
            "threshold": {"type": "number", "description": "a unit whose slope is below this barely learns (default 0.01)"},
        },
    }

    results = (
        Result("local_gradient", "vector", "f'(z_i) for each input"),
        Result("jacobian", "matrix", "∂a/∂z: diagonal, f'(z_i) on the diagonal"),
        Result("saturated", "vector", "1-based indices of units whose slope is below the threshold"),
    )
    example = {"function": "tanh", "inputs": [-10, 1, 10, -1]}

    def solve(self, given: dict, conventions: Conventions) -> Solution:
        z = sp.Symbol("z", real=True)
        slope = sp.diff(STANDARD[given["function"]](z, sp.Integer(1)), z)
        inputs = [exact(v) for v in given["inputs"]]
        local = [slope.subs(z, v) for v in inputs]
        n = len(local)
        jacobian = [[local[i] if i == j else sp.Integer(0) for j in range(n)] for i in range(n)]
        threshold = given.get("threshold", 0.01)
        saturated = [i + 1 for i, v in enumerate(local) if abs(float(v)) < threshold]
        steps = [Step("elementwise", "∂a_i/∂z_j = f'(z_i) if i = j, else 0: the Jacobian is diagonal"),
                 Step("slopes", f"f'(z) = {show(slope)} at {show(inputs)} = {show([sp.N(v, 4) for v in local])}"),
                 Step("units that barely learn", f"slope below {threshold}: {saturated}")]
        return Solution({"local_gradient": local, "jacobian": jacobian, "saturated": saturated}, steps)


@register
class SigmoidNeuron(Family):
    name = "sigmoid_neuron"
    summary = "a = σ(wᵀx) with x₀ = 1: ∂a/∂w_i and the gradient vector"
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"inputs": {"type": "integer", "minimum": 1, "maximum": 50,
                                  "description": "d, the number of inputs besides the constant 1"}},
    }

    results = (
        Result("partial_w_i", "expression", "∂a/∂w_i = σ(z)(1 − σ(z)) x_i"),
        Result("dadz", "expression", "∂a/∂z = σ(z)(1 − σ(z))"),
        Result("gradient", "vector", "∇_w a, one entry per weight w_0 … w_d"),
    )
    example = {"inputs": 3}

    def solve(self, given: dict, conventions: Conventions) -> Solution:
        d = given.get("inputs", 3)
        z = sp.Symbol("z", real=True)
        x = [sp.Integer(1)] + [sp.Symbol(f"x_{j}", real=True) for j in range(1, d + 1)]
        w = [sp.Symbol(f"w_{j}", real=True) for j in range(d + 1)]
        x_i, w_i = sp.Symbol("x_i", real=True), sp.Symbol("w_i", real=True)
        logit = sum(wj * xj for wj, xj in zip(w, x)) + w_i * x_i
        a = sigma(logit)
        partial = sp.diff(a, w_i).subs(logit, z)
        gradient = [sp.diff(a, wj).subs(logit, z) for wj in w]
        steps = [
            Step("chain rule", "∂a/∂w_i = ∂a/∂z · ∂z/∂w_i"),
            Step("sigmoid derivative", "∂a/∂z = σ(z)(1 − σ(z))"),
            Step("logit", "z = w₀ + w₁x₁ + … + w_d x_d, so ∂z/∂w_i = x_i (x₀ = 1)"),
            Step("result", f"∂a/∂w_i = {show(partial)}"),
            Step("gradient", f"∇_w a = {show(gradient)}"),
        ]
        return Solution({"partial_w_i": partial, "dadz": sigma(z) * (1 - sigma(z)), "gradient": gradient}, steps)
