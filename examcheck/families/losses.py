"""Loss functions as PyTorch defines them: softmax and log-softmax from logits,
cross-entropy from logits with its gradient p − y and label smoothing, binary
cross-entropy with logits, MSE, MAE, Huber, SmoothL1, and binary and multiclass
hinge losses.  Values are exact (SymPy) wherever the inputs are.

Conventions (each also stated in the given schema):

* ``logits`` is one sample (a list) or a batch (a list of rows, one per sample).
* An integer ``target`` is a class index counted from ``first_class`` (0, as in
  PyTorch, unless the problem says 1); a list of numbers is a target distribution.
* ``reduction`` is ``mean`` (PyTorch's default: over samples, and for the
  regression losses over every element) or ``sum``.  ``gradient`` is the gradient
  of the reduced loss with respect to the logits (or predictions), so with ``mean``
  it includes the 1/N.
* Label smoothing ε (PyTorch): y = (1 − ε)·onehot + ε/K over all K classes.
* Huber(δ) = (1/2)d² for |d| ≤ δ, else δ(|d| − (1/2)δ); SmoothL1(β) = Huber(β)/β.
* Hinge labels are ±1: max(0, 1 − y·s).  Multiclass hinge (Weston–Watkins, cs231n):
  Σ_{j≠y} max(0, s_j − s_y + margin); PyTorch's MultiMarginLoss also divides by
  the number of classes (``divide_by_classes: true``).
* Subgradients at kinks are 0 for hinge terms and sign(0) = 0 for MAE.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import sympy as sp

from examcheck.families import Conventions, Family, FamilyError, GivenError, Result, Solution, Step, Variant, register
from examcheck.families._numbers import number_errors
from examcheck.mathfuncs import sigma
from examcheck.values import exact, show

KINDS = ["cross_entropy", "binary_cross_entropy", "mse", "mae", "huber", "smooth_l1", "hinge", "multiclass_hinge"]
REGRESSION = ("mse", "mae", "huber", "smooth_l1")
MAX_ENTRIES = 2_000
NUMBER = {"type": ["number", "string"]}
ROW = {"type": ["number", "string", "array"], "minItems": 1, "items": {"type": ["number", "string"]}}
VECTOR_OR_MATRIX = {"type": ["number", "string", "array"], "minItems": 1, "maxItems": MAX_ENTRIES, "items": ROW,
                    "description": "a number, a list (one sample), or a list of rows (a batch)"}


def _as_rows(value, what: str) -> tuple[list[list], bool]:
    """(rows, batched): a number or list is one row; a list of lists is a batch."""
    if not isinstance(value, list):
        return [[exact(value)]], False
    if not value:
        raise FamilyError(f"{what} is empty")
    if all(isinstance(v, list) for v in value):
        width = {len(v) for v in value}
        if len(width) != 1 or 0 in width:
            raise FamilyError(f"every row of {what} must have the same (non-zero) length")
        rows = [[exact(x) for x in row] for row in value]
        batched = True
    elif any(isinstance(v, list) for v in value):
        raise FamilyError(f"{what} mixes numbers and lists")
    else:
        rows, batched = [[exact(x) for x in value]], False
    if sum(len(r) for r in rows) > MAX_ENTRIES:
        raise FamilyError(f"{what} has more than {MAX_ENTRIES} entries")
    return rows, batched


def _flatten(value) -> list:
    if isinstance(value, list):
        return [x for v in value for x in _flatten(v)]
    return [value]


@dataclass(frozen=True)
class LossConventions(Conventions):
    first_class: int = field(default=0, metadata={"doc": "integer targets count classes from 0 (PyTorch) or 1 "
                                                         "(given key `first_class`)"})
    reduction: str = field(default="mean", metadata={"doc": "mean (PyTorch) or sum over the batch (given key `reduction`)"})
    smoothing_over: str = field(default="all_classes", metadata={
        "doc": "label smoothing: all_classes (PyTorch, ε/K each) or other_classes (ε/(K − 1) each)"})
    divide_by_classes: bool = field(default=False, metadata={
        "doc": "multiclass hinge divided by the number of classes, as PyTorch's MultiMarginLoss"})


RESULTS = (
    Result("loss", "number", "the reduced loss (mean or sum over the batch)"),
    Result("losses", "vector", "the loss of each sample (each element, for regression losses)"),
    Result("gradient", "vector", "∂loss/∂logits (or ∂loss/∂predictions); one row per sample for a batch"),
    Result("gradient.{entry}", "number", "one entry of gradient: a class (cross-entropy and multiclass hinge on one "
                                         "sample, counted from first_class) or a sample/element from 1"),
    Result("softmax", "vector", "softmax of the logits (one row per sample for a batch)"),
    Result("softmax.{class}", "number", "the probability of one class (one sample; counted from first_class)"),
    Result("log_softmax", "vector", "log-softmax of the logits"),
    Result("log_softmax.{class}", "number", "the log-probability of one class (one sample)"),
    Result("logsumexp", "number", "log Σ exp(z_j) (one sample)"),
    Result("target_distribution", "vector", "the target after label smoothing"),
    Result("probability", "number", "the softmax probability of the target class (one sample)"),
    Result("probabilities", "vector", "the softmax probability of the target class of each sample"),
    Result("predicted_class", "integer", "argmax of the logits (one sample; counted from first_class)"),
    Result("predicted_classes", "vector", "argmax of the logits of each sample"),
    Result("sigmoid", "vector", "σ(z) of each logit (binary cross-entropy)"),
    Result("sigmoid.{i}", "number", "σ(z_i) (from 1)"),
    Result("margins", "vector", "y·s of each sample (hinge), or the terms max(0, s_j − s_y + margin) (multiclass)"),
    Result("margin.{i}", "number", "y_i·s_i (hinge), from 1"),
    Result("residuals", "vector", "ŷ − y of each element (regression losses)"),
    Result("residual.{i}", "number", "ŷ_i − y_i (from 1, row by row)"),
)


class _Reducer:
    def __init__(self, reduction: str, count: int):
        self.reduction, self.count = reduction, count

    @property
    def weight(self):
        return sp.Rational(1, self.count) if self.reduction == "mean" else sp.Integer(1)

    def __call__(self, losses: list):
        return sp.Add(*losses) * self.weight

    def text(self) -> str:
        return f"mean over {self.count}" if self.reduction == "mean" else "sum"


@register
class Loss(Family):
    name = "loss"
    summary = ("losses from logits or predictions (PyTorch): softmax, log-softmax, cross-entropy with label smoothing "
               "and its gradient p − y, binary cross-entropy with logits, MSE, MAE, Huber, SmoothL1, hinge")
    results = RESULTS
    conventions = LossConventions
    example = {"kind": "cross_entropy", "logits": [2, 1, 0], "target": 0, "label_smoothing": 0.1}
    notes = ("PyTorch's definitions and defaults: mean reduction, classes counted from 0, label smoothing ε/K to every "
             "class. gradient is the gradient of the reduced loss, so a mean includes 1/N. The problem's log_base "
             "applies to the cross-entropies (bits for 2).")
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["kind", "target"],
        "properties": {
            "kind": {"enum": KINDS},
            "logits": {**VECTOR_OR_MATRIX, "description": "raw scores z (cross-entropy, BCE, hinge): a list for one "
                                                          "sample, a list of rows for a batch"},
            "prediction": {**VECTOR_OR_MATRIX, "description": "predicted values ŷ (regression losses)"},
            "target": {"type": ["integer", "number", "string", "array"], "minItems": 1, "maxItems": MAX_ENTRIES,
                       "items": ROW,
                       "description": "class index (or one per sample), a target distribution, 0/1 or soft labels "
                                      "(BCE), ±1 labels (hinge), or values (regression)"},
            "first_class": {"enum": [0, 1], "description": "integer targets count classes from 0 (default) or 1"},
            "label_smoothing": {**NUMBER, "description": "ε: y = (1 − ε)·onehot + ε/K (cross-entropy)"},
            "smoothing_over": {"enum": ["all_classes", "other_classes"],
                               "description": "all_classes (PyTorch: ε/K to every class) or other_classes "
                                              "(1 − ε to the target, ε/(K − 1) to each other class)"},
            "reduction": {"enum": ["mean", "sum"], "description": "over the batch (default mean)"},
            "delta": {**NUMBER, "description": "Huber δ (default 1)"},
            "beta": {**NUMBER, "description": "SmoothL1 β (default 1)"},
            "margin": {**NUMBER, "description": "multiclass hinge margin (default 1)"},
            "divide_by_classes": {"type": "boolean",
                                  "description": "multiclass hinge divided by the number of classes (PyTorch)"},
        },
    }

    def check_given(self, given: dict) -> list[GivenError]:
        return number_errors(given, self.given_schema)

    def solve(self, given: dict, conventions: LossConventions) -> Solution:
        given = {**given, **{f.name: getattr(conventions, f.name) for f in dataclasses.fields(conventions)
                             if f.name != "log_base"}}
        solution = self._solve(given)
        if given["kind"] in ("cross_entropy", "binary_cross_entropy") and conventions.log_base not in (None, "e"):
            _in_base(solution, int(conventions.log_base))
        return solution

    def _solve(self, given: dict) -> Solution:
        kind = given["kind"]
        if kind in REGRESSION:
            return self._regression(given, kind)
        if "logits" not in given:
            raise FamilyError(f"{kind} needs logits")
        logits, batched = _as_rows(given["logits"], "logits")
        if kind == "cross_entropy":
            return self._cross_entropy(given, logits, batched)
        if kind == "multiclass_hinge":
            return self._multiclass_hinge(given, logits, batched)
        return self._binary(given, kind)

    # ------------------------------------------------------------------ softmax cross-entropy

    def _targets(self, given, logits, batched) -> list[list]:
        n, k = len(logits), len(logits[0])
        target = given["target"]
        base = given.get("first_class", 0)
        if isinstance(target, list) and target and all(isinstance(t, list) for t in target):
            rows = [[exact(x) for x in row] for row in target]
        elif isinstance(target, list) and batched and all(isinstance(t, int) and not isinstance(t, bool) for t in target):
            rows = [self._one_hot(t, base, k) for t in target]
        elif isinstance(target, list) and not batched:
            rows = [[exact(x) for x in target]]
        elif isinstance(target, int) and not isinstance(target, bool) and not batched:
            rows = [self._one_hot(target, base, k)]
        else:
            raise FamilyError("target must be a class index per sample or a distribution per sample")
        if len(rows) != n or any(len(r) != k for r in rows):
            raise FamilyError(f"target must give one class or distribution of {k} values for each of the {n} sample(s)")
        for row in rows:
            if any(v < 0 for v in row) or sp.simplify(sp.Add(*row) - 1) != 0:
                raise FamilyError(f"a target distribution must be >= 0 and sum to 1: {show(row)}")
        return rows

    @staticmethod
    def _one_hot(index: int, base: int, k: int) -> list:
        if not base <= index < base + k:
            raise FamilyError(f"class {index} is out of range: classes are {base}..{base + k - 1}")
        return [sp.Integer(int(j == index - base)) for j in range(k)]

    def _smooth(self, given, rows, k):
        eps = exact(given.get("label_smoothing", 0))
        if not 0 <= eps <= 1:
            raise FamilyError("label_smoothing must be between 0 and 1")
        if eps == 0:
            return rows
        if given.get("smoothing_over", "all_classes") == "all_classes":
            return [[(1 - eps) * y + eps / k for y in row] for row in rows]
        if k < 2:
            raise FamilyError("smoothing over the other classes needs at least 2 classes")
        return [[(1 - eps) * y + eps * (1 - y) / (k - 1) for y in row] for row in rows]

    def _cross_entropy(self, given, logits, batched):
        n, k = len(logits), len(logits[0])
        hard = self._targets(given, logits, batched)
        targets = self._smooth(given, hard, k)
        reduce = _Reducer(given.get("reduction", "mean"), n)
        softmax, log_softmax, losses, gradient, lse_all = [], [], [], [], []
        for z, y in zip(logits, targets):
            lse = sp.log(sp.Add(*(sp.exp(zi) for zi in z)))
            p = [sp.exp(zi) / sp.Add(*(sp.exp(zj) for zj in z)) for zi in z]
            logp = [zi - lse for zi in z]
            losses.append(sp.expand(-sp.Add(*(yi * lp for yi, lp in zip(y, logp)))))
            gradient.append([reduce.weight * (pi - yi) for pi, yi in zip(p, y)])
            softmax.append(p)
            log_softmax.append(logp)
            lse_all.append(lse)
        base = given.get("first_class", 0)
        predicted = [max(range(k), key=lambda j, z=z: float(z[j])) + base for z in logits]
        one = (lambda rows: rows) if batched else (lambda rows: rows[0])
        results = {
            "softmax": one(softmax), "log_softmax": one(log_softmax),
            "target_distribution": one(targets), "losses": losses, "loss": reduce(losses),
            "gradient": one(gradient), "predicted_classes": predicted,
        }
        if all(sum(1 for v in row if v != 0) == 1 for row in hard):
            results["probabilities"] = [p[row.index(1)] for p, row in zip(softmax, hard)]
        if not batched:
            results.update(logsumexp=lse_all[0], predicted_class=predicted[0])
            if "probabilities" in results:
                results["probability"] = results["probabilities"][0]
            for j in range(k):
                results[f"softmax.{j + base}"] = softmax[0][j]
                results[f"log_softmax.{j + base}"] = log_softmax[0][j]
                results[f"gradient.{j + base}"] = gradient[0][j]
        steps = [
            Step("softmax", "p_j = exp(z_j) / Σ_i exp(z_i); log p_j = z_j − log Σ_i exp(z_i)"),
        ]
        for i, (z, p) in enumerate(zip(logits, softmax), start=1):
            where = f"sample {i}: " if batched else ""
            steps.append(Step(f"{where}softmax of z = {show(z)}", f"p = {show([sp.N(v, 6) for v in p])}"))
        if targets is not hard:
            steps.append(Step("label smoothing", f"y = {show(targets[0] if not batched else targets)}"))
        steps.append(Step("cross-entropy", f"ℓ = −Σ_j y_j log p_j = {show([sp.N(v, 6) for v in losses])}; "
                                           f"{reduce.text()}: {show(results['loss'])}"))
        formula = "(p − y)/N" if reduce.reduction == "mean" and n > 1 else "p − y"
        steps.append(Step("gradient w.r.t. the logits", f"∂L/∂z = {formula} = {show(results['gradient'])}"))
        return Solution(results, steps)

    # ------------------------------------------------------------------ binary losses

    def _binary(self, given, kind):
        z = _flatten(_as_rows(given["logits"], "logits")[0])
        y = [exact(v) for v in _flatten(given["target"])]
        if len(y) != len(z):
            raise FamilyError(f"target needs one value per logit ({len(z)})")
        reduce = _Reducer(given.get("reduction", "mean"), len(z))
        if kind == "binary_cross_entropy":
            if any(not 0 <= t <= 1 for t in y):
                raise FamilyError("binary cross-entropy targets must be between 0 and 1")
            losses = [sp.log(1 + sp.exp(zi)) - yi * zi for zi, yi in zip(z, y)]
            probs = [sigma(zi) for zi in z]
            gradient = [reduce.weight * (p - yi) for p, yi in zip(probs, y)]
            steps = [Step("probabilities", f"σ(z) = {show([sp.N(p, 6) for p in probs])}"),
                     Step("binary cross-entropy with logits",
                          "ℓ = −[y log σ(z) + (1 − y) log(1 − σ(z))] = log(1 + e^z) − y·z"),
                     Step("gradient", "∂ℓ/∂z = σ(z) − y")]
            results = {"sigmoid": probs}
        else:
            if any(t not in (1, -1) for t in y):
                raise FamilyError("hinge labels must be +1 or -1")
            margins = [yi * zi for zi, yi in zip(z, y)]
            losses = [sp.Max(0, 1 - m) for m in margins]
            gradient = [reduce.weight * (-yi if m < 1 else 0) for m, yi in zip(margins, y)]
            steps = [Step("margins", f"y·s = {show(margins)}"),
                     Step("hinge", "ℓ = max(0, 1 − y·s); ∂ℓ/∂s = −y where y·s < 1, else 0")]
            results = {"margins": margins}
        results.update(losses=losses, loss=reduce(losses), gradient=gradient)
        _add_entries(results)
        steps.append(Step(f"loss ({reduce.text()})", f"{show([sp.N(v, 6) for v in losses])} → {show(results['loss'])}"))
        return Solution(results, steps)

    def _multiclass_hinge(self, given, logits, batched):
        n, k = len(logits), len(logits[0])
        base = given.get("first_class", 0)
        target = given["target"]
        labels = target if isinstance(target, list) else [target]
        if len(labels) != n or not all(isinstance(t, int) and not isinstance(t, bool) for t in labels):
            raise FamilyError("multiclass hinge needs one integer class per sample")
        margin = exact(given.get("margin", 1))
        scale = sp.Rational(1, k) if given.get("divide_by_classes") else sp.Integer(1)
        reduce = _Reducer(given.get("reduction", "mean"), n)
        losses, gradient, terms = [], [], []
        for s, label in zip(logits, labels):
            c = self._one_hot(label, base, k).index(1)
            row_terms = [sp.Max(0, s[j] - s[c] + margin) if j != c else sp.Integer(0) for j in range(k)]
            active = [j != c and bool(s[j] - s[c] + margin > 0) for j in range(k)]
            grad = [scale * reduce.weight * (1 if active[j] else 0) for j in range(k)]
            grad[c] = -scale * reduce.weight * sum(active)
            losses.append(scale * sp.Add(*row_terms))
            gradient.append(grad)
            terms.append(row_terms)
        one = (lambda v: v) if batched else (lambda v: v[0])
        results = {"margins": one(terms), "losses": losses, "loss": reduce(losses), "gradient": one(gradient)}
        if not batched:
            for j in range(k):
                results[f"gradient.{j + base}"] = gradient[0][j]
        steps = [Step("multiclass hinge", f"ℓ = {'(1/K)' if scale != 1 else ''}Σ_{{j≠y}} max(0, s_j − s_y + {show(margin)})"),
                 Step("terms", show(results["margins"])),
                 Step(f"loss ({reduce.text()})", show(results["loss"])),
                 Step("gradient", "∂ℓ/∂s_j = 1 for each active term j, ∂ℓ/∂s_y = −(number of active terms): "
                                  + show(results["gradient"]))]
        return Solution(results, steps)

    # ------------------------------------------------------------------ regression

    def _regression(self, given, kind):
        if "prediction" not in given:
            raise FamilyError(f"{kind} needs prediction and target")
        rows, batched = _as_rows(given["prediction"], "prediction")
        targets, _ = _as_rows(given["target"], "target")
        pred, target = _flatten(rows), _flatten(targets)
        if len(pred) != len(target):
            raise FamilyError("prediction and target must have the same number of values")
        reduce = _Reducer(given.get("reduction", "mean"), len(pred))
        residual = [p - t for p, t in zip(pred, target)]
        if kind == "mse":
            losses, slopes, formula = [d ** 2 for d in residual], [2 * d for d in residual], "d², ∂/∂ŷ = 2d"
        elif kind == "mae":
            losses, slopes, formula = [sp.Abs(d) for d in residual], [sp.sign(d) for d in residual], "|d|, ∂/∂ŷ = sign(d)"
        else:
            width = exact(given.get("delta" if kind == "huber" else "beta", 1))
            if width <= 0:
                raise FamilyError("delta/beta must be positive")
            divide = width if kind == "smooth_l1" else sp.Integer(1)
            losses = [(d ** 2 / 2 if abs(d) <= width else width * (sp.Abs(d) - width / 2)) / divide for d in residual]
            slopes = [(d if abs(d) <= width else width * sp.sign(d)) / divide for d in residual]
            formula = (f"(1/2)d² if |d| ≤ {show(width)}, else {show(width)}(|d| − {show(width / 2)})"
                       + (f", divided by β = {show(width)}" if kind == "smooth_l1" else ""))
        shape = (lambda v: [v[i * len(rows[0]):(i + 1) * len(rows[0])] for i in range(len(rows))]) if batched else \
            (lambda v: v)
        gradient = [reduce.weight * s for s in slopes]
        results = {"residuals": shape(residual), "losses": shape(losses), "loss": reduce(losses), "gradient": shape(gradient)}
        for i, (d, g) in enumerate(zip(residual, gradient), start=1):
            results[f"residual.{i}"] = d
            results[f"gradient.{i}"] = g
        steps = [Step("residuals", f"d = ŷ − y = {show(residual)}"),
                 Step(kind, f"per element: {formula}"),
                 Step(f"loss ({reduce.text()})", f"{show(losses)} → {show(results['loss'])}"),
                 Step("gradient w.r.t. the predictions", show(results["gradient"]))]
        return Solution(results, steps)

    # ------------------------------------------------------------------ known mistakes

    def variants(self, given: dict) -> list[Variant]:
        out = []
        kind = given.get("kind")
        if given.get("reduction", "mean") == "mean":
            out.append(Variant({**given, "reduction": "sum"},
                               "summed over the batch; this loss is the mean (divide by the number of "
                               + ("elements" if kind in REGRESSION else "samples") + ")"))
        if kind == "cross_entropy" and "label_smoothing" in given and exact(given["label_smoothing"]) != 0:
            out.append(Variant({k: v for k, v in given.items() if k not in ("label_smoothing", "smoothing_over")},
                               "the label smoothing is missing: y = (1 − ε)·onehot + ε/K"))
            other = "all_classes" if given.get("smoothing_over") == "other_classes" else "other_classes"
            out.append(Variant({**given, "smoothing_over": other},
                               "ε/(K − 1) to the other classes" if other == "other_classes" else
                               "ε/K to every class (PyTorch's form); this problem gives the target 1 − ε"))
        if kind == "cross_entropy" and given.get("first_class", 0) == 0 and _is_index(given.get("target")):
            out.append(Variant({**given, "first_class": 1}, "classes are counted from 0 here"))
        if kind == "huber":
            out.append(Variant({**{k: v for k, v in given.items() if k != "delta"}, "kind": "smooth_l1",
                                "beta": given.get("delta", 1)},
                               "this is SmoothL1 (Huber divided by δ); Huber(δ) = (1/2)d² or δ(|d| − (1/2)δ)"))
        if kind == "smooth_l1":
            out.append(Variant({**{k: v for k, v in given.items() if k != "beta"}, "kind": "huber",
                                "delta": given.get("beta", 1)},
                               "this is Huber(β); SmoothL1 divides it by β"))
        if kind == "multiclass_hinge":
            out.append(Variant({**given, "divide_by_classes": not given.get("divide_by_classes", False)},
                               "PyTorch's MultiMarginLoss divides by the number of classes; this problem "
                               + ("does" if given.get("divide_by_classes") else "does not")))
        return out


def _add_entries(results: dict) -> None:
    """sigmoid.i or margin.i, and gradient.i (from 1), for the per-sample lists of the binary losses."""
    for plural, name in (("sigmoid", "sigmoid"), ("margins", "margin"), ("gradient", "gradient")):
        for i, value in enumerate(results.get(plural, []), start=1):
            results[f"{name}.{i}"] = value


def _in_base(solution: Solution, base: int) -> None:
    """Cross-entropies measured with log base `base` (bits for 2): every log-valued result and the
    gradient are divided by ln(base); softmax probabilities are unchanged."""
    scale = 1 / sp.log(base)

    def rescale(value):
        return [rescale(v) for v in value] if isinstance(value, list) else value * scale

    for name in list(solution.results):
        if name.split(".")[0] in ("loss", "losses", "log_softmax", "logsumexp", "gradient"):
            solution.results[name] = rescale(solution.results[name])
    solution.steps.append(Step(f"log base {base}", f"the losses and their gradient are divided by ln {base}"))


def _is_index(target) -> bool:
    if isinstance(target, bool):
        return False
    if isinstance(target, int):
        return True
    return isinstance(target, list) and bool(target) and all(isinstance(t, int) and not isinstance(t, bool) for t in target)
