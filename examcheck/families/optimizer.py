"""First-order optimisers as PyTorch's ``torch.optim`` implements them: SGD,
heavy-ball and Nesterov momentum, AdaGrad, RMSProp, Adam and AdamW (with bias
correction), weight decay as L2 or decoupled, and learning-rate schedules.

Conventions (each also stated in the given schema):

* Steps are counted from 1.  ``point.0`` is the start, ``point.k`` the point after
  step k; ``gradient.k`` is the gradient used by step k, i.e. at ``point.(k-1)``.
* Optimiser state after step k is ``buffer.k`` (momentum), ``sum_squares.k``
  (AdaGrad), ``square_avg.k`` (RMSProp), ``m.k``, ``v.k``, ``m_hat.k``, ``v_hat.k``
  (Adam/AdamW); all start at 0.
* Momentum is PyTorch's: ``b ← μb + (1 − dampening)g`` (``b₁ = g``), ``θ ← θ − η b``.
  With a constant η this is the textbook ``v ← μv − ηg; θ ← θ + v`` with v = −ηb.
  Nesterov (PyTorch): ``θ ← θ − η(g + μb)`` with the gradient at θ; the
  ``lookahead`` form evaluates the gradient at θ + μv instead.
* Adam: ``m̂ = m/(1 − β₁ᵗ)``, ``v̂ = v/(1 − β₂ᵗ)``, ``θ ← θ − η m̂/(√v̂ + ε)``.
  Weight decay λ is L2 (added to the gradient) for every method but AdamW, whose
  decay is decoupled: ``θ ← θ(1 − ηλ)`` before the Adam step.
* A schedule is stepped once after every optimiser step: step k uses the rate the
  schedule gives after k − 1 schedule steps (PyTorch StepLR, ExponentialLR,
  CosineAnnealingLR, LinearLR).
* Vector results are lists even with one variable; ``point.{k}.{i}`` (and the same
  for every per-step vector) is coordinate i (from 1) as a number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
from examcheck.families._numbers import number_errors, tidy
from examcheck.values import exact, expression, show

MAX_STEPS = 500
MAX_VARIABLES = 20
SHOWN_STEPS = 30
METHODS = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"]
SCHEDULES = ["constant", "step", "exponential", "cosine", "linear_warmup"]
DEFAULT_EPS = {"adagrad": "1e-10", "rmsprop": "1e-8", "adam": "1e-8", "adamw": "1e-8"}

NUMBER = NUMBER_VALUE
SCHEDULE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["type"],
    "description": "a learning-rate schedule, stepped after every optimiser step (PyTorch lr_scheduler)",
    "properties": {
        "type": {"enum": SCHEDULES},
        "step_size": {"type": "integer", "minimum": 1, "description": "step: decay every step_size steps (StepLR)"},
        "gamma": {**NUMBER, "description": "step/exponential: the decay factor"},
        "T_max": {"type": "integer", "minimum": 1, "description": "cosine: steps to reach eta_min"},
        "eta_min": {**NUMBER, "description": "cosine: the smallest rate (default 0)"},
        "start_factor": {**NUMBER, "description": "linear_warmup: the first step's fraction of lr (LinearLR)"},
        "end_factor": {**NUMBER, "description": "linear_warmup: the final fraction of lr (default 1)"},
        "total_iters": {"type": "integer", "minimum": 1, "description": "linear_warmup: steps of the ramp"},
    },
}


def learning_rate(base: sp.Expr, schedule: dict | None, t: int) -> sp.Expr:
    """The rate after t schedule steps (t = 0 for the first optimiser step)."""
    if not schedule or schedule["type"] == "constant":
        return base
    kind = schedule["type"]
    if kind == "step":
        return base * exact(schedule.get("gamma", "0.1")) ** (t // schedule.get("step_size", 1))
    if kind == "exponential":
        if "gamma" not in schedule:
            raise FamilyError("an exponential schedule needs gamma")
        return base * exact(schedule["gamma"]) ** t
    if kind == "cosine":
        if "T_max" not in schedule:
            raise FamilyError("a cosine schedule needs T_max")
        low = exact(schedule.get("eta_min", 0))
        return low + (base - low) * (1 + sp.cos(sp.pi * t / schedule["T_max"])) / 2
    if "start_factor" not in schedule or "total_iters" not in schedule:
        raise FamilyError("a linear_warmup schedule needs start_factor and total_iters")
    start, end = exact(schedule["start_factor"]), exact(schedule.get("end_factor", 1))
    total = schedule["total_iters"]
    return base * (start + (end - start) * sp.Rational(min(t, total), total))


class _Problem:
    """The given values, read once: where gradients come from, and the hyperparameters."""

    def __init__(self, given: dict):
        self.method = given.get("method", "sgd")
        if self.method == "sgd" and exact(given.get("momentum", 0)) != 0:
            self.method = "momentum"  # PyTorch's SGD(momentum=μ) is heavy-ball momentum, never plain SGD
        self.lr = exact(given["lr"])
        self.schedule = given.get("schedule")
        self.weight_decay = exact(given.get("weight_decay", "0.01" if self.method == "adamw" else 0))
        self.mu = exact(given.get("momentum", "0.9"))
        self.dampening = exact(given.get("dampening", 0))
        self.alpha = exact(given.get("alpha", "0.99"))
        self.beta1, self.beta2 = exact(given.get("beta1", "0.9")), exact(given.get("beta2", "0.999"))
        self.eps = exact(given.get("eps", DEFAULT_EPS.get(self.method, 0)))
        self.bias_correction = given.get("bias_correction", True)
        self.initial_accumulator = exact(given.get("initial_accumulator", 0))
        self.lookahead = False
        self.ema = False
        self.f, self.xs, self.gradient, self.given_gradients = None, [], [], None
        if "f" in given:
            names = given.get("variables")
            if not names:
                raise FamilyError("a function f needs its variables")
            if len(names) > MAX_VARIABLES or len(set(names)) != len(names):
                raise FamilyError(f"variables must be distinct and at most {MAX_VARIABLES}")
            symbols = {n: sp.Symbol(n, real=True) for n in names}
            self.xs = [symbols[n] for n in names]
            self.f = expression(given["f"], symbols)
            self.gradient = [sp.diff(self.f, x) for x in self.xs]
        elif "gradients" in given:
            self.given_gradients = [self._vector(g) for g in given["gradients"]]
        else:
            raise FamilyError("give either a function f (with variables) or the gradients of every step")
        start = given.get("start")
        if start is None:
            raise FamilyError("give the start point")
        self.start = self._vector(start)
        self.dim = len(self.start)
        if self.f is not None and self.dim != len(self.xs):
            raise FamilyError("start must have one value per variable")
        if self.given_gradients is not None:
            if any(len(g) != self.dim for g in self.given_gradients):
                raise FamilyError("every given gradient must have one value per coordinate of start")
            self.steps = given.get("steps", len(self.given_gradients))
            if self.steps > len(self.given_gradients):
                raise FamilyError(f"{self.steps} steps need {self.steps} gradients; {len(self.given_gradients)} given")
        else:
            self.steps = given.get("steps", 1)
        if not 0 <= self.steps <= MAX_STEPS:
            raise FamilyError(f"steps must be between 0 and {MAX_STEPS}")

    @staticmethod
    def _vector(value) -> list:
        values = value if isinstance(value, list) else [value]
        if not values:
            raise FamilyError("a vector needs at least one value")
        return [exact(v) for v in values]

    def grad_at(self, point: list, k: int) -> list:
        if self.given_gradients is not None:
            return list(self.given_gradients[k - 1])
        at = dict(zip(self.xs, point))
        return [tidy(g.subs(at)) for g in self.gradient]

    def f_at(self, point: list):
        return tidy(self.f.subs(dict(zip(self.xs, point)))) if self.f is not None else None


@dataclass(frozen=True)
class OptimizerConventions(Conventions):
    nesterov_form: str = field(default="pytorch", metadata={
        "doc": "pytorch: θ ← θ − η(g + μb), gradient at θ; lookahead: v ← μv − η∇f(θ + μv), θ ← θ + v "
               "(given key `nesterov_form`)"})
    momentum_form: str = field(default="pytorch", metadata={
        "doc": "pytorch: b ← μb + (1 − dampening)g with b₁ = g; ema: b ← μb + (1 − μ)g from b₀ = 0 (the "
               "exponentially weighted average of Ng's course); θ ← θ − η·b either way (given key `momentum_form`)"})


STATES = {
    "buffer": "momentum buffer b after step k (momentum, nesterov)",
    "velocity": "velocity v after step k: the textbook v ← μv − ηg, θ ← θ + v (momentum: −η·b; nesterov with "
                "nesterov_form: lookahead: v ← μv − η∇f(θ + μv))",
    "sum_squares": "AdaGrad's running sum of squared gradients G after step k",
    "square_avg": "RMSProp's running average of squared gradients s after step k",
    "m": "Adam's first moment m after step k (before bias correction)",
    "v": "Adam's second moment v after step k (before bias correction)",
    "m_hat": "m/(1 − β₁^k), the bias-corrected first moment",
    "v_hat": "v/(1 − β₂^k), the bias-corrected second moment",
}


def _per_step(name: str, plural: str, what: str) -> tuple[Result, ...]:
    return (Result(plural, "matrix", f"{what}, one row per step"),
            Result(f"{name}.{{k}}", "vector", f"{what} at step k"),
            Result(f"{name}.{{k}}.{{i}}", "number", f"coordinate i (from 1) of {name}.k"))


RESULTS = (
    Result("iterates", "matrix", "θ_0, θ_1, …, θ_steps: the start point first, so steps + 1 rows"),
    Result("point", "vector", "θ_steps, the point after the last step"),
    Result("point.{k}", "vector", "θ_k, the point after step k (point.0 is the start)"),
    Result("point.{k}.{i}", "number", "coordinate i (from 1) of θ_k"),
    *_per_step("gradient", "gradients", "the gradient used by step k (at θ_(k−1); before weight decay)"),
    *_per_step("update", "updates", "θ_k − θ_(k−1)"),
    Result("learning_rates", "vector", "the learning rate used by each step"),
    Result("learning_rate.{k}", "number", "the learning rate used by step k"),
    *(r for name, what in STATES.items() for r in _per_step(name, name, what)),
    Result("gradient_formula", "vector", "∇f as expressions in the variables (when f is given)"),
    Result("f_values", "vector", "f(θ_0), …, f(θ_steps) (when f is given)"),
    Result("f_value.{k}", "number", "f(θ_k) (when f is given)"),
    Result("f_at_point", "number", "f(θ_steps) (when f is given)"),
)


def _sqrt(value: sp.Expr) -> sp.Expr:
    return tidy(sp.sqrt(value))


class _Run:
    """One run of the optimiser, keeping every iterate and the state after every step."""

    def __init__(self, problem: _Problem):
        self.p = problem
        self.points = [problem.start]
        self.gradients: list[list] = []
        self.rates: list = []
        self.state: dict[str, list[list]] = {}
        self.lines: list[str] = []

    def record(self, name: str, value: list) -> None:
        self.state.setdefault(name, []).append(value)

    def go(self) -> None:
        p = self.p
        zeros = [sp.Integer(0)] * p.dim
        buffer, accumulator = list(zeros), [p.initial_accumulator] * p.dim
        m, v = list(zeros), list(zeros)
        for k in range(1, p.steps + 1):
            theta = self.points[-1]
            lr = tidy(learning_rate(p.lr, p.schedule, k - 1))
            self.rates.append(lr)
            if p.lookahead:
                ahead = [t + p.mu * b for t, b in zip(theta, buffer)]  # buffer holds the velocity here
                g = p.grad_at(ahead, k)
            else:
                g = p.grad_at(theta, k)
            self.gradients.append(g)
            if p.method != "adamw":
                g = [tidy(gi + p.weight_decay * t) for gi, t in zip(g, theta)]
            method = p.method
            if method == "sgd":
                new = [t - lr * gi for t, gi in zip(theta, g)]
                line = f"θ ← θ − η·g = {show(theta)} − {show(lr)}·{show(g)}"
            elif method in ("momentum", "nesterov") and p.lookahead:
                buffer = [tidy(p.mu * b - lr * gi) for b, gi in zip(buffer, g)]
                self.record("velocity", buffer)
                new = [t + b for t, b in zip(theta, buffer)]
                line = f"g = ∇f(θ + μv) = {show(g)}; v ← μv − η·g = {show(buffer)}; θ ← θ + v"
            elif method in ("momentum", "nesterov"):
                if p.ema:
                    buffer = [tidy(p.mu * b + (1 - p.mu) * gi) for b, gi in zip(buffer, g)]
                else:
                    buffer = list(g) if k == 1 else [tidy(p.mu * b + (1 - p.dampening) * gi) for b, gi in zip(buffer, g)]
                self.record("buffer", buffer)
                direction = buffer if method == "momentum" else [tidy(gi + p.mu * b) for gi, b in zip(g, buffer)]
                new = [t - lr * d for t, d in zip(theta, direction)]
                if method == "momentum":
                    self.record("velocity", [tidy(-lr * b) for b in buffer])
                rule = "μb + (1 − μ)g" if p.ema else "g" if k == 1 else "μb + g"
                line = (f"b ← {rule} = {show(buffer)}; θ ← θ − η·"
                        f"{'b' if method == 'momentum' else '(g + μb)'}")
            elif method == "adagrad":
                accumulator = [tidy(a + gi ** 2) for a, gi in zip(accumulator, g)]
                self.record("sum_squares", accumulator)
                new = [t - lr * gi / (_sqrt(a) + p.eps) for t, gi, a in zip(theta, g, accumulator)]
                line = f"G ← G + g² = {show(accumulator)}; θ ← θ − η·g/(√G + ε)"
            elif method == "rmsprop":
                accumulator = [tidy(p.alpha * a + (1 - p.alpha) * gi ** 2) for a, gi in zip(accumulator, g)]
                self.record("square_avg", accumulator)
                new = [t - lr * gi / (_sqrt(a) + p.eps) for t, gi, a in zip(theta, g, accumulator)]
                line = f"s ← αs + (1 − α)g² = {show(accumulator)}; θ ← θ − η·g/(√s + ε)"
            else:
                new, line, m, v = self._adam(k, theta, g, lr, m, v)
            new = [tidy(x) for x in new]
            if any(abs(float(x)) > 1e100 for x in new):
                raise FamilyError(f"the iterates blow up at step {k} (|θ| > 1e100)")
            self.points.append(new)
            self.lines.append(f"η = {show(lr)}; g = {show(self.gradients[-1])}; {line} = {show(new)}")

    def _adam(self, k, theta, g, lr, m, v):
        p = self.p
        if p.method == "adamw":
            theta = [tidy(t * (1 - lr * p.weight_decay)) for t in theta]
        m = [tidy(p.beta1 * mi + (1 - p.beta1) * gi) for mi, gi in zip(m, g)]
        v = [tidy(p.beta2 * vi + (1 - p.beta2) * gi ** 2) for vi, gi in zip(v, g)]
        c1 = 1 - p.beta1 ** k if p.bias_correction else sp.Integer(1)
        c2 = 1 - p.beta2 ** k if p.bias_correction else sp.Integer(1)
        m_hat, v_hat = [tidy(mi / c1) for mi in m], [tidy(vi / c2) for vi in v]
        for name, value in (("m", m), ("v", v), ("m_hat", m_hat), ("v_hat", v_hat)):
            self.record(name, value)
        new = [t - lr * mh / (_sqrt(vh) + p.eps) for t, mh, vh in zip(theta, m_hat, v_hat)]
        decay = "θ ← θ(1 − ηλ); " if p.method == "adamw" else ""
        line = (f"{decay}m = {show(m)}, v = {show(v)}, m_hat = {show(m_hat)}, v_hat = {show(v_hat)}; "
                f"θ ← θ − η·m_hat/(√v_hat + ε)")
        return new, line, m, v


@register
class Optimizer(Family):
    name = "optimizer"
    solve_at_load = True
    summary = ("SGD, momentum (heavy-ball, Nesterov), AdaGrad, RMSProp, Adam, AdamW with weight decay and "
               "learning-rate schedules: iterates, gradients and optimiser state per step (PyTorch's formulas)")
    results = RESULTS
    conventions = OptimizerConventions
    example = {"method": "adam", "f": "x**2 + 3*y**2", "variables": ["x", "y"], "start": [1, 2], "lr": 0.1, "steps": 2}
    notes = ("Steps count from 1: point.0 is the start, point.k the point after step k, gradient.k the gradient "
             "used by step k (at point.(k−1)). Optimiser state starts at 0. A schedule is stepped after every "
             "optimiser step (step k uses the rate after k − 1 schedule steps). PyTorch's formulas throughout.")
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["lr", "start"],
        "properties": {
            "method": {"enum": METHODS, "description": "the optimiser (default sgd)"},
            "f": {"type": "string", "description": "the function to minimise (or give gradients)"},
            "variables": {"type": "array", "items": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]*$"}, "minItems": 1,
                          "maxItems": MAX_VARIABLES},
            "gradients": {"type": "array", "minItems": 1,
                          "items": {"type": ["number", "string", "array"], "items": NUMBER, "minItems": 1},
                          "description": "the gradient used by step 1, 2, ... (instead of f)"},
            "start": {"type": ["number", "string", "array"], "items": NUMBER, "minItems": 1,
                      "description": "θ₀ (a list, or a number for one variable)"},
            "lr": {**NUMBER, "description": "η, the (initial) learning rate"},
            "steps": {"type": "integer", "minimum": 0, "maximum": MAX_STEPS,
                      "description": "how many steps (default 1, or one per given gradient)"},
            "momentum": {**NUMBER, "description": "μ for momentum and nesterov (default 0.9); with method sgd a nonzero "
                                                   "μ is heavy-ball momentum, as PyTorch's SGD(momentum=μ)"},
            "dampening": {**NUMBER, "description": "PyTorch SGD dampening (default 0)"},
            "nesterov_form": {"enum": ["pytorch", "lookahead"],
                              "description": "pytorch: θ ← θ − η(g + μb); lookahead: gradient at θ + μv"},
            "momentum_form": {"enum": ["pytorch", "ema"],
                              "description": "pytorch: b ← μb + g (b₁ = g); ema: b ← μb + (1 − μ)g (b₀ = 0)"},
            "alpha": {**NUMBER, "description": "RMSProp smoothing α (default 0.99)"},
            "beta1": {**NUMBER, "description": "Adam β₁ (default 0.9)"},
            "beta2": {**NUMBER, "description": "Adam β₂ (default 0.999)"},
            "eps": {**NUMBER, "description": "ε (defaults: 1e-10 AdaGrad, 1e-8 RMSProp/Adam/AdamW)"},
            "weight_decay": {**NUMBER, "description": "λ: L2 for all but AdamW, decoupled for AdamW "
                                                      "(default 0; 0.01 for AdamW, as PyTorch)"},
            "bias_correction": {"type": "boolean", "description": "Adam/AdamW bias correction (default true)"},
            "initial_accumulator": {**NUMBER, "description": "AdaGrad's starting sum of squares (default 0)"},
            "schedule": SCHEDULE_SCHEMA,
        },
    }

    def check_given(self, given: dict) -> list[GivenError]:
        errors = number_errors(given, self.given_schema)
        if not errors and "f" in given and isinstance(given.get("variables"), list):
            try:
                expression(given["f"], {n: sp.Symbol(n, real=True) for n in given["variables"]})
            except ValueError as exc:
                errors.append(GivenError(("f",), f"cannot read f: {exc}"))
        return errors or super().check_given(given)

    def solve(self, given: dict, conventions: OptimizerConventions) -> Solution:
        problem = _Problem(given)
        problem.lookahead = conventions.nesterov_form == "lookahead"
        problem.ema = conventions.momentum_form == "ema"
        if problem.ema and (problem.method not in ("momentum", "nesterov") or problem.lookahead):
            raise FamilyError("momentum_form: ema is for momentum and nesterov (PyTorch's update of θ)")
        if problem.lookahead and (problem.method != "nesterov" or problem.f is None):
            raise FamilyError("the lookahead form is for Nesterov momentum on a given function f")
        run = _Run(problem)
        run.go()
        updates = [[b - a for a, b in zip(x, y)] for x, y in zip(run.points, run.points[1:])]
        results: dict = {"iterates": run.points, "point": run.points[-1], "learning_rates": run.rates}
        _add_series(results, "point", None, run.points, start=0)
        _add_series(results, "gradient", "gradients", run.gradients)
        _add_series(results, "update", "updates", updates)
        for k, lr in enumerate(run.rates, start=1):
            results[f"learning_rate.{k}"] = lr
        for name, values in run.state.items():
            _add_series(results, name, name, values)
        steps = [Step("method", _describe(problem))]
        if problem.f is not None:
            f_values = [problem.f_at(x) for x in run.points]
            results.update(f_values=f_values, f_at_point=f_values[-1], gradient_formula=problem.gradient)
            for k, value in enumerate(f_values):
                results[f"f_value.{k}"] = value
            steps.append(Step("gradient", f"∇f = ({', '.join(show(g) for g in problem.gradient)})"))
        shown = run.lines if len(run.lines) <= SHOWN_STEPS else run.lines[:SHOWN_STEPS - 1]
        steps += [Step(f"step {k}", line) for k, line in enumerate(shown, start=1)]
        if len(shown) < len(run.lines):
            steps.append(Step(f"step {len(run.lines)}", run.lines[-1]))
        steps.append(Step("result", f"θ_{problem.steps} = {show(results['point'])}"))
        return Solution(results, steps)

    def variants(self, given: dict) -> list[Variant]:
        method = given.get("method", "sgd")
        out = []
        if method in ("adam", "adamw") and given.get("bias_correction", True):
            out.append(Variant({**given, "bias_correction": False},
                               "no bias correction: Adam divides m by 1 − β₁^t and v by 1 − β₂^t"))
        if method == "adamw":
            out.append(Variant({**given, "method": "adam", "weight_decay": given.get("weight_decay", "0.01")},
                               "the decay was applied as L2 (λθ added to the gradient, as Adam does); "
                               "AdamW decouples it: θ ← θ(1 − ηλ) before the Adam step"))
        if method == "adam" and exact(given.get("weight_decay", 0)) != 0:
            out.append(Variant({**given, "method": "adamw"},
                               "the decay was decoupled (AdamW); Adam's weight_decay is L2: λθ is added to the gradient"))
        if method == "nesterov":
            out.append(Variant({**given, "method": "momentum", "nesterov_form": "pytorch"},
                               "this is heavy-ball momentum; Nesterov steps along g + μb"))
        if method in ("momentum", "nesterov") and given.get("nesterov_form", "pytorch") == "pytorch":
            other = "pytorch" if given.get("momentum_form", "pytorch") == "ema" else "ema"
            out.append(Variant({**given, "momentum_form": other},
                               "the other momentum convention: " + (
                                   "this problem's buffer is the average b ← μb + (1 − μ)g" if other == "pytorch"
                                   else "PyTorch's buffer is b ← μb + g (no 1 − μ factor)")))
        if method in ("momentum", "nesterov"):
            out.append(Variant({**{k: v for k, v in given.items() if k != "momentum_form"}, "method": "sgd",
                                "momentum": 0, "nesterov_form": "pytorch"},
                               "the momentum term is missing (plain SGD)"))
        if method == "rmsprop":
            alpha = exact(given.get("alpha", "0.99"))
            out.append(Variant({**given, "alpha": str(1 - alpha)},
                               "α and 1 − α are swapped: RMSProp keeps α of the old average, s ← αs + (1 − α)g²"))
        if method == "sgd":
            out.append(Variant({**given, "lr": str(-exact(given["lr"]))},
                               "you stepped along the gradient (ascent); descent subtracts η·g"))
        steps = given.get("steps", len(given["gradients"]) if "gradients" in given and "f" not in given else 1)
        if isinstance(steps, int) and steps >= 1:
            out.append(Variant({**given, "steps": steps - 1}, f"one step too few: this is θ after {steps - 1} step(s)"))
        return out


def _add_series(results: dict, name: str, plural: str | None, vectors: list, start: int = 1) -> None:
    """results[plural] = the vectors; name.k = one vector; name.k.i = one coordinate."""
    if plural:
        results[plural] = vectors
    for k, vector in enumerate(vectors, start=start):
        results[f"{name}.{k}"] = vector
        for i, value in enumerate(vector, start=1):
            results[f"{name}.{k}.{i}"] = value


def _describe(p: _Problem) -> str:
    decay = ""
    if p.weight_decay:
        decay = (f"; decoupled weight decay λ = {show(p.weight_decay)}" if p.method == "adamw"
                 else f"; L2 weight decay λ = {show(p.weight_decay)}: g ← g + λθ")
    rate = f"η = {show(p.lr)}" + (f" with a {p.schedule['type']} schedule" if p.schedule else "")
    extra = {
        "sgd": "θ ← θ − η·g",
        "momentum": f"heavy-ball momentum μ = {show(p.mu)}: b ← μb + g (b₁ = g), θ ← θ − η·b",
        "nesterov": (f"Nesterov momentum μ = {show(p.mu)}, lookahead form: v ← μv − η∇f(θ + μv), θ ← θ + v"
                     if p.lookahead else
                     f"Nesterov momentum μ = {show(p.mu)} (PyTorch): b ← μb + g, θ ← θ − η(g + μb)"),
        "adagrad": f"AdaGrad: G ← G + g², θ ← θ − η·g/(√G + ε), ε = {show(p.eps)}",
        "rmsprop": f"RMSProp α = {show(p.alpha)}: s ← αs + (1 − α)g², θ ← θ − η·g/(√s + ε), ε = {show(p.eps)}",
        "adam": f"Adam β₁ = {show(p.beta1)}, β₂ = {show(p.beta2)}, ε = {show(p.eps)}",
        "adamw": f"AdamW β₁ = {show(p.beta1)}, β₂ = {show(p.beta2)}, ε = {show(p.eps)}",
    }[p.method]
    if p.method in ("adam", "adamw"):
        extra += (": m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², m_hat = m/(1 − β₁^t), v_hat = v/(1 − β₂^t), "
                  "θ ← θ − η·m_hat/(√v_hat + ε)" if p.bias_correction else ": without bias correction")
    return f"{extra}; {rate}{decay}"
