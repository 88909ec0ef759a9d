"""floor and ceiling of constants (blind test 18, F1 and F5).  SymPy leaves floor(2^999.5) unevaluated, and a
later step then failed with PrecisionExhausted or not depending on the order its assumptions were asked in: on
the process's hash seed, so one answer was `correct` in one run and `invalid` in the next.  The parser now
computes the integer part of a real constant exactly (the oracle here: mpmath at twice the digits), and an
answer it cannot decide is too complex, the same in every process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mpmath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examcheck.parsing import ParseError, TooComplex, parse_expression

SQUAREFREE = [2, 3, 5, 6, 7, 10, 11, 13]


def _oracle(kind: str, a: int, b: int, k: int, root: int) -> int:
    with mpmath.workdps(2 * k + 80):
        value = mpmath.mpf(a) * mpmath.root(b, root) * mpmath.mpf(10) ** k
        return int(mpmath.floor(value) if kind == "floor" else mpmath.ceil(value))


@settings(max_examples=120, deadline=None)
@given(kind=st.sampled_from(["floor", "ceil"]), a=st.integers(-999, 999).filter(bool), b=st.sampled_from(SQUAREFREE),
       k=st.integers(0, 600), root=st.sampled_from([2, 3]))
def test_the_integer_part_of_a_large_constant_is_exact(kind, a, b, k, root):
    radical = f"sqrt({b})" if root == 2 else f"{b}^(1/3)"
    assert parse_expression(f"{kind}({a}*{radical}*10^{k})") == _oracle(kind, a, b, k, root)


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(["floor", "ceil"]), exponent=st.integers(1, 1500), base=st.sampled_from([2, 3, 5, 7]))
def test_a_ratio_of_equal_integer_parts_reads_as_its_number(kind, exponent, base):
    text = f"0.999*{kind}({base}^{exponent}.5)/{kind}({base}^{exponent}.5)"
    try:
        assert parse_expression(text) == parse_expression("0.999")
    except TooComplex:  # only where the power itself is beyond the parser's size limits
        with pytest.raises(TooComplex):
            parse_expression(f"{base}^{exponent}.5")


@pytest.mark.parametrize("text", ["floor(10^4000*pi)", "ceil(2^(2^20))", "floor(10^6000 + 1/3)"])
def test_beyond_the_digits_it_computes_it_is_too_complex(text):
    with pytest.raises(TooComplex):
        parse_expression(text)


def test_no_internal_exception_name_reaches_the_student():
    for text in ("floor(3^700.5)/floor(3^700.5)*180200", "ceil(pi*10^500)-ceil(pi*10^500)", "floor(sqrt(2)*10^4999)"):
        try:
            parse_expression(text)
        except ParseError as exc:
            assert "PrecisionExhausted" not in str(exc) and "Error" not in str(exc)


CASES = ["0.999*ceil(2^999.5)/ceil(2^999.5)", "floor(sqrt(2)*10^300)-floor(sqrt(2)*10^300)",
         "ceil(pi*10^500)-ceil(pi*10^500)", "floor(3^700.5)/floor(3^700.5)*180200"]
PROGRAM = f"""
from examcheck.parsing import parse_expression, ParseError
for text in {CASES!r}:
    try:
        print(parse_expression(text))
    except ParseError as exc:
        print(type(exc).__name__, exc)
"""


def test_the_same_answer_reads_the_same_under_every_hash_seed():
    outputs = set()
    for seed in range(6):
        run = subprocess.run([sys.executable, "-c", PROGRAM], env={**os.environ, "PYTHONHASHSEED": str(seed)},
                             capture_output=True, text=True, timeout=120, check=True)
        outputs.add(run.stdout)
    assert len(outputs) == 1
    assert outputs.pop().split() == ["999/1000", "0", "0", "180200"]


# ---------------------------------------------------------------- blind test 18b: N1 and N2


def _grade_q1i(answer: str):
    import tempfile
    from pathlib import Path

    from examcheck.answers import load_sheet
    from examcheck.engine import grade_sheet
    from examcheck.loader import load_sets

    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.yaml"
        path.write_text(f"student: n1\nexam: seed000-quiz\nanswers:\n  q1:\n    i: '{answer}'\n")
        report = grade_sheet(load_sheet(path), load_sets([root / "problems" / "seed000-quiz.yaml"]))
    return report.problems[0].parts[0]


def _fraction_of(a: int, k: int) -> float:
    with mpmath.workdps(k + 60):
        value = a * mpmath.pi * mpmath.mpf(10) ** k
        return float(value - mpmath.floor(value))


@settings(max_examples=12, deadline=None)
@given(a=st.integers(1, 99), k=st.integers(90, 700))
def test_a_variable_inside_the_integer_part_of_a_huge_constant_is_judged_not_called_undefined(a, k):
    """N1: floor(C + sigma(z)/100) - floor(C) is 0 for every z when C's fractional part is under 0.99: float64
    cannot see it, and 50 or 200 digits could not either for C beyond 10^105 ("undefined", a wrong verdict)."""
    from hypothesis import assume

    assume(_fraction_of(a, k) < 0.98)
    huge = f"{a}*pi*10^{k}"
    right = f"x_i*sigma(z)*(1-sigma(z))*(floor({huge} + sigma(z)/100) - floor({huge}) + 1)"
    part = _grade_q1i(right)
    assert part.status.value == "correct", (part.feedback, part.note)
    wrong = _grade_q1i(right.replace("+ 1)", "+ 2)"))
    assert wrong.status.value == "incorrect" and "undefined" not in wrong.feedback


def test_integer_parts_within_a_hair_of_an_integer():
    """N2: floor(phi^400) is a Lucas number minus one (phi^400 is 1e-84 under it); an integer written as
    arithmetic is that integer; a number within 10^-500 of an integer that cannot be shown to be one is too
    complex, with a reason that says what to do."""
    with mpmath.workdps(400):
        lucas = int(mpmath.nint(((1 + mpmath.sqrt(5)) / 2) ** 400))
    assert parse_expression("floor(((1+sqrt(5))/2)^400)") == lucas - 1
    assert parse_expression("ceil(((1+sqrt(5))/2)^400)") == lucas
    assert parse_expression("floor(sqrt(2)^2)") == 2 and parse_expression("ceil(sqrt(3)^4)") == 9
    with pytest.raises(TooComplex, match="give the integer"):
        parse_expression("floor(log(2^1000)/log(2))")


@settings(max_examples=40, deadline=None)
@given(c=st.fractions(min_value=-20, max_value=20, max_denominator=40),
       k=st.fractions(min_value=0, max_value=3, max_denominator=40), ceil=st.booleans())
def test_an_integer_part_that_makes_an_answer_zero_somewhere_is_seen(c, k, ceil):
    """Blind test 18c, G1 and G2: ref*(1 + floor(c - k*sigma(z)) - floor(c)) is the reference exactly when the
    floor never moves for sigma in (0, 1), i.e. k <= frac(c); otherwise it is 0 (or twice the reference) for
    large z.  A sum of exact integers (1 + floor(...) = 0) was taken for a cancellation, its points skipped:
    wrong answers were `correct`, or `undecided` "for too few points"."""
    from fractions import Fraction

    from hypothesis import assume

    assume(k != 0)  # a zero coefficient (floor(0 - 0*sigma(z))) is the open bug pinned just below
    frac = c - (c.numerator // c.denominator)
    assume(k <= frac or frac / k < Fraction(95, 100))  # when wrong, wrong for sigma > 0.95 (z > 3): on the grid
    m = c.numerator // c.denominator
    if ceil:  # the same with ceil: ceil(c' + k*sigma) for c' = -c
        term, base = f"ceil({-c.numerator}/{c.denominator} + {k.numerator}/{k.denominator}*sigma(z))", -m
        answer = f"x_i*sigma(z)*(1-sigma(z))*(1 - ({term}) + ({base}))"
    else:
        term = f"floor({c.numerator}/{c.denominator} - {k.numerator}/{k.denominator}*sigma(z))"
        answer = f"x_i*sigma(z)*(1-sigma(z))*(1 + ({term}) - ({m}))"
    part = _grade_q1i(answer)
    expected = "correct" if k <= frac else "incorrect"
    assert part.status.value == expected, (answer, part.status.value, part.feedback, part.note)


ZERO_COEFFICIENT = f"""
import tempfile
from pathlib import Path
from examcheck.answers import load_sheet
from examcheck.engine import grade_sheet
from examcheck.loader import load_sets
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "a.yaml"
    path.write_text("student: z\\nexam: seed000-quiz\\nanswers:\\n  q1:\\n    i: "
                    "'x_i*sigma(z)*(1-sigma(z))*(1 + (floor(0/1 - 0/1*sigma(z))) - (0))'\\n")
    sets = load_sets([Path({str(Path(__file__).resolve().parent.parent / "problems" / "seed000-quiz.yaml")!r})])
    print(grade_sheet(load_sheet(path), sets).problems[0].parts[0].status.value)
"""


@pytest.mark.xfail(strict=True, reason="open bug, older than session 18: the floor of an unevaluated zero "
                   "(0/1 - 0/1*sigma(z)) is judged by the hash seed (hypothesis found it in the README's test command)")
def test_a_floor_of_a_written_zero_is_judged_alike_under_every_hash_seed():
    verdicts = set()
    for seed in range(8):
        run = subprocess.run([sys.executable, "-c", ZERO_COEFFICIENT], env={**os.environ, "PYTHONHASHSEED": str(seed)},
                             capture_output=True, text=True, timeout=300, check=True)
        verdicts.add(run.stdout.strip())
    assert verdicts == {"correct"}
