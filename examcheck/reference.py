"""Compute the reference answer of every part: from its family's results, or
from its own `reference` expression.  Also computes the known mistakes."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from examcheck.answertests import Options, Verdict, read_reference, run_test
from examcheck.bugs import from_traceback
from examcheck.domains import parse_domain
from examcheck.families import FamilyError, Solution
from examcheck.families import get as get_family
from examcheck.limits import CheckFailed, LimitExceeded, Limits
from examcheck.model import Mistake, Part, Problem
from examcheck.parsing import ParseError, Vocabulary
from examcheck.sandbox import Session, run_bounded
from examcheck.values import exact

FAMILY_LIMITS = Limits(seconds=20.0)     # one family solve
REFERENCE_LIMITS = Limits(seconds=10.0)  # reading a reference or a mistake, comparing two values, showing one


def solve_family(family: str, given: dict, log_base) -> Solution:
    """A family's solution; what the problem gives it wrongly is a FamilyError.  Anything else a family
    raises (TypeError, KeyError, ...) is a bug in the family, and reaches the engine as an internal error."""
    try:
        return get_family(family).compute(given, log_base)
    except (FamilyError, ParseError, ValueError, ArithmeticError) as exc:
        raise FamilyError(str(exc)) from None


def _is_bug(failure: CheckFailed) -> bool:
    """A failure in the sandbox that is neither the problem's fault (FamilyError, ParseError) nor a crash."""
    detail = getattr(failure, "detail", None)
    if not detail:
        return False
    name = str(failure).split(":", 1)[0].rsplit(".", 1)[-1]
    return name not in ("FamilyError", "ParseError", "ProblemError", "TooComplex", "LimitExceeded")


class ProblemError(ValueError):
    """A part's reference cannot be computed: the problem file is at fault."""


@dataclass
class KnownMistake:
    value: Any
    feedback: str
    marks: float
    line: int | None = None


@dataclass
class PartReference:
    value: Any
    options: Options
    solution: Solution | None = None
    mistakes: list[KnownMistake] = field(default_factory=list)
    shown: Any = None  # the family's readable form of the value, when it has one
    expected: str | None = None  # the expected answer as shown to people (computed once, bounded)

    @property
    def display(self):
        """What to show people: the readable form if the family gave one, else the value."""
        return self.shown if self.shown is not None else self.value


def log_base_of(base) -> int | None:
    """The parser's log base for a log_base convention ('e', 2 or 10)."""
    return None if base in (None, "e") else int(base)


class Resolver:
    """Solves families once per distinct given values, and builds references."""

    def __init__(self, runner=None):
        """runner(fn, *args, limits=...) runs a family solve under limits; by default in a sandbox session
        of this resolver's own.  The engine's workers, being sandboxes already, pass a direct call."""
        self.runner = runner
        self._session = None
        self._solutions: dict[str, Solution] = {}
        self._references: dict[tuple, tuple] = {}  # keeps problem and part alive, so their ids stay unique
        self.fingerprints: dict[tuple, str] = {}

    def solve(self, family: str, given: dict, log_base) -> Solution:
        """The family's solution, computed once, in the sandbox, under FAMILY_LIMITS."""
        cache_key = json.dumps([family, given, str(log_base)], sort_keys=True, default=str)
        if cache_key not in self._solutions:
            try:
                get_family(family)  # an unknown family is reported here, not in the sandbox
            except FamilyError as exc:
                raise ProblemError(str(exc)) from exc
            try:
                self._solutions[cache_key] = self._run(solve_family, family, given, log_base)
            except LimitExceeded as exc:
                raise ProblemError(f"family {family!r} ran past its {exc.what} limit on this problem") from exc
            except CheckFailed as exc:
                if _is_bug(exc):  # a TypeError, KeyError, ... inside the family: a bug, never the problem file's fault
                    raise from_traceback(f"family {family}", exc.detail, "solving the family") from None
                raise ProblemError(f"family {family!r} could not solve this problem: {exc}") from exc
            except FamilyError as exc:  # raised as it is inside a sandbox worker
                raise ProblemError(f"family {family!r} could not solve this problem: {exc}") from exc
        return self._solutions[cache_key]

    def _run(self, fn, *args):
        if self.runner is not None:
            return self.runner(fn, *args, limits=FAMILY_LIMITS)
        if self._session is None:
            self._session = Session(1, FAMILY_LIMITS.memory_mb)
        return run_bounded(fn, *args, limits=FAMILY_LIMITS, session=self._session)

    def part_solution(self, problem: Problem, part: Part) -> Solution | None:
        if problem.family is None or (part.answer == "text" and part.result is None):
            return None
        return self.solve(problem.family, {**problem.given, **part.given}, part.log_base)

    def reference(self, problem: Problem, part: Part, with_mistakes: bool = True) -> PartReference:
        """The part's reference, computed once per run (references do not depend on answers)."""
        key = (id(problem), id(part), with_mistakes)
        if key not in self._references:
            try:
                computed = self._compute(problem, part, with_mistakes)
            except (RecursionError, MemoryError):
                raise ProblemError("the reference is too large to compute") from None
            # anything else unexpected is a bug: the engine reports it as such, for this part only
            self._references[key] = (problem, part, computed)
        return self._references[key][2]

    def _compute(self, problem: Problem, part: Part, with_mistakes: bool) -> PartReference:
        solution = self.part_solution(problem, part)
        options = self.options(problem, part, solution)
        if part.answer == "text":
            return PartReference(None, options, solution)
        if part.result is not None:
            value = convert(result_of(solution, part.result, problem.family), part.answer)
        else:
            value = self.read(part.answer, part.reference, options, "reference")
        options = widen_vocabulary(options, value)
        shown = solution.display.get(part.result) if solution is not None and part.result else None
        ref = PartReference(value, options, solution, shown=shown)
        ref.expected = bounded(_expected_text, part, ref.display, value, what="showing the expected answer")
        if with_mistakes:
            ref.mistakes = self.mistakes(problem, part, options, value)
        return ref

    def read(self, answer_type: str, written, options: Options, what: str):
        """An instructor-written answer read as a value, in the sandbox under REFERENCE_LIMITS."""
        status, value = bounded(_read_written, answer_type, written, options, what=f"reading the {what}")
        if status == "error":
            raise ProblemError(f"cannot read the {what} {_short(written)} as {answer_type}: {value}")
        return value

    def options(self, problem: Problem, part: Part, solution: Solution | None = None) -> Options:
        domains = {name: parse_domain(text) for name, text in part.variables.items()}
        symbols = {name: d.symbol(name) for name, d in domains.items()}
        values = {}
        if problem.family is None:
            for name, value in problem.given.items():
                try:
                    values[name] = exact(value)
                except (ParseError, ValueError) as exc:
                    raise ProblemError(f"given value {name!r} is not a number: {exc}") from exc
        definitions = {}
        if solution is not None:
            values.update(scalar_results(solution.results))
            definitions = dict(solution.definitions)
            for name in definitions:
                symbols.setdefault(name, sp.Symbol(name, real=True))
            for value in definitions.values():  # f = tanh(z): answers may write z as well as f
                for sym in getattr(value, "free_symbols", ()):
                    symbols.setdefault(sym.name, sym)
        extra = part.options
        return Options(
            vocab=Vocabulary(symbols, values, log_base_of(part.log_base), frozenset(part.functions)),
            definitions=definitions,
            precision=part.precision,
            domains=domains,
            choices=part.choices,
            ignore_singleton=extra.get("ignore_singleton", False),
            partial_entries=extra.get("partial_entries", False),
            points=extra.get("points", 8),
            slip_context=slip_context_of(problem, part, solution),
        )

    def mistakes(self, problem: Problem, part: Part, options: Options, reference) -> list[KnownMistake]:
        found = [self._declared(problem, part, m, options) for m in part.mistakes]
        if problem.family is not None and part.result is not None:
            merged = {**problem.given, **part.given}
            for variant in get_family(problem.family).variants(merged):
                try:
                    solution = self.solve(problem.family, variant.given, part.log_base)
                    value = convert(result_of(solution, part.result, problem.family), part.answer)
                except ProblemError:
                    continue
                if equal_values(value, reference) is not True:
                    found.append(KnownMistake(value, variant.feedback, 0.0))
        return found

    def _declared(self, problem: Problem, part: Part, mistake: Mistake, options: Options) -> KnownMistake:
        if mistake.answer is not None:
            value = self.read(part.answer, mistake.answer, options, "mistake answer")
        else:
            if problem.family is None:
                raise ProblemError("a mistake with `given` or `log_base` needs a family")
            given = {**problem.given, **part.given, **(mistake.given or {})}
            base = mistake.log_base if mistake.log_base is not None else part.log_base
            solution = self.solve(problem.family, given, base)
            value = convert(result_of(solution, mistake.result or part.result, problem.family), part.answer)
        return KnownMistake(value, mistake.feedback, mistake.marks, mistake.line)


_LOG_WORDS = re.compile(r"(?<![A-Za-z])(log|ln|lg|entropy|nats?|bits?|perplexity|likelihood|KL|softplus|"
                        r"log_?sum_?exp|logit|logits|divergence)(?![A-Za-z])|\\(log|ln)|log_?(2|10|e)|log\d", re.IGNORECASE)
_PERCENT_WORDS = re.compile(r"%|percent|pct", re.IGNORECASE)


def slip_context_of(problem: Problem, part: Part, solution: Solution | None) -> frozenset:
    """Which context-bound slips can apply to a part: "log" when a logarithm is part of its computation (its
    reference, its family's results/definitions/steps, or its text), "percent" when it mentions percent."""
    texts = [problem.statement or "", part.prompt or "", str(part.reference or ""), problem.family or ""]
    if part.log_base not in (None, "e") or any(m.log_base is not None for m in part.mistakes):
        texts.append("log")
    context = set()
    if solution is not None:
        texts.extend(f"{getattr(step, 'text', step)} {getattr(step, 'math', '')}" for step in solution.steps[:200])
        for value in [*solution.results.values(), *solution.definitions.values()]:
            try:
                if isinstance(value, sp.Basic) and value.has(sp.log):
                    context.add("log")
            except (TypeError, RecursionError):
                continue
    joined = " ".join(texts)
    if _LOG_WORDS.search(joined):
        context.add("log")
    if _PERCENT_WORDS.search(" ".join(texts[:2])):
        context.add("percent")
    return frozenset(context)


def scalar_results(results: dict) -> dict:
    """Family results usable by name in a part's `reference`: numbers, and the entries of
    lists of numbers (probabilities.2 -> probabilities_2, its entries probabilities_2_1, ...)."""
    out = {}
    for name, value in results.items():
        key = name.replace(".", "_")
        if isinstance(value, bool) or isinstance(value, (dict, tuple, str)):
            continue
        if isinstance(value, list):
            for i, entry in enumerate(value, start=1):
                if isinstance(entry, (int, sp.Basic)) and not isinstance(entry, bool) and getattr(entry, "is_number", True):
                    out[f"{key}_{i}"] = sp.Integer(entry) if isinstance(entry, int) else entry
            continue
        if isinstance(value, int):
            out[key] = sp.Integer(value)
        elif isinstance(value, sp.Basic) and value.is_number:
            out[key] = value
    return out


def _simplifies_to_zero(a, b) -> bool:
    if surely_different(a, b):  # cheap, and most known mistakes differ from the answer: no simplify for them
        return False
    try:
        return sp.simplify(a - b) == 0
    except (TypeError, ValueError):
        return False


def equal_values(a, b) -> bool | None:
    """The same value: identical, or two SymPy expressions whose difference simplifies to 0
    (simplify runs in the sandbox under REFERENCE_LIMITS; None when it cannot decide in time).
    Values that clearly differ at a point (evaluated to 30 digits) are told apart without simplify."""
    if isinstance(a, sp.Basic) and isinstance(b, sp.Basic):
        if a == b:
            return True
        try:
            return run_bounded(_simplifies_to_zero, a, b, limits=REFERENCE_LIMITS)
        except (LimitExceeded, CheckFailed):
            return None
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


_CANDIDATES = tuple(sp.Rational(p, q) for p, q in ((37, 100), (13, 7), (59, 23), (5, 11), (-3, 10), (-7, 5), (-19, 6)))
_CANDIDATES += tuple(sp.Integer(n) for n in (2, 3, 5, 7, 4, -2, -3, -5, -4))


def _allowed(sym, value) -> bool:
    """Whether value has every assumption the symbol was made with (integer, positive, real, ...)."""
    return all(getattr(value, f"is_{name}", None) == want for name, want in sym.assumptions0.items())


def _sample_points(symbols: list) -> list[dict]:
    """Two points, each symbol at values its assumptions allow (none found: no points, simplify decides)."""
    points: list[dict] = [{}, {}]
    for n, sym in enumerate(symbols):
        fitting = [v for v in _CANDIDATES if _allowed(sym, v)]
        if not fitting:
            return []
        for k, point in enumerate(points):
            point[sym] = fitting[(n + 2 * k) % len(fitting)]
    return points


def surely_different(a, b, digits: int = 30) -> bool:
    """Whether a - b is clearly nonzero at a sample point: a proof that the values differ (the
    difference, evaluated to `digits` digits, is far beyond rounding).  False means "not shown"."""
    try:
        symbols = sorted(a.free_symbols | b.free_symbols, key=lambda s: s.name)
        points = _sample_points(symbols) if symbols else [{}]
        for point in points:
            left, right = (a.xreplace(point).evalf(digits), b.xreplace(point).evalf(digits))
            x, y = complex(left), complex(right)
            if not all(math.isfinite(v) for v in (x.real, x.imag, y.real, y.imag)):
                continue
            if abs(x - y) > 1e-12 * max(1.0, abs(x), abs(y)):
                return True
    except (TypeError, ValueError, ArithmeticError, AttributeError, RecursionError):
        return False
    return False


def _read_written(answer_type: str, written, options: Options):
    """(status, value or message): runs in the sandbox."""
    try:
        return "ok", read_reference(answer_type, written, options)
    except (ParseError, ValueError, TypeError, OverflowError, ZeroDivisionError) as exc:
        return "error", str(exc)


def _expected_text(part: Part, value, exact_value=None) -> str:
    from examcheck.grading import expected_text

    return expected_text(part, value, exact_value)


def _short(written, limit: int = 200) -> str:
    text = repr(written)
    return text if len(text) <= limit else text[:limit] + "…"


def bounded(fn, *args, what: str, limits: Limits | None = None):
    """fn(*args) in the sandbox; past a limit or on a crash, a ProblemError that says what was being done."""
    limits = limits or REFERENCE_LIMITS
    try:
        return run_bounded(fn, *args, limits=limits)
    except LimitExceeded as exc:
        limit = f"{limits.seconds:g} s time" if exc.what == "time" else f"{limits.memory_mb} MB memory"
        raise ProblemError(f"{what} ran past the {limit} limit") from None
    except CheckFailed as exc:
        raise ProblemError(f"{what} failed ({exc})") from None


def bounded_test(answer_type: str, written, reference, options: Options, seconds: float) -> Verdict:
    """An answer test on an instructor-written answer (a key, a mistake) under the grading limits."""
    try:
        return run_bounded(run_test, answer_type, written, reference, options, limits=Limits(seconds=seconds))
    except LimitExceeded as exc:
        return Verdict(0.0, "invalid", f"too complex to check: over the {seconds:g} s {exc.what} limit",
                       "too_complex")
    except CheckFailed as exc:
        return Verdict(0.0, "undecided", f"the checker failed on it ({exc})", "checker_error")


def result_of(solution: Solution, name: str, family: str):
    if name not in solution.results:
        known = ", ".join(solution.results)
        raise ProblemError(f"family {family!r} has no result {name!r} here (it gives: {known})")
    return solution.results[name]


def convert(value, answer_type: str):
    """A family result in the form its answer test expects."""
    if answer_type == "shape":
        if isinstance(value, (tuple, list)) and all(isinstance(v, int) for v in value):
            return tuple(value)
        raise ProblemError(f"result {value!r} is not a shape")
    if answer_type in ("vector", "matrix", "tuple", "set"):
        if not isinstance(value, (list, tuple)):
            raise ProblemError(f"result {value!r} is not a list")
        return [convert(v, "matrix") if isinstance(v, (list, tuple)) else _expr(v) for v in value]
    if answer_type == "boolean":
        if not isinstance(value, bool):
            raise ProblemError(f"result {value!r} is not true/false")
        return value
    if answer_type == "choice":
        return str(value)
    return _expr(value)


def _expr(value):
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, bool):
        raise ProblemError("a true/false result cannot be a number")
    if isinstance(value, int):
        return sp.Integer(value)
    if isinstance(value, float):
        return sp.Float(value, 30)
    if isinstance(value, tuple):
        raise ProblemError(f"result {value!r} is a shape; use answer: shape")
    raise ProblemError(f"result {value!r} is not a number or expression")


def widen_vocabulary(options: Options, value) -> Options:
    """Symbols that appear in the reference are accepted from students too."""
    symbols = dict(options.vocab.symbols)
    for sym in _free_symbols(value):
        symbols.setdefault(sym.name, sym)
    if symbols == options.vocab.symbols:
        return options
    options.vocab = dataclasses.replace(options.vocab, symbols=symbols)
    return options


def _free_symbols(value) -> set:
    if isinstance(value, sp.Basic):
        return value.free_symbols
    if isinstance(value, (list, tuple)):
        return set().union(*(_free_symbols(v) for v in value)) if value else set()
    return set()
