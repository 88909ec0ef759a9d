import pytest
import sympy as sp

from examcheck.mathfuncs import sigma
from examcheck.parsing import (
    ParseError,
    TooComplex,
    Vocabulary,
    parse,
    parse_boolean,
    parse_expression,
    parse_number,
    parse_shape,
)

z, x, x_i, m, r, s, y = sp.symbols("z x x_i m r s y", real=True)
VOCAB = Vocabulary({"z": z, "x": x, "x_i": x_i, "m": m, "r": r, "s": s, "y": y})


@pytest.mark.parametrize("text, expected", [
    ("sigma(z)*(1 - sigma(z))*x_i", sigma(z) * (1 - sigma(z)) * x_i),
    ("σ(z)(1−σ(z))x_i", sigma(z) * (1 - sigma(z)) * x_i),
    ("x_i sigma(z)", x_i * sigma(z)),
    ("2x(1-x)", 2 * x * (1 - x)),
    ("2(m+r+s)", 2 * (m + r + s)),
    (r"\frac{e^{-z}}{(1+e^{-z})^2}", sp.exp(-z) / (1 + sp.exp(-z)) ** 2),
    (r"\left(1-\sigma(z)\right)\sigma(z)", (1 - sigma(z)) * sigma(z)),
    ("x^2", x ** 2),
    ("x**2", x ** 2),
    ("-x^2", -(x ** 2)),
    ("2^-1", sp.Rational(1, 2)),
    ("tanh^2(z)", sp.tanh(z) ** 2),
    (r"\operatorname{sech}^2(z)", sp.sech(z) ** 2),
    ("max(0, x)", sp.Max(0, x)),
    ("relu(x)", sp.Max(0, x)),
    ("|x|", sp.Abs(x)),
    ("xy", x * y),
    ("x²", x ** 2),
    ("√x", sp.sqrt(x)),
    (r"\sqrt{x}", sp.sqrt(x)),
    (r"\frac12", sp.Rational(1, 2)),
    ("1/2x", x / 2),
    ("log10(x)", sp.log(x, 10)),
    (r"\log_{10}(x)", sp.log(x, 10)),
    ("log(x, 2)", sp.log(x, 2)),
    (r"\ln x + 1", sp.log(x) + 1),
    ("2e^z", 2 * sp.exp(z)),
    ("0.98", sp.Rational(49, 50)),
    ("1.802e5", sp.Integer(180200)),
    ("99.9%", sp.Rational(999, 1000)),
])
def test_plain_and_latex(text, expected):
    assert sp.simplify(parse_expression(text, VOCAB) - expected) == 0


def test_log_follows_the_part_convention():
    assert parse_expression("log(x)", Vocabulary({"x": x}, log_base=10)) == sp.log(x, 10)
    assert parse_expression("log(x)", Vocabulary({"x": x})) == sp.log(x)


def test_lists_and_matrices():
    assert parse("[1, 0.98]", VOCAB) == [1, sp.Rational(49, 50)]
    assert parse(r"\begin{bmatrix}1 & 2\\ 3 & 4\end{bmatrix}", VOCAB) == [[1, 2], [3, 4]]


@pytest.mark.parametrize("text", ["w_i", "foo(x)", "q"])
def test_unknown_names_are_rejected_with_the_allowed_ones(text):
    with pytest.raises(ParseError) as info:
        parse_expression(text, Vocabulary({"z": z, "x_i": x_i}))
    assert "this part's variables are x_i, z" in str(info.value)


@pytest.mark.parametrize("text", [
    "__import__('os').system('true')", "lambda: 1", "x.real", "().__class__", "exec('1')", "eval(x)",
    "open('f')", "x; y", "[x for x in y]",
])
def test_code_is_not_math(text):
    with pytest.raises(ParseError):
        parse_expression(text, VOCAB)


@pytest.mark.parametrize("text", ["10^10^10", "9^999999", "(" * 200 + "x" + ")" * 200, "x" * 5000,
                                  "1" * 3000])
def test_limits(text):
    with pytest.raises(TooComplex):
        parse_expression(text, VOCAB)


def test_numbers_remember_their_precision():
    assert parse_number("1.40").decimals == 2
    assert parse_number("1.40").sigfigs == 3
    assert parse_number("1.4").decimals == 1
    assert parse_number("2e-7").value == sp.Rational(2, 10 ** 7)
    assert parse_number("99.9%").value == sp.Rational(999, 1000)
    assert parse_number("1.802×10^5").value == 180200
    assert parse_number("1/3").exact


@pytest.mark.parametrize("text, shape", [
    ("256x1025", (256, 1025)), ("4×8", (4, 8)), ("[4, 8]", (4, 8)), ("(4,8)", (4, 8)),
    ("31 x 31 x 5", (31, 31, 5)), ("scalar", ()), ([4, 8], (4, 8)),
])
def test_shapes(text, shape):
    assert parse_shape(text) == shape


def test_bad_shape():
    with pytest.raises(ParseError):
        parse_shape("4 by eight")


@pytest.mark.parametrize("text, value", [("yes", True), ("T", True), ("false", False), ("No", False)])
def test_booleans(text, value):
    assert parse_boolean(text) is value


def test_latex_forms_students_write():
    vocab = Vocabulary({n: sp.Symbol(n, real=True) for n in ["x", "z", "x_i", "y_hat"]})
    cases = {
        r"\exp\left(x\right)": sp.exp(x), r"\max\{0, x\}": sp.Max(0, x), r"\dfrac{1}{1+e^{-z}}": 1 / (1 + sp.exp(-z)),
        r"\mathbf{x}": x, r"\hat{y}": sp.Symbol("y_hat", real=True), r"\operatorname{ReLU}(x)": sp.Max(0, x),
        r"\left|x\right|": sp.Abs(x), r"x_i\sigma(z)": x_i * sigma(z),
    }
    for text, expected in cases.items():
        assert parse_expression(text, vocab) == expected, text


def test_subscripts_and_layer_labels():
    names = ["x_1", "x_2", "x_in", "a^(4)_1", "w^(2)_k1"]
    vocab = Vocabulary({n: sp.Symbol(n, real=True) for n in names})
    assert parse_expression("x_1x_2", vocab) == vocab.symbols["x_1"] * vocab.symbols["x_2"]
    assert parse_expression("x_in", vocab) == vocab.symbols["x_in"]
    assert parse_expression("a^{(4)}_1", vocab) == vocab.symbols["a^(4)_1"]
    assert parse_expression(r"w_{k1}^{(2)}", vocab) == parse_expression(r"w^{(2)}_{k1}", vocab) == vocab.symbols["w^(2)_k1"]


def test_an_equation_counts_by_its_right_hand_side():
    vocab = Vocabulary({"z": z, "x_i": x_i})
    assert parse_expression(r"\frac{\partial a}{\partial w_i} = x_i \sigma(z)", vocab) == x_i * sigma(z)
    assert parse_number("≈ 1.40").decimals == 2
    assert parse("[1, 2]", vocab) == [1, 2]


def test_factorials_are_bounded():
    assert parse_expression("5!") == 120
    with pytest.raises(TooComplex):
        parse_expression("100000!")
    with pytest.raises(TooComplex):
        parse_expression("(10^10)!")
    with pytest.raises(ParseError):
        parse_expression("!5")


def test_trailing_units_are_not_part_of_the_answer():
    assert parse_number("7600 parameters").value == 7600
    assert parse_number("2 bytes").value == 2
    assert parse_shape("21 x 21 pixels") == (21, 21)
    assert parse_shape("31x31x5 feature maps") == (31, 31, 5)
    vocab = Vocabulary({n: sp.Symbol(n, positive=True) for n in "mrs"})
    assert parse_expression("2(m + r + s) Bytes", vocab) == 2 * (vocab.symbols["m"] + vocab.symbols["r"] + vocab.symbols["s"])
    with_variable = Vocabulary({"x": x, "units": sp.Symbol("units")})
    assert parse_expression("2 units", with_variable) == 2 * sp.Symbol("units")
    with pytest.raises(ParseError):
        parse_number("7600 apples")


def test_booleans_with_a_reason():
    assert parse_boolean("True, because the mean cancels b") is True
    assert parse_boolean("No - the count does not change") is False
    with pytest.raises(ParseError):
        parse_boolean("maybe true")


def test_boxed_answers_and_text_units():
    assert parse_number(r"\boxed{0.42}").decimals == 2
    assert parse_number(r"2(3+4) \text{ bytes}").value == 14
    assert parse_expression(r"\boxed{\frac{x}{2}}", VOCAB) == x / 2


def test_decimal_comma_in_number_parts():
    assert parse_number("0,42").value == sp.Rational(42, 100) and parse_number("0,42").decimals == 2
    assert parse_number("19,03").value == sp.Rational(1903, 100)
    assert parse_number("7,600").value == 7600  # three digits after the comma: a thousands separator
    assert parse_number("99,9%").value == sp.Rational(999, 1000)
