"""Numeric equivalence of two expressions that can tell close from equal.

1. Points: every variable is sampled across its whole declared domain and across scales (1e-7 .. 1e5,
   both signs where allowed, near both ends of a bounded interval, every small integer and a few large
   ones for an integer variable), plus points at and around every breakpoint of either expression (where
   a max/min/abs/sign/Heaviside/floor/ceil/mod/piecewise switches), found by bisection.
2. float64 evaluates all points at once (numeval.vector_eval).  It may only say "agree" (to 1e-14,
   relative): any disagreement, overflow, underflow, cancellation, domain error or switch near its
   boundary is decided again in mpmath at the exact rational point, at 30 digits, then 120, then 480
   where a sum cancels.  There is no zero level: a value is compared relative to its own size.
3. A few points where float64 agreed are re-checked in mpmath too, so a difference below float64's
   resolution (an added 1e-20) is still seen.
4. At a point where the reference jumps (a breakpoint), the answer's value there is a convention: any
   one-sided limit, their mean, the reference's own value, or undefined is accepted.  Everywhere else,
   undefined on one side only is a domain difference.
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass, field
from fractions import Fraction

import mpmath
import numpy as np
import sympy as sp

from examcheck import domains as domain_words
from examcheck.numeval import (
    OK,
    UNDEFINED,
    UNSURE,
    Cancelled,
    TooLarge,
    Undefined,
    Unsupported,
    is_rational_tree,
    mp_eval,
    rational_value,
    vector_eval,
)

FLOAT_AGREE = 1e-14
AGREE = mpmath.mpf("1e-28")  # mpmath values keep 32 digits (numeval.KEEP_DIGITS): closer than this is noise
MP_LEVELS = (50, 200)
MP_MAX_DIGITS = 5000  # as for the integer part of a constant (parsing.vocabulary.EXACT_DIGITS_MAX)
MP_CONFIRM = 1  # float-agreeing points re-checked in mpmath
MAX_MP_POINTS = 24
MAX_DISAGREE = 6  # float64 disagreements re-checked in mpmath (if all are noise, the rest are too)
MAX_ONE_SIDED = 4
MAX_UNSURE = 4
MIN_POINTS = 6  # agreeing points needed before the numeric layer may say "equivalent"
MAX_EXACT_POINTS = 30  # rows decided in exact rational arithmetic (switches at integer boundaries)
SECTIONS = 32  # a bracket around a switch is cut into this many parts per round
MAGNITUDES = (1e-7, 1e-3, 0.05, 0.3, 0.7, 1.0, 1.5, 2.2, 3.0, 4.5, 7.0, 12.0, 30.0, 100.0, 1e3)
UNIT = (0.15, 0.4, 0.8, 1.2, 1.7, 2.5)
FRACTIONS = (1e-9, 1e-6, 1e-3, 0.02, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 0.98, 1 - 1e-3, 1 - 1e-6, 1 - 1e-9)
SWITCHES = (  # heads whose value jumps or kinks: their switch points are sampled
sp.Max, sp.Min, sp.Abs, sp.sign, sp.Heaviside, sp.DiracDelta, sp.floor, sp.ceiling, sp.Mod, sp.Piecewise)


# ------------------------------------------------------------------------------------------------ domains


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    integer: bool
    open_low: bool
    open_high: bool
    excluded: tuple = ()

    def contains(self, x: float) -> bool:
        if x in self.excluded or not math.isfinite(x):
            return False
        if x < self.low or x > self.high or (x == self.low and self.open_low) or (x == self.high and self.open_high):
            return False
        return not self.integer or x == round(x)


_UNBOUNDED = {  # the word domains of examcheck.domains, which store a sampling window: their true extent
    "real": (-math.inf, math.inf), "positive": (0.0, math.inf), "negative": (-math.inf, 0.0),
    "nonnegative": (0.0, math.inf), "nonpositive": (-math.inf, 0.0), "integer": (-math.inf, math.inf),
    "positive integer": (1, math.inf), "nonnegative integer": (0, math.inf),
}


def as_range(domain) -> Range:
    """The domain's true extent: Domain stores a sampling window, and says (unbounded_low/high) whether the
    domain really goes on to infinity; older Domain objects are recognised by their word window."""
    low, high = float(domain.low), float(domain.high)
    if hasattr(domain, "unbounded_low") or hasattr(domain, "unbounded_high"):
        low = -math.inf if getattr(domain, "unbounded_low", False) else low
        high = math.inf if getattr(domain, "unbounded_high", False) else high
    else:
        for word, window in getattr(domain_words, "_WORDS", {}).items():
            if word in _UNBOUNDED and window == domain:
                low, high = _UNBOUNDED[word]
                break
    excluded = tuple(float(x) for x in getattr(domain, "excluded", ()) or ())
    return Range(low, high, bool(domain.integer), bool(domain.open_low), bool(domain.open_high), excluded)


def variable_values(rng: Range, rand: random.Random) -> list[float]:
    """Values across the whole range and across scales."""
    if rng.integer:
        return _integer_values(rng)
    out: list[float] = []
    jitter = [rand.uniform(0.85, 1.15) for _ in MAGNITUDES]
    if math.isinf(rng.low) and math.isinf(rng.high):
        for m, j in zip(MAGNITUDES, jitter):
            out += [m * j, -m * j * rand.uniform(0.9, 1.1)]
    elif math.isinf(rng.high):
        out += [rng.low + m * j for m, j in zip(MAGNITUDES, jitter)]
    elif math.isinf(rng.low):
        out += [rng.high - m * j for m, j in zip(MAGNITUDES, jitter)]
    else:
        span = rng.high - rng.low
        out += [rng.low + span * t * (rand.uniform(0.9, 1.1) if 0.01 < t < 0.99 else 1) for t in FRACTIONS]
    if not rng.open_low and math.isfinite(rng.low):
        out.append(rng.low)
    if not rng.open_high and math.isfinite(rng.high):
        out.append(rng.high)
    return [x for x in out if rng.contains(x)]


def unit_values(rng: Range, rand: random.Random) -> list[float]:
    """A few values of ordinary size (where most of an exam's functions live)."""
    if rng.integer:
        return [float(v) for v in _integer_values(rng)[:8]]
    if math.isfinite(rng.low) and math.isfinite(rng.high):
        span = rng.high - rng.low
        return [rng.low + span * rand.uniform(0.05, 0.95) for _ in UNIT]
    base = [u * rand.uniform(0.9, 1.1) for u in UNIT]
    if math.isinf(rng.low) and math.isinf(rng.high):
        return [b if i % 2 else -b for i, b in enumerate(base)]
    if math.isinf(rng.high):
        return [rng.low + b for b in base]
    return [rng.high - b for b in base]


def _integer_values(rng: Range) -> list[float]:
    low = rng.low + (1 if rng.open_low else 0) if math.isfinite(rng.low) else -12
    high = rng.high - (1 if rng.open_high else 0) if math.isfinite(rng.high) else max(low + 24, 12)
    low, high = math.ceil(low), math.floor(high)
    if high - low <= 40:
        values = list(range(low, high + 1))
    else:
        values = list(range(low, low + 20)) + list(range(high - 5, high + 1))
    extra = []
    if math.isinf(rng.high):
        extra += [30, 100, 1000, 10 ** 5]
    if math.isinf(rng.low):
        extra += [-30, -100, -1000, -10 ** 5]
    ordered = sorted(set(values), key=lambda v: (abs(v) > 3, abs(v), v)) + extra
    return [float(v) for v in ordered if rng.contains(float(v))]


# ------------------------------------------------------------------------------------------------ breakpoints


def switch_nodes(*exprs) -> list:
    found = []
    for expr in exprs:
        for node in sp.preorder_traversal(expr):
            if node.func in SWITCHES and node not in found:
                found.append(node)
    return found


@functools.lru_cache(maxsize=2048)
def switch_arguments(node) -> tuple:
    """(g, kind) pairs: the switch flips where g changes sign (kind 'sign') or crosses an integer ('integer')."""
    func = node.func
    if func in (sp.Max, sp.Min):
        args = node.args
        return tuple((sp.Add(a, -b), "sign") for i, a in enumerate(args) for b in args[i + 1:])
    if func in (sp.Abs, sp.sign, sp.Heaviside, sp.DiracDelta):
        return ((node.args[0], "sign"),)
    if func in (sp.floor, sp.ceiling):
        return ((node.args[0], "integer"),)
    if func is sp.Mod:
        return ((node.args[0] / node.args[1], "integer"),)
    out = []
    for _, cond in node.args:
        for rel in _relationals(cond):
            out.append((sp.Add(rel.lhs, -rel.rhs), "sign"))
    return tuple(out)


def _relationals(cond) -> list:
    if isinstance(cond, sp.core.relational.Relational):
        return [cond]
    if isinstance(cond, (sp.And, sp.Or, sp.Not)):
        return [r for c in cond.args for r in _relationals(c)]
    return []


@functools.lru_cache(maxsize=4096)
def linear_parts(g, name: str):
    """(c1, c0) with g = c1*v + c0 where v is the variable `name`, or None if g is not linear in it."""
    v = next((x for x in g.free_symbols if isinstance(x, sp.Symbol) and x.name == name), None)
    if v is None:
        return None
    try:
        c1 = sp.diff(g, v)
        if v in c1.free_symbols or c1.has(sp.Derivative):
            return None
        c0 = sp.expand(g - c1 * v) if c1 != 0 else g
        if v in c0.free_symbols:
            return None
    except (TypeError, ValueError, NotImplementedError):
        return None
    return c1, c0


def _at(expr, base: dict) -> float:
    columns = {k: np.array([v]) for k, v in base.items()}
    value, state = vector_eval(expr, columns, 1)
    return float(value[0]) if state[0] == OK else math.nan


@dataclass
class Breakpoint:
    variable: str
    at: float


def find_breakpoints(nodes: list, names: list[str], ranges: dict, grids: dict, base: dict,
                     limit: int = 16) -> list[Breakpoint]:
    """Where each switch flips along each variable, the others held at `base`: solved exactly when the
    switch's argument is linear in the variable, by bisection on a grid otherwise."""
    found: list[Breakpoint] = []
    for node in nodes:
        for g, kind in switch_arguments(node):
            for name in names:
                if not any(x.name == name for x in g.free_symbols if isinstance(x, sp.Symbol)):
                    continue
                parts = linear_parts(g, name)
                if parts is not None:
                    roots = _linear_roots(parts, kind, g, base)
                elif not ranges[name].integer:  # an integer variable's small values are all sampled already
                    roots = _bisected_roots(g, kind, name, ranges[name], grids[name], base)
                else:
                    continue
                for x in roots:
                    if math.isfinite(x) and not any(b.variable == name and b.at == x for b in found):
                        found.append(Breakpoint(name, x))
                        if len(found) >= limit:
                            return found
    return found


def _linear_roots(parts, kind: str, g, base: dict) -> list[float]:
    c1, c0 = (_at(c, base) for c in parts)
    if not (math.isfinite(c1) and math.isfinite(c0)) or c1 == 0:
        return []
    if kind == "sign":
        return [_nearest(-Fraction(c0) / Fraction(c1))]
    here = _at(g, base)
    if not math.isfinite(here):
        return []
    ks = sorted({math.floor(here) + d for d in (-1, 0, 1, 2)} | {0, 1})
    return [_nearest((Fraction(k) - Fraction(c0)) / Fraction(c1)) for k in ks]


def _nearest(x: Fraction) -> float:
    try:
        return float(x)
    except OverflowError:
        return math.nan


def _search_grid(rng: Range) -> list[float]:
    """A log-spaced sweep over the range, for finding where a nonlinear switch flips."""
    sweep = [float(m) for m in np.geomspace(1e-3, 1e6, 36)]
    return [v for v in sweep + [-m for m in sweep] if rng.contains(v)]


def _bisected_roots(g, kind: str, name: str, rng: Range, grid_values: list, base: dict) -> list[float]:
    grid = np.array(sorted(set(grid_values) | set(_search_grid(rng))), dtype=float)
    if len(grid) < 2:
        return []
    columns = {k: np.full(len(grid), v) for k, v in base.items()}
    columns[name] = grid

    def flip(values: np.ndarray) -> np.ndarray:
        return np.sign(values) if kind == "sign" else np.floor(values)

    sel = flip(vector_eval(g, columns, len(grid))[0])
    change = np.nonzero((sel[:-1] != sel[1:]) & np.isfinite(sel[:-1]) & np.isfinite(sel[1:]))[0]
    if len(change) > 6:
        change = change[np.argsort(np.abs(grid[change]))[:6]]
    if not len(change):
        return []
    lo, hi, s_lo = grid[change].copy(), grid[change + 1].copy(), sel[change]
    steps = np.arange(1, SECTIONS) / SECTIONS
    for _ in range(14):  # each round cuts every bracket into SECTIONS parts: float resolution in ~11 rounds
        inside = lo[:, None] + (hi - lo)[:, None] * steps[None, :]
        cols = {k: np.full(inside.size, v) for k, v in base.items()}
        cols[name] = inside.ravel()
        flips = flip(vector_eval(g, cols, inside.size)[0]).reshape(inside.shape) != s_lo[:, None]
        first = np.where(flips.any(axis=1), flips.argmax(axis=1), len(steps))
        rows = np.arange(len(lo))
        new_lo = np.where(first > 0, inside[rows, np.maximum(first - 1, 0)], lo)
        new_hi = np.where(first < len(steps), inside[rows, np.minimum(first, len(steps) - 1)], hi)
        if np.all((new_lo == lo) & (new_hi == hi)):
            break
        lo, hi = new_lo, new_hi
    return [float(x) for x in hi]


# ------------------------------------------------------------------------------------------------ comparing


@dataclass
class Outcome:
    """What the points say."""

    agreed: int = 0
    at_breakpoints: int = 0
    high_precision: int = 0
    skipped: int = 0
    conventions: list = field(default_factory=list)
    witness: tuple | None = None  # (point, s value, r value) as mpmath numbers: a confirmed difference
    domain: tuple | None = None  # (point, "student" | "reference"): undefined on one side only
    pairs: list = field(default_factory=list)  # (point, s, r) as floats where both are defined (for diagnoses)
    budget_spent: bool = False

    @property
    def differs(self) -> bool:
        return self.witness is not None or self.domain is not None


def _point(columns: dict, i: int) -> dict:
    return {k: float(v[i]) for k, v in columns.items()}


@dataclass
class _MpValue:
    value: object = None  # mpf, or None when undefined
    skipped: bool = False


def _mp_value(expr, point: dict, dps_levels=MP_LEVELS, cached: bool = False) -> tuple[_MpValue, int]:
    """expr at point in mpmath, with more digits where a sum cancels; (value, digits used).
    cached: for the reference, which is evaluated at the same points for every answer to its part."""
    if cached:
        return _mp_value_cached(expr, tuple(sorted(point.items())), tuple(dps_levels))
    return _mp_value_uncached(expr, point, tuple(dps_levels))


@functools.lru_cache(maxsize=8192)
def _mp_value_cached(expr, items: tuple, dps_levels: tuple) -> tuple[_MpValue, int]:
    return _mp_value_uncached(expr, dict(items), dps_levels)


def _mp_value_uncached(expr, point: dict, dps_levels: tuple) -> tuple[_MpValue, int]:
    levels = list(dps_levels)
    for dps in levels:
        try:
            return _MpValue(mp_eval(expr, point, dps, strict=True)), dps
        except Cancelled as exc:  # more digits; as many as it says it needs, within MP_MAX_DIGITS
            if dps < exc.digits <= MP_MAX_DIGITS and exc.digits > levels[-1]:
                levels.append(exc.digits)
            continue
        except Undefined:
            return _MpValue(None), dps
        except (TooLarge, Unsupported, OverflowError, ZeroDivisionError, ValueError):
            return _MpValue(None, skipped=True), dps
    return _MpValue(None, skipped=True), dps_levels[-1]


def mp_compare(s, r, point: dict) -> tuple[str, object, object]:
    """('agree' | 'differ' | 'student_undefined' | 'reference_undefined' | 'both_undefined' | 'skip', s, r)."""
    sv, s_dps = _mp_value(s, point)
    rv, r_dps = _mp_value(r, point, cached=True)
    if sv.skipped or rv.skipped:
        return "skip", None, None
    if sv.value is None and rv.value is None:
        return "both_undefined", None, None
    if sv.value is None:
        return "student_undefined", None, rv.value
    if rv.value is None:
        return "reference_undefined", sv.value, None
    a, b = sv.value, rv.value
    dps = min(s_dps, r_dps)
    with mpmath.workdps(dps + 10):
        gap = abs(a - b)
        scale = max(abs(a), abs(b))
        if gap == 0 or gap <= AGREE * scale:
            return "agree", a, b
        if gap > mpmath.mpf("1e-6") * scale:  # far beyond the noise of a sum that kept 15 digits
            return "differ", a, b
    # a difference: make sure it is not noise by seeing it again with twice the digits
    higher = tuple(d * 2 for d in MP_LEVELS if d * 2 > dps) or (dps * 2,)
    sv2, _ = _mp_value(s, point, higher)
    rv2, _ = _mp_value(r, point, higher, cached=True)
    if sv2.value is None or rv2.value is None:
        return "skip", None, None
    with mpmath.workdps(dps * 2 + 10):
        gap2 = sv2.value - rv2.value
        if gap2 == 0 or abs(gap2 - (a - b)) > mpmath.mpf("1e-3") * abs(gap2):
            scale2 = max(abs(sv2.value), abs(rv2.value))
            if abs(gap2) <= AGREE * scale2:
                return "agree", sv2.value, rv2.value
            return "skip", None, None
    return "differ", a, b


def _float(x) -> float:
    try:
        return float(x)
    except (OverflowError, TypeError, ValueError):
        return math.nan


def build_points(s, r, options, rand: random.Random):
    """The sample columns, and which rows sit at a breakpoint (with the breakpoint's variable)."""
    labels = {str(b.label) for b in (s.atoms(sp.IndexedBase) | r.atoms(sp.IndexedBase))}  # w in w[j]: not a variable
    names = sorted({sym.name for sym in (s.free_symbols | r.free_symbols) if isinstance(sym, sp.Symbol)} - labels)
    ranges = {n: as_range(options.domain(n)) for n in names}
    values = {n: variable_values(ranges[n], rand) for n in names}
    units = {n: unit_values(ranges[n], rand) for n in names}
    size = max([len(v) for v in values.values()] + [1])
    columns: dict[str, list] = {n: [] for n in names}
    for n in names:
        seq = list(values[n])
        if len(names) > 1:
            rand.shuffle(seq)
        while len(seq) < size and values[n]:
            seq.append(rand.choice(values[n]))
        columns[n] = seq[:size] if values[n] else []
        unit = units[n] or values[n]
        columns[n] += [unit[i % len(unit)] if unit else 0.0 for i in range(len(UNIT) + 2)]
    rows = size + len(UNIT) + 2 if names else 1
    if len(names) > 1 and all(values[n] for n in names):  # the diagonal: every variable at the same scale at once
        for k in range(size):
            for n in names:
                columns[n].append(values[n][k % len(values[n])])
        rows += size
    edges: dict[int, str] = {}
    nodes = switch_nodes(s, r)
    if nodes and names and all(columns[n] for n in names):
        base_rows = [size, size + 1] if len(names) > 1 else [size]
        for row in base_rows:
            base = {n: columns[n][row] for n in names}
            grids = {n: values[n] + units[n] + [-x for x in units[n]] for n in names}
            for n in names:
                grids[n] = [x for x in grids[n] if ranges[n].contains(x)] + [0.0, 1.0, -1.0]
                grids[n] = [x for x in grids[n] if ranges[n].contains(x)]
            for bp in find_breakpoints(nodes, names, ranges, grids, base):
                rng = ranges[bp.variable]
                centre = bp.at
                if rng.integer:
                    lowest = math.floor(centre)
                    edge = [lowest, lowest + 1] if lowest != centre else [centre - 1, centre, centre + 1]
                    around = [lowest - 1, lowest + 2, centre * 2]
                else:
                    edge = [math.nextafter(centre, -math.inf), centre, math.nextafter(centre, math.inf)]
                    around = []
                    for rel in (1e-7, 1e-3, 0.3):
                        delta = rel * max(1.0, abs(centre))
                        around += [centre - delta, centre + delta]
                for k, x in enumerate(edge + around):
                    x = float(x)
                    if not rng.contains(x):
                        continue
                    for n in names:
                        columns[n].append(x if n == bp.variable else base[n])
                    if k < len(edge):
                        edges[rows] = bp.variable
                    rows += 1
    arrays = {n: np.array(columns[n], dtype=float) for n in names}
    return arrays, rows, edges


def compare_numerically(s, r, options) -> Outcome:
    rand = random.Random(options.seed)
    columns, rows, edges = build_points(s, r, options, rand)
    out = Outcome()
    sv, s_state = vector_eval(s, columns, rows)
    rv, r_state = vector_eval(r, columns, rows)
    # float64 rounding grows with the number of terms a sum adds up
    float_agree_level = FLOAT_AGREE * (100 if s.has(sp.Sum, sp.Product) or r.has(sp.Sum, sp.Product) else 1)
    disagree: list[int] = []
    one_sided: list[int] = []
    unsure: list[int] = []
    float_agree: list[int] = []
    for i in range(rows):
        if s_state[i] == OK and r_state[i] == OK:
            a, b = sv[i], rv[i]
            out.pairs.append((_point(columns, i), float(a), float(b)))
            if a == b or abs(a - b) <= float_agree_level * max(abs(a), abs(b)):
                float_agree.append(i)
            else:
                disagree.append(i)
        elif s_state[i] == UNDEFINED and r_state[i] == UNDEFINED:
            continue
        elif UNSURE in (s_state[i], r_state[i]):
            unsure.append(i)
        else:
            one_sided.append(i)
    for i in float_agree:
        out.agreed += 1
        out.at_breakpoints += i in edges
    # generic points first (a difference there is the clearest witness), then a spread of the rest
    def generic_first(rows_: list[int]) -> list[int]:
        return sorted(rows_, key=lambda i: (i in edges, i))

    if is_rational_tree(s) and is_rational_tree(r):  # exact rational arithmetic is cheap: decide every point
        spot = _confirm_rows(float_agree, sv, rv, 3)
        for i in spot:  # re-counted below by the exact comparison
            out.agreed -= 1
            out.at_breakpoints -= i in edges
        rows_ = (generic_first(disagree)[:MAX_DISAGREE] + generic_first(one_sided)[:MAX_ONE_SIDED]
                 + _spread(generic_first(unsure), MAX_EXACT_POINTS, rv) + spot)
        return _compare_exactly(s, r, columns, rows_, edges, out)
    wanted = max(MAX_UNSURE, MIN_POINTS + 2 - len(float_agree))
    to_check = (generic_first(disagree)[:MAX_DISAGREE] + generic_first(one_sided)[:MAX_ONE_SIDED]
                + _spread(generic_first(unsure), wanted, rv))
    confirm = _confirm_rows(float_agree, sv, rv)
    checked = 0
    for i in to_check + confirm:
        if out.witness is not None or out.domain is not None:
            break
        if checked >= MAX_MP_POINTS:
            out.budget_spent = True
            out.skipped += 1
            continue
        checked += 1
        point = _point(columns, i)
        verdict, a, b = mp_compare(s, r, point)
        out.high_precision += 1
        if verdict == "agree":
            if i not in float_agree:
                out.agreed += 1
                out.at_breakpoints += i in edges
                if not (s_state[i] == OK and r_state[i] == OK):
                    out.pairs.append((point, _float(a), _float(b)))
        elif verdict in ("skip", "both_undefined"):
            out.skipped += verdict == "skip"
        elif i in edges and _convention(s, r, point, edges[i], verdict, a, b):
            out.conventions.append(point)
        elif verdict == "differ":
            out.witness = (point, a, b)
            if i in float_agree:
                out.agreed -= 1
        else:
            out.domain = (point, "student" if verdict == "student_undefined" else "reference")
    return out


def _compare_exactly(s, r, columns: dict, rows: list[int], edges: dict, out: Outcome) -> Outcome:
    """Both sides are rational functions (with max/min/abs/floor/piecewise): compare in Fractions."""
    for i in rows:
        point = _point(columns, i)
        values = []
        for expr in (s, r):
            try:
                values.append(rational_value(expr, point))
            except (Undefined, ZeroDivisionError):
                values.append(None)
            except TooLarge:
                values.append(False)
        a, b = values
        if a is False or b is False or (a is None and b is None):
            out.skipped += a is False or b is False
            continue
        out.high_precision += 1
        if a is not None and b is not None and a == b:
            out.agreed += 1
            out.at_breakpoints += i in edges
            continue
        verdict = "differ" if a is not None and b is not None else "student_undefined" if a is None \
            else "reference_undefined"
        am = None if a is None else mpmath.mpf(a.numerator) / a.denominator
        bm = None if b is None else mpmath.mpf(b.numerator) / b.denominator
        if i in edges and _convention(s, r, point, edges[i], verdict, am, bm):
            out.conventions.append(point)
        elif verdict == "differ":
            out.witness = (point, am, bm)
            return out
        else:
            out.domain = (point, "student" if verdict == "student_undefined" else "reference")
            return out
    return out


def _spread(rows: list[int], count: int, values) -> list[int]:
    """Up to count rows, spread evenly over the list (which runs across scales)."""
    if len(rows) <= count:
        return rows
    step = len(rows) / count
    return [rows[int(k * step)] for k in range(count)]


def _confirm_rows(float_agree: list[int], sv, rv, count: int = MP_CONFIRM) -> list[int]:
    """Float-agreeing rows to re-check in high precision, where a difference below float64's resolution
    would show most: the smallest nonzero reference values first, then the largest."""
    nonzero = sorted((i for i in float_agree if rv[i] != 0), key=lambda i: abs(rv[i]))
    if not nonzero:
        return float_agree[:count]
    picks = nonzero[: (count + 1) // 2] + nonzero[::-1][: count // 2]
    return list(dict.fromkeys(picks))[:count]


def _convention(s, r, point: dict, variable: str, verdict: str, a, b) -> bool:
    """At a point where the reference jumps, is the answer's value one of the accepted conventions?"""
    x = point[variable]
    sides = []
    for toward in (-math.inf, math.inf):
        neighbour = dict(point)
        neighbour[variable] = math.nextafter(x, toward)
        value, _ = _mp_value(r, neighbour, cached=True)
        sides.append(value.value)
    left, right = sides
    if left is None or right is None or b is None:
        jump = True
    else:
        with mpmath.workdps(40):
            jump = abs(left - right) > mpmath.mpf("1e-9") * max(abs(left), abs(right), mpmath.mpf(1))
    if not jump:
        return False
    if verdict == "student_undefined" or verdict == "reference_undefined":
        return True
    if a is None:
        return False
    candidates = [v for v in (left, right, b) if v is not None]
    if left is not None and right is not None:
        candidates.append((left + right) / 2)
    with mpmath.workdps(40):
        return any(abs(a - c) <= mpmath.mpf("1e-9") * max(abs(c), mpmath.mpf(1)) for c in candidates)


def as_fraction_point(point: dict) -> dict:
    return {k: Fraction(v) for k, v in point.items()}
