"""Precision rules hold exactly as stated at every magnitude (1e-300 .. 1e300).

The oracle here is written independently of examcheck/answertests/tolerance.py: it works on the
student's text through Python's Decimal (its own digit and exponent bookkeeping) and on the reference
as a Fraction, so a shared blind spot would need the same mistake written twice in two notations."""

from decimal import ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from examcheck.answertests import Options, Precision, run_test

SETTINGS = settings(max_examples=150, deadline=None)


def floor_log10(x: Fraction) -> int:
    with localcontext() as ctx:
        ctx.prec = 700
        return (Decimal(abs(x.numerator)) / Decimal(x.denominator)).adjusted()


def oracle(text: str, ref: Fraction, kind: str, amount, min_sigfigs: int = 3) -> bool:
    d = Decimal(text)
    s = Fraction(d)
    sign, digits, exponent = d.as_tuple()
    decimals_written = -exponent
    sigfigs_written = max(len("".join(map(str, digits)).lstrip("0")), 1)
    if s == ref:
        return True
    gap = abs(s - ref)
    if kind == "exact":
        return False
    if kind == "rtol":
        return gap <= Fraction(str(amount)) * abs(ref)
    if kind == "atol":
        return gap <= Fraction(str(amount))
    if kind == "decimals":
        n = int(amount)
        return decimals_written >= n and same_rounding(s, ref, -n)
    if kind == "sigfigs":
        n = int(amount)
        return ref != 0 and s != 0 and sigfigs_written >= n and same_rounding(s, ref, floor_log10(ref) - n + 1)
    return sigfigs_written >= min_sigfigs and gap <= Fraction(5, 10) * Fraction(10) ** (-decimals_written)


def same_rounding(a: Fraction, b: Fraction, place: int) -> bool:
    """Both round to the same multiple of 10^place, half up or half down (both accepted at a tie)."""
    def both(x: Fraction) -> set:
        with localcontext() as ctx:
            ctx.prec = 1500
            d = Decimal(x.numerator) / Decimal(x.denominator)
            unit = Decimal(1).scaleb(place)
            return {d.quantize(unit, rounding=ROUND_HALF_UP), d.quantize(unit, rounding=ROUND_HALF_DOWN)}
    return bool(both(a) & both(b))


def rounded(ref: Fraction, sigfigs: int) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = sigfigs
        return +(Decimal(ref.numerator) / Decimal(ref.denominator))


@st.composite
def case(draw):
    """A reference of any magnitude, a written answer near it (rounded, nudged by a unit or half a unit
    in its last place, or with digits dropped), and a rule whose size fits the magnitude."""
    exponent = draw(st.integers(-300, 300))
    mantissa = draw(st.integers(10 ** 11, 10 ** 12 - 1))
    ref = Fraction(mantissa) * Fraction(10) ** (exponent - 11) * draw(st.sampled_from([1, -1]))
    if draw(st.booleans()):
        ref = ref * Fraction(draw(st.integers(1, 97)), draw(st.integers(1, 97)))
    figures = draw(st.integers(1, 9))
    written = rounded(ref, figures)
    nudge = draw(st.sampled_from([0, 0, 1, -1, Fraction(1, 2), Fraction(-1, 2), 2]))
    if nudge:
        unit = Decimal(1).scaleb(written.as_tuple().exponent)
        written = written + unit * Decimal(nudge.numerator) / Decimal(nudge.denominator) if isinstance(nudge, Fraction) \
            else written + unit * nudge
    text = str(written)
    kind = draw(st.sampled_from(["default", "exact", "decimals", "sigfigs", "rtol", "atol"]))
    scale = floor_log10(ref)
    amount = 0.0
    if kind == "decimals":
        amount = float(draw(st.integers(-scale - 1, -scale + 8)))
    elif kind == "sigfigs":
        amount = float(draw(st.integers(1, 9)))
    elif kind == "rtol":
        amount = float(f"1e-{draw(st.integers(1, 12))}")
    elif kind == "atol":
        amount = float(f"1e{scale - draw(st.integers(0, 10))}")
    return text, ref, kind, amount


@SETTINGS
@given(case())
def test_number_rules_are_exact_at_every_magnitude(c):
    text, ref, kind, amount = c
    verdict = run_test("number", text, sp.Rational(ref.numerator, ref.denominator), Options(precision=Precision(kind, amount)))
    assert verdict.status in ("correct", "incorrect"), verdict
    assert verdict.correct is oracle(text, ref, kind, amount), (text, float(ref), kind, amount, verdict)


@SETTINGS
@given(st.integers(-300, 300), st.integers(2, 60), st.integers(1, 9),
       st.sampled_from(["default", "decimals", "sigfigs"]))
def test_irrational_references_of_any_size(exponent, k, figures, kind):
    """sqrt(k)*10^e: the rule applies to the true value, not to a float64 rounding of it."""
    ref = sp.sqrt(k) * sp.Integer(10) ** exponent
    with localcontext() as ctx:
        ctx.prec = 700
        true = Decimal(k).sqrt() * Decimal(10) ** exponent
        ctx.prec = figures
        text = str(+true)
    with localcontext() as ctx:
        ctx.prec = 700
        ref_fraction = Fraction(Decimal(k).sqrt() * Decimal(10) ** exponent)
    amount = {"default": 0.0, "decimals": float(-Decimal(text).as_tuple().exponent), "sigfigs": float(figures)}[kind]
    verdict = run_test("number", text, ref, Options(precision=Precision(kind, amount)))
    assert verdict.correct is oracle(text, ref_fraction, kind, amount), (text, kind, amount, verdict)


@SETTINGS
@given(st.integers(-300, 300), st.integers(1, 9))
def test_tiny_and_huge_values_are_not_swallowed(exponent, digit):
    """No absolute floor: 0, the sign error and a factor of 10 are wrong at every magnitude, under every rule."""
    ref = sp.Integer(digit) * sp.Integer(10) ** exponent
    for rule in (Precision(), Precision("sigfigs", 3), Precision("rtol", 1e-3), Precision("exact")):
        opts = Options(precision=rule)
        assert run_test("number", f"{digit}.00e{exponent}", ref, opts).correct
        for wrong in ("0", f"-{digit}.00e{exponent}", f"{digit}.00e{exponent + 1}"):
            assert not run_test("number", wrong, ref, opts).correct, (wrong, rule)


def test_exact_means_exact():
    seventh = sp.Rational(1, 7)
    verdict = run_test("number", "0.142857142857143", seventh, Options(precision=Precision("exact")))
    assert not verdict.correct and verdict.note == "not_exact"
    assert run_test("number", "1/7", seventh, Options(precision=Precision("exact"))).correct
    assert run_test("number", "2/14", seventh, Options(precision=Precision("exact"))).correct
    assert run_test("number", "sqrt(8)/2", sp.sqrt(2), Options(precision=Precision("exact"))).correct
    assert not run_test("number", "1.41421356237310", sp.sqrt(2), Options(precision=Precision("exact"))).correct


def test_fewer_figures_than_asked_is_insufficient_unless_exact():
    opts = Options(precision=Precision("decimals", 3))
    assert run_test("number", "0.4", sp.Rational(40012, 100000), opts).note == "insufficient_precision"
    assert run_test("number", "0.5", sp.Rational(1, 2), opts).correct  # the value written is exact
    sig = Options(precision=Precision("sigfigs", 4))
    assert run_test("number", "2.5e-30", sp.Rational(25001, 10 ** 34), sig).note == "insufficient_precision"
    assert run_test("number", "2.500e-30", sp.Rational(25001, 10 ** 34), sig).correct


# sets ----------------------------------------------------------------------------------------------


def _set_text(elements, style):
    inner = ", ".join(str(e) for e in elements)
    return {"braces": "{" + inner + "}", "brackets": "[" + inner + "]", "latex": r"\{" + inner + r"\}"}[style]


@SETTINGS
@given(st.lists(st.integers(-50, 50), min_size=1, max_size=6), st.lists(st.integers(-50, 50), min_size=1, max_size=6),
       st.sampled_from(["braces", "brackets"]), st.randoms(use_true_random=False))
def test_sets_compare_as_sets(reference, answer, style, rng):
    """Order and repetition never matter; membership does (Python's own sets are the oracle)."""
    if rng.random() < 0.5:  # often the same set, reordered, with repeats
        answer = list(reference) + rng.sample(reference, k=min(2, len(reference)))
        rng.shuffle(answer)
    ref = [sp.Integer(v) for v in dict.fromkeys(reference)]
    verdict = run_test("set", _set_text(answer, style), ref, Options())
    assert verdict.correct is (set(answer) == set(reference)), (answer, reference, verdict)
    if verdict.correct and len(answer) > len(set(answer)):
        assert "more than once" in verdict.feedback


@SETTINGS
@given(st.integers(-10 ** 6, 10 ** 6), st.integers(-10 ** 6, 10 ** 6))
def test_one_element_sets(value, other):
    ref = [sp.Integer(value)]
    assert run_test("set", "{" + str(value) + "}", ref, Options()).correct
    assert run_test("set", str(value), ref, Options()).correct
    assert run_test("set", "{" + str(other) + "}", ref, Options()).correct is (value == other)


def test_two_answers_near_one_element_do_not_make_two_elements():
    ref = [sp.Rational(1, 3), sp.Rational(2, 3)]
    assert not run_test("set", ["0.333", "0.3333"], ref, Options()).correct
    assert run_test("set", ["0.667", "0.333"], ref, Options()).correct
    assert not run_test("set", ["0.333"], ref, Options()).correct
