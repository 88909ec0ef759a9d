#!/usr/bin/env python3
"""Independent truth checker for the bench corpora (trusted bench data, so sympify is fine here; examcheck
itself never sympifies student text).  Adapted from the blind helper's verify_corpus.py, which was written
without reading examcheck's code: it imports nothing from examcheck.

    python bench/verify_corpus.py                 # bench/corpus.yaml and bench/corpus-blind.yaml
    python bench/verify_corpus.py some.yaml ...

Every answer must be [text, truth, meaning]; the meaning (SymPy syntax) is what the text says, and this
script decides the truth from the group's reference and the meaning alone.
The meanings of bench/corpus.yaml were produced once with examcheck's parser and reviewed by hand; a misread
that changed a value would show here as an unconfirmed truth.

For every [answer, truth, meaning] it decides, from the group's reference and the meaning alone,
whether the answer is right under the group's precision rule, and reports every pair whose stated
truth it cannot confirm (exit status 1 if any).

Rules implemented here (README of examcheck, read independently):
  * default (no precision): exactly equal, or >= 3 significant figures written and the reference
    rounded at the student's last written digit equals the student's number;
  * {sigfigs: n}: exactly equal, or >= n figures written and both round to the same n figures;
  * {decimals: d}: exactly equal, or >= d decimals written and both round to the same d decimals
    (at an exact tie, rounding half down is accepted as well as half up);
  * {rtol: r} / {atol: a}: |s - ref| <= r |ref|  /  |s - ref| <= a;
  * exact: exactly equal.
Meaning convention for numbers: a decimal literal carries the figures the student wrote; integer
literals and any other SymPy expression are exact.
Expressions: symbolic simplification of the difference (time-boxed, cross-check only) plus
sampling at 50 digits over the declared domains (tiny, unit, large magnitudes, both signs, near
breakpoints); points where a real log/root/artanh of the answer is undefined count as disagreement,
points where the reference is undefined are skipped.
"""
import ast
import os
import random
import re
import signal
import sys
import time
from decimal import ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal, getcontext

import sympy as sp
import yaml
from sympy import Rational

getcontext().prec = 400

x_ = sp.Symbol("x_")
SIG = sp.Lambda(x_, 1 / (1 + sp.exp(-x_)))
LOCALS = {
    "sigma": SIG, "σ": SIG,
    "relu": sp.Lambda(x_, sp.Max(0, x_)),
    "softplus": sp.Lambda(x_, sp.log(1 + sp.exp(x_))),
    "logit": sp.Lambda(x_, sp.log(x_ / (1 - x_))),
    "max": sp.Max, "min": sp.Min, "abs": sp.Abs, "ceil": sp.ceiling, "floor": sp.floor,
    "sech": sp.sech, "Heaviside": sp.Heaviside, "sign": sp.sign, "erf": sp.erf, "erfc": sp.erfc,
    "log10": sp.Lambda(x_, sp.log(x_) / sp.log(10)), "log2": sp.Lambda(x_, sp.log(x_) / sp.log(2)),
    "e": sp.E, "E": sp.E, "pi": sp.pi, "true": sp.true, "false": sp.false,
    "cbrt_real": sp.Lambda(x_, sp.sign(x_) * sp.Abs(x_) ** Rational(1, 3)), "atanh": sp.atanh, "Sum": sp.Sum,
    "binomial": sp.binomial,
    "FiniteSet": sp.FiniteSet, "EmptySet": sp.EmptySet, "Piecewise": sp.Piecewise,
}
for nm in ["n", "p", "k", "s", "t", "w", "g", "y", "z", "x", "a", "b", "m", "v", "i", "j"]:
    LOCALS[nm] = sp.Symbol(nm)
for nm in ["beta_2", "y_hat", "w_1", "w_2", "sigma_1", "sigma_2", "mu_1", "mu_2", "eta", "epsilon", "lamda"]:
    LOCALS[nm] = sp.Symbol(nm)

DEC = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


signal.signal(signal.SIGALRM, _alarm)


def S(text, evaluate=True):
    text = re.sub(r"\blambda\b", "lamda", text.replace("^", "**"))
    if not evaluate:   # Rational(1,10**9) needs a literal integer when nothing is evaluated
        text = re.sub(r"10\*\*(\d+)", lambda m: str(10 ** int(m.group(1))), text)
    return sp.sympify(text, locals=LOCALS, rational=True, evaluate=evaluate)


# ---------------------------------------------------------------- numbers
def parse_num(src):
    """-> (exact value, written sig figs or None, place of last written digit or None)."""
    src = src.strip()
    m = DEC.match(src)
    if m and ("." in src or "e" in src.lower()):
        d = Decimal(src)
        sign, digits, exp = d.as_tuple()
        digs = "".join(map(str, digits)).lstrip("0")
        sf = len(digs) if digs else 1
        return Rational(str(d)), sf, exp
    v = S(src)
    if isinstance(v, (list, tuple)):
        raise ValueError("not a number: " + src)
    return v, None, None


def num(v, n=80):
    return sp.N(v, n, maxn=4000)


def exactly_equal(a, b):
    if a == b:
        return True
    d = num(a - b, 100)
    if not d.is_number or not d.is_real:
        return False
    return abs(d) <= Rational(1, 10**80) * max(abs(num(b, 30)), Rational(1, 10**300))


def round_dec(val, place):
    """round a number (sympy) to 10**place, half up and half down, as a set of Decimals"""
    dv = Decimal(str(num(val, 120)))
    unit = Decimal(1).scaleb(place)
    return {dv.quantize(unit, rounding=ROUND_HALF_UP), dv.quantize(unit, rounding=ROUND_HALF_DOWN)}


def sf_place(val, n):
    """place of the n-th significant figure of val"""
    dv = Decimal(str(num(val, 120)))
    if dv == 0:
        return -n
    return dv.adjusted() - n + 1


def check_number(ref, src, prec):
    v, sf, place = parse_num(src)
    if exactly_equal(v, ref):
        return True
    if prec == "exact":
        return False
    if isinstance(prec, dict) and "rtol" in prec:
        return abs(num(v - ref)) <= Rational(str(prec["rtol"])) * abs(num(ref))
    if isinstance(prec, dict) and "atol" in prec:
        return abs(num(v - ref)) <= Rational(str(prec["atol"]))
    if sf is None:          # exact, but not equal
        return False
    if prec is None:
        if sf < 3:
            return False
        return abs(num(v - ref)) < Rational(5, 10) * Rational(10) ** place
    if "sigfigs" in prec:
        n = prec["sigfigs"]
        if sf < n:
            return False
        pl = sf_place(ref, n)
        return bool(round_dec(v, pl) & round_dec(ref, pl))
    if "decimals" in prec:
        d = prec["decimals"]
        if place > -d:
            return False
        return bool(round_dec(v, -d) & round_dec(ref, -d))
    raise ValueError(prec)


def split_list(src):
    """top-level elements of a list/tuple literal, as source strings (nested lists kept)."""
    tree = ast.parse(src.strip(), mode="eval").body
    if isinstance(tree, (ast.List, ast.Tuple)):
        return [ast.get_source_segment(src.strip(), e) for e in tree.elts]
    raise ValueError("not a list: " + src)


def _is_sequence(src):
    try:
        return isinstance(ast.parse(src.strip(), mode="eval").body, (ast.List, ast.Tuple))
    except SyntaxError:
        return False


def _shape(text):
    """(28, 28, 16), [28, 28, 16] or 28x28x16."""
    text = str(text).strip()
    if re.fullmatch(r"\d+(\s*[x×]\s*\d+)*", text):
        return [int(t) for t in re.split(r"\s*[x×]\s*", text)]
    return ast.literal_eval(text)


def check_structured(ref_src, src, prec, grp=None, gi=0):
    ref = S(ref_src)
    if isinstance(ref, sp.Tuple):
        ref = list(ref)
    elems = split_list(src)
    if len(elems) != len(ref):
        return False
    for r, e in zip(ref, elems):
        if isinstance(r, (list, tuple, sp.Tuple)):
            if not e.strip().startswith(("[", "(")):
                return False
            if not check_structured(str(list(r)), e, prec, grp, gi):
                return False
        else:
            if _is_sequence(e):
                return False
            if sp.sympify(r).free_symbols or S(e).free_symbols:  # an expression entry
                if not check_expression({**(grp or {}), "reference": str(r)}, e, gi)[0]:
                    return False
            elif not check_number(r, e, prec):
                return False
    return True


# ---------------------------------------------------------------- expressions
REAL = ["-1500.5", "-1000.5", "-999.5", "-200", "-30", "-2.7", "-1.5", "-1.3", "-1", "-0.999",
        "-0.5", "-1e-3", "-1e-8", "1e-8", "1e-3", "0.5", "0.999", "1", "1.3", "1.5", "2.7", "30",
        "200", "999.5", "1000.5", "1500.5"]
POS = ["1e-8", "1e-3", "0.25", "0.5", "0.999", "1.3", "2.7", "9", "30", "200", "1e4"]
POSINT = ["1", "2", "3", "4", "5", "6", "7", "8", "10", "12", "16", "64"]
UNIT = ["1e-8", "1e-3", "0.1", "0.37", "0.5", "0.73", "0.9", "0.999", "0.99999999"]
SYM1 = ["-0.99999999", "-0.999", "-0.5", "-0.1", "-1e-3", "1e-8", "0.1", "0.5", "0.9", "0.999", "0.99999999"]


def domain_values(dom):
    dom = str(dom).strip()
    if dom == "real":
        return REAL
    if dom == "positive":
        return POS
    if dom == "positive integer":
        return POSINT
    if dom == "integer":
        return [str(i) for i in range(-6, 7)]
    if dom == "nonnegative integer":
        return ["0"] + POSINT
    if dom in ("(0, 1)", "probability") or re.fullmatch(r"0\s*<\s*\w+\s*<\s*1", dom):
        return UNIT
    if dom == "(-1, 1)":
        return SYM1
    m = re.match(r"^\w+\s*>\s*([-\d.]+)$", dom)
    if m:
        lo = float(m.group(1))
        return [repr(lo + d) for d in (1e-8, 1e-3, 0.5, 1, 3, 30, 1e4)]
    raise ValueError("domain " + dom)


def points(variables, seed):
    names = list(variables)
    vals = {k: [Rational(s) for s in domain_values(variables[k])] for k in names}
    rng = random.Random(seed)
    pts = []
    if len(names) == 1:
        pts = [{names[0]: v} for v in vals[names[0]]]
    else:
        L = max(len(v) for v in vals.values())
        for i in range(L):   # "diagonal" points: same scale for every variable
            pts.append({k: vals[k][i % len(vals[k])] for k in names})
        for i in range(L):   # reversed diagonal
            pts.append({k: vals[k][-1 - (i % len(vals[k]))] for k in names})
        for _ in range(160):
            pts.append({k: rng.choice(vals[k]) for k in names})
    return [{LOCALS.get(k, sp.Symbol(k)) if k != "lambda" else LOCALS["lamda"]: v for k, v in p.items()} for p in pts]


def defined(expr, subs):
    """False if a real log / root / artanh inside expr is undefined at subs."""
    for sub in sp.preorder_traversal(expr):
        try:
            if isinstance(sub, sp.log):
                a = num(sub.args[0].xreplace(subs), 30)
                if not a.is_real or a <= 0:
                    return False
            elif isinstance(sub, sp.Pow) and not sub.exp.is_integer:
                b = num(sub.base.xreplace(subs), 30)
                if not b.is_real or b < 0:
                    return False
            elif isinstance(sub, sp.atanh):
                a = num(sub.args[0].xreplace(subs), 30)
                if not a.is_real or abs(a) >= 1:
                    return False
        except (TypeError, ValueError):
            return False
    return True


def value(expr, subs, raw=None):
    # the domain check walks the UNEVALUATED tree: SymPy would otherwise rewrite exp(log(x)) to x
    if not defined(expr if raw is None else raw, subs):
        return None
    e = expr.xreplace(subs)
    if e.has(sp.Sum):
        e = e.doit()
    v = None
    prev = None
    for prec in (60, 250, 1200):          # raise the working precision until two levels agree
        v = sp.N(e, prec, maxn=2 * prec)
        if v.has(sp.zoo, sp.oo, -sp.oo, sp.nan) or not v.is_number:
            return None
        if prev is not None:
            a, b = sp.re(v), sp.re(prev)
            if (a == 0 and b == 0) or (a != 0 and abs(a - b) <= Rational(1, 10**45) * abs(a)):
                break
        prev = v
    v = sp.N(v, 50)
    if not v.is_real:
        im = sp.im(v)
        if abs(im) > Rational(1, 10**40) * max(abs(sp.re(v)), 1):
            return None
        v = sp.re(v)
    return v


def same(a, b):
    if a is None or b is None:
        return a is None and b is None
    scale = max(abs(a), abs(b))
    if scale < Rational(1, 10**300):
        return True
    return abs(a - b) <= Rational(1, 10**30) * scale


def check_expression(grp, meaning, gi):
    ref = S(grp["reference"]).doit()
    stu = S(meaning).doit()
    ref_raw = S(grp["reference"], evaluate=False)
    stu_raw = S(meaning, evaluate=False)
    variables = grp.get("variables") or {}
    pts = points(variables, seed=gi)
    compared = 0
    skipped = 0
    for p in pts:
        try:
            signal.alarm(8)
            rv = value(ref, p, ref_raw)
            sv = value(stu, p, stu_raw) if rv is not None else None
            signal.alarm(0)
        except Timeout:
            skipped += 1
            continue
        if rv is None:
            continue
        compared += 1
        if sv is None or not same(rv, sv):
            return False, p, rv, sv
    if compared < 5:
        raise RuntimeError("too few comparable points")
    return True, None, None, None


def symbolic_zero(grp, meaning):
    try:
        signal.alarm(3)
        d = sp.simplify(S(grp["reference"]).doit() - S(meaning).doit())
        signal.alarm(0)
        return d == 0
    except Exception:
        signal.alarm(0)
        return None


# ---------------------------------------------------------------- driver
def decide(grp, meaning, gi):
    typ = grp["type"]
    prec = grp.get("precision")
    if meaning == "UNREADABLE":
        return False, "unreadable"
    if typ in ("number", "integer"):
        ref = S(grp["reference"])
        if typ == "integer" and not ref.is_integer:
            raise ValueError("integer reference not integral")
        return check_number(ref, meaning, prec), ""
    if typ in ("vector", "matrix", "tuple"):
        return check_structured(grp["reference"], meaning, prec, grp, gi), ""
    if typ == "shape":
        r = tuple(int(x) for x in _shape(grp["reference"]))
        m = tuple(int(x) for x in ast.literal_eval(meaning))
        return r == m, ""
    if typ == "set":
        r = S(grp["reference"])
        r = sp.FiniteSet(*r) if not isinstance(r, sp.Set) else r
        return S(meaning) == r, ""
    if typ == "boolean":
        return bool(S(meaning)) == bool(S(grp["reference"])), ""
    if typ == "choice":
        return ast.literal_eval(meaning).strip().upper() == grp["reference"].strip().upper(), ""
    if typ == "expression":
        ok, p, rv, sv = check_expression(grp, meaning, gi)
        shown_r = sp.N(rv, 12) if rv is not None else None
        shown_s = sp.N(sv, 12) if sv is not None else None
        note = "" if ok else f"differs at {dict((str(k), str(v)) for k, v in p.items())}: ref={shown_r} ans={shown_s}"
        return ok, note
    raise ValueError("type " + typ)


def main(*paths):
    here = os.path.dirname(os.path.abspath(__file__))
    paths = paths or (os.path.join(here, "corpus.yaml"), os.path.join(here, "corpus-blind.yaml"))
    worst = 0
    for path in paths:
        print(f"== {path}")
        worst = max(worst, verify(path))
    return worst


def verify(path):
    groups = yaml.safe_load(open(path, encoding="utf-8"))
    bad = 0
    total = 0
    warn = 0
    only = set(int(a) for a in os.environ.get("ONLY", "").split(",") if a)
    for gi, grp in enumerate(groups):
        if only and gi not in only:
            continue
        t0 = time.time()
        for ans, truth, meaning in grp["answers"]:
            total += 1
            try:
                got, note = decide(grp, meaning, gi)
            except Exception as exc:  # noqa
                print(f"ERROR  group {gi} ({grp['topic']}) {ans!r}: {type(exc).__name__}: {exc}")
                bad += 1
                continue
            if got != truth:
                bad += 1
                print(f"UNCONFIRMED group {gi} ({grp['topic']}, ref {grp['reference']}) answer {ans!r} "
                      f"stated {truth} computed {got} meaning {meaning} {note}")
            elif grp["type"] == "expression" and truth is False and meaning != "UNREADABLE":
                if symbolic_zero(grp, meaning):
                    warn += 1
                    print(f"note: simplify says zero difference but stated false (domain?) group {gi} {ans!r}")
        if os.environ.get("PROGRESS"):
            print(f"  [group {gi} done in {time.time()-t0:.1f}s]", file=sys.stderr, flush=True)
    print(f"{total} pairs, {len(groups)} groups, {len({g['topic'] for g in groups})} topics: "
          f"{total - bad} confirmed, {bad} not confirmed, {warn} symbolic notes")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
