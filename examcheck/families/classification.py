"""Classification: logistic-regression loss and accuracy, metrics under class
imbalance, softmax classifier shapes and what its weights mean, softmax
probabilities, tables of class scores, mixtures of logistic regressions,
first-order changes of a loss, and trends of a reported series."""

from __future__ import annotations

import sympy as sp

from examcheck.families import NUMBER_VALUE, Conventions, Family, FamilyError, Result, Solution, Step, Variant, register
from examcheck.families.helpers import log
from examcheck.mathfuncs import sigma
from examcheck.values import exact, show

NUMBER = NUMBER_VALUE


@register
class LogisticLoss(Family):
    name = "logistic_loss"
    solve_at_load = True
    summary = "mean binary cross-entropy and accuracy per epoch, from predicted probabilities and labels"
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["labels", "probabilities"],
        "properties": {
            "labels": {"type": "array", "items": {"enum": [0, 1]}, "minItems": 1},
            "probabilities": {"type": "array", "minItems": 1,
                              "items": {"type": "array", "items": NUMBER},
                              "description": "P(y=1|x) per sample, one list per epoch"},
            "threshold": NUMBER,
        },
    }

    results = (
        Result("losses.{epoch}", "vector", "per-sample cross-entropy of epoch {epoch} (in the problem's log base)"),
        Result("mean_loss.{epoch}", "number", "mean cross-entropy of epoch {epoch}"),
        Result("accuracy.{epoch}", "number", "fraction correct at the threshold in epoch {epoch}"),
        Result("trend", "choice", "'loss up|down, accuracy up|down' from the first to the last epoch"),
    )
    example = {"labels": [1, 0], "probabilities": [[0.9, 0.2], [0.6, 0.3]]}

    def solve(self, given: dict, conventions: Conventions) -> Solution:
        labels = given["labels"]
        base = conventions.log_base
        threshold = exact(given.get("threshold", "0.5"))
        results: dict = {}
        steps = [Step("loss per sample", f"−[y log p + (1 − y) log(1 − p)], log base {base}")]
        for epoch, row in enumerate(given["probabilities"], start=1):
            p = [exact(v) for v in row]
            if len(p) != len(labels):
                raise FamilyError(f"epoch {epoch} has {len(p)} probabilities for {len(labels)} labels")
            if any(not 0 < v < 1 for v in p):
                raise FamilyError("probabilities must lie strictly between 0 and 1")
            losses = [-log(v if y == 1 else 1 - v, base) for v, y in zip(p, labels)]
            correct = sum(1 for v, y in zip(p, labels) if (v >= threshold) == (y == 1))
            mean = sp.Add(*losses) / len(losses)
            results[f"losses.{epoch}"] = losses
            results[f"mean_loss.{epoch}"] = mean
            results[f"accuracy.{epoch}"] = sp.Rational(correct, len(labels))
            steps.append(Step(f"epoch {epoch}", f"losses {show([sp.N(v, 4) for v in losses])}; mean = "
                                                f"{sp.N(mean, 6)}; {correct}/{len(labels)} correct"))
        epochs = len(given["probabilities"])
        if epochs >= 2:
            up = results[f"mean_loss.{epochs}"] > results["mean_loss.1"]
            acc_up = results[f"accuracy.{epochs}"] > results["accuracy.1"]
            results["trend"] = f"loss {'up' if up else 'down'}, accuracy {'up' if acc_up else 'down'}"
            steps.append(Step("trend", results["trend"]))
        return Solution(results, steps)


@register
class Metrics(Family):
    name = "classification_metrics"
    solve_at_load = True
    summary = "accuracy, precision, recall, F1 from counts, or of a constant classifier"
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "tp": {"type": "integer", "minimum": 0}, "fp": {"type": "integer", "minimum": 0},
            "tn": {"type": "integer", "minimum": 0}, "fn": {"type": "integer", "minimum": 0},
            "positives": {"type": "integer", "minimum": 0}, "negatives": {"type": "integer", "minimum": 0},
            "predict": {"enum": ["positive", "negative"], "description": "a constant classifier"},
            "zero_division": {"type": "number", "description": "value of 0/0 metrics (default 0, as scikit-learn)"},
        },
    }

    results = (
        Result("accuracy", "number", "(TP + TN)/all"),
        Result("precision", "number", "TP/(TP + FP)"),
        Result("recall", "number", "TP/(TP + FN)"),
        Result("f1", "number", "2PR/(P + R)"),
        Result("specificity", "number", "TN/(TN + FP)"),
        Result("tp", "integer", "true positives"), Result("fp", "integer", "false positives"),
        Result("tn", "integer", "true negatives"), Result("fn", "integer", "false negatives"),
    )
    example = {"tp": 40, "fp": 10, "tn": 45, "fn": 5}

    def solve(self, given: dict, conventions: Conventions) -> Solution:
        if "predict" in given:
            pos, neg = given["positives"], given["negatives"]
            tp, fn = (pos, 0) if given["predict"] == "positive" else (0, pos)
            fp, tn = (neg, 0) if given["predict"] == "positive" else (0, neg)
        else:
            tp, fp, tn, fn = (given.get(k, 0) for k in ("tp", "fp", "tn", "fn"))
        zero = exact(given.get("zero_division", 0))

        def ratio(a, b):
            return sp.Rational(a, b) if b else zero

        precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else zero
        results = {"accuracy": ratio(tp + tn, tp + fp + tn + fn), "precision": precision, "recall": recall,
                   "f1": f1, "specificity": ratio(tn, tn + fp), "tp": tp, "fp": fp, "tn": tn, "fn": fn}
        steps = [Step("confusion counts", f"TP={tp}, FP={fp}, TN={tn}, FN={fn}"),
                 Step("accuracy", f"({tp} + {tn})/{tp + fp + tn + fn} = {show(results['accuracy'])}"),
                 Step("precision, recall, F1", f"{show(precision)}, {show(recall)}, {show(f1)}"
                                              f"{' (0/0 counted as ' + show(zero) + ')' if not (tp + fp) else ''}")]
        return Solution(results, steps)


@register
class SoftmaxClassifier(Family):
    name = "softmax_classifier"
    solve_at_load = True
    summary = "a linear softmax classifier on one-hot encoded features: W's shape and what its entries mean"
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["features", "classes"],
        "properties": {
            "features": {"type": "array", "minItems": 1, "items": {
                "oneOf": [{"type": "string"},
                          {"type": "object", "required": ["name", "levels"], "additionalProperties": False,
                           "properties": {"name": {"type": "string"},
                                          "levels": {"type": "array", "items": {"type": "string"}, "minItems": 2}}}]}},
            "classes": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "bias": {"enum": ["last", "first", "none"]},
        },
    }

    results = (
        Result("n_features", "integer", "input columns after one-hot encoding (without the bias)"),
        Result("weight_shape", "shape", "W: classes × inputs (with the bias column unless bias: none)"),
        Result("column.{j}", "choice", "what input column {j} holds (from 1)"),
        Result("row.{i}", "choice", "which class row {i} scores (from 1)"),
    )
    example = {"features": [{"name": "colour", "levels": ["red", "green"]}, "age"], "classes": ["a", "b", "c"]}

    def solve(self, given: dict, conventions: Conventions) -> Solution:
        columns = []
        for feature in given["features"]:
            if isinstance(feature, str):
                columns.append(feature)
            else:
                columns += [f"{feature['name']}{level}" for level in feature["levels"]]
        bias = given.get("bias", "last")
        inputs = ([*columns, "bias"] if bias == "last" else ["bias", *columns] if bias == "first" else columns)
        classes = given["classes"]
        results: dict = {"n_features": len(columns), "weight_shape": (len(classes), len(inputs))}
        for j, name in enumerate(inputs, start=1):
            results[f"column.{j}"] = name
        for i, name in enumerate(classes, start=1):
            results[f"row.{i}"] = name
        steps = [Step("one-hot encoding", f"{len(columns)} input columns: {', '.join(columns)}"),
                 Step("weights", f"W is classes × inputs = {len(classes)} × ({len(columns)}"
                                 f"{' + 1' if bias != 'none' else ''}) = {len(classes)}×{len(inputs)}"),
                 Step("indices (from 1)", f"row i scores class i; column j multiplies input j; "
                                          f"w_ij is class i's weight on input j ({'bias last' if bias == 'last' else bias})")]
        return Solution(results, steps)

    def variants(self, given: dict) -> list[Variant]:
        if given.get("bias", "last") != "none":
            return [Variant({**given, "bias": "none"}, "the bias column (bias trick) is missing")]
        return []


def _softmax(logits: list) -> list:
    exps = [sp.exp(v) for v in logits]
    total = sp.Add(*exps)
    return [e / total for e in exps]


@register
class Softmax(Family):
    name = "softmax"
    solve_at_load = True
    summary = "softmax probabilities of a linear classifier at given points, and the predicted class"
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["weights", "points"],
        "properties": {
            "weights": {"type": "array", "items": {"type": "array", "items": NUMBER}, "minItems": 2,
                        "description": "one row per class"},
            "biases": {"type": "array", "items": NUMBER},
            "points": {"type": "array", "items": {"type": "array", "items": NUMBER}, "minItems": 1},
        },
    }

    results = (
        Result("probabilities.{point}", "vector", "softmax probabilities at point {point} (from 1)"),
        Result("argmax.{point}", "integer", "the predicted class at point {point} (from 1)"),
    )
    example = {"weights": [[1, 0], [0, 1]], "points": [[1, 2]]}

    def solve(self, given: dict, conventions: Conventions) -> Solution:
        weights = [[exact(v) for v in row] for row in given["weights"]]
        biases = [exact(v) for v in given.get("biases", [0] * len(weights))]
        results: dict = {}
        steps = [Step("probabilities", "p_c = exp(w_c·x + b_c) / Σ_k exp(w_k·x + b_k)")]
        for i, point in enumerate(given["points"], start=1):
            x = [exact(v) for v in point]
            logits = [sp.nsimplify(sum(w * v for w, v in zip(row, x)) + b) for row, b in zip(weights, biases)]
            probs = _softmax(logits)
            results[f"probabilities.{i}"] = probs
            results[f"argmax.{i}"] = max(range(len(probs)), key=lambda c: float(probs[c])) + 1
            steps.append(Step(f"point {i} = {show(x)}", f"logits {show(logits)} → p = "
                                                         f"{show([sp.N(p, 4) for p in probs])}"))
        return Solution(results, steps)


@register
class ClassScores(Family):
    name = "class_scores"
    solve_at_load = True
    summary = "predictions (argmax), accuracy and softmax probabilities of a table of class scores"
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["classes", "scores"],
        "properties": {
            "classes": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "scores": {"type": "array", "items": {"type": "array", "items": NUMBER}, "minItems": 1},
            "labels": {"type": "array", "items": {"type": "string"}},
        },
    }

    results = (
        Result("prediction.{row}", "choice", "the class with the largest score in row {row}"),
        Result("probabilities.{row}", "vector", "softmax of row {row}"),
        Result("any_negative_score", "boolean", "some score is negative (so scores are not probabilities)"),
        Result("accuracy", "number", "fraction of rows whose prediction equals the label"),
    )
    example = {"classes": ["cat", "dog"], "scores": [[2, 1], [0.5, 3]], "labels": ["cat", "cat"]}

    def solve(self, given: dict, conventions: Conventions) -> Solution:
        classes = given["classes"]
        results: dict = {}
        steps = []
        predictions = []
        for i, row in enumerate(given["scores"], start=1):
            values = [exact(v) for v in row]
            if len(values) != len(classes):
                raise FamilyError(f"row {i} has {len(values)} scores for {len(classes)} classes")
            best = max(range(len(values)), key=lambda c: values[c])
            predictions.append(classes[best])
            results[f"prediction.{i}"] = classes[best]
            results[f"probabilities.{i}"] = _softmax(values)
            steps.append(Step(f"row {i}", f"largest score {show(values[best])} → {classes[best]}"))
        results["any_negative_score"] = any(exact(v) < 0 for row in given["scores"] for v in row)
        if "labels" in given:
            hits = sum(p == y for p, y in zip(predictions, given["labels"]))
            results["accuracy"] = sp.Rational(hits, len(predictions))
            steps.append(Step("accuracy", f"{hits}/{len(predictions)}"))
        return Solution(results, steps)


@register
class LogisticMixture(Family):
    name = "logistic_mixture"
    summary = "a mixture of K logistic regressions: p(y=1|x) by marginalising the latent component"
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["components"],
        "properties": {"components": {"type": "integer", "minimum": 1, "maximum": 12}},
    }

    results = (
        Result("probability", "expression", "p(y=1|x) = Σ_k π_k σ(z_k)"),
        Result("hidden_units", "integer", "sigmoid units of the equivalent network"),
    )
    example = {"components": 2}

    def solve(self, given: dict, conventions: Conventions) -> Solution:
        k = given["components"]
        pis = [sp.Symbol(f"pi_{j}", positive=True) for j in range(1, k + 1)]
        logits = [sp.Symbol(f"z_{j}", real=True) for j in range(1, k + 1)]
        joint = {(y, j): pis[j] * (sigma(logits[j]) if y == 1 else 1 - sigma(logits[j]))
                 for y in (0, 1) for j in range(k)}
        marginal = sp.Add(*(joint[(1, j)] for j in range(k)))
        total = sp.simplify(sp.Add(*joint.values()).subs(pis[-1], 1 - sp.Add(*pis[:-1])))
        steps = [Step("joint", "p(y=1, z=k | x) = π_k σ(w_kᵀx), since z does not depend on x"),
                 Step("marginal", f"p(y=1|x) = Σ_k p(y=1, z=k|x) = {show(marginal)} (z_k = w_kᵀx)"),
                 Step("as a network", f"inputs x → {k} sigmoid units σ(w_kᵀx) → output Σ_k π_k a_k (weights π_k)"),
                 Step("check", f"Σ_y Σ_k p(y, z=k|x) = {show(total)}")]
        return Solution({"probability": marginal, "hidden_units": k}, steps)


@register
class FirstOrder(Family):
    name = "first_order_change"
    solve_at_load = True
    summary = "how a loss moves when one weight moves a little: ΔL ≈ (∂L/∂w)·Δw"
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["gradient", "step"],
        "properties": {"gradient": NUMBER, "step": NUMBER},
    }

    results = (
        Result("change", "number", "ΔL ≈ (∂L/∂w)·Δw"),
        Result("direction", "choice", "increases, decreases or stays the same"),
    )
    example = {"gradient": 4, "step": 0.001}

    def solve(self, given: dict, conventions: Conventions) -> Solution:
        g, dw = exact(given["gradient"]), exact(given["step"])
        change = g * dw
        direction = "increases" if change > 0 else "decreases" if change < 0 else "stays the same"
        steps = [Step("first-order change", f"ΔL ≈ {show(g)}·{show(dw)} = {show(change)}, so the loss {direction}")]
        return Solution({"change": change, "direction": direction}, steps)


@register
class Series(Family):
    name = "series"
    solve_at_load = True
    summary = "whether a reported series (per-epoch metric, say) rises or falls, step by step"
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["values"],
        "properties": {"values": {"type": "array", "items": NUMBER, "minItems": 2}},
    }

    results = (
        Result("differences", "vector", "successive differences"),
        Result("increasing", "boolean", "strictly increasing"),
        Result("decreasing", "boolean", "strictly decreasing"),
        Result("net_change", "number", "last − first"),
    )
    example = {"values": [0.5, 0.6, 0.58]}

    def solve(self, given: dict, conventions: Conventions) -> Solution:
        values = [exact(v) for v in given["values"]]
        diffs = [b - a for a, b in zip(values, values[1:])]
        results = {"differences": diffs, "increasing": all(d > 0 for d in diffs),
                   "decreasing": all(d < 0 for d in diffs), "net_change": values[-1] - values[0]}
        drops = [i + 2 for i, d in enumerate(diffs) if d <= 0]
        steps = [Step("differences", show(diffs)),
                 Step("strictly increasing?", "yes" if results["increasing"] else f"no: it does not rise at step(s) {drops}")]
        return Solution(results, steps)
