"""True/false and choice answers wrapped in LaTeX text commands are read by the word inside."""

from hypothesis import given, settings
from hypothesis import strategies as st

from examcheck.answertests import Options, run_test

WRAPPERS = [r"\text{%s}", r"\textbf{%s}", r"\mathrm{%s}", r"\textit{%s}", "$%s$", r"$\text{%s}$", " %s "]
CHOICES = ["A", "B", "C", "D"]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(WRAPPERS), st.sampled_from(CHOICES), st.sampled_from(CHOICES))
def test_wrapped_choices(wrapper, written, reference):
    verdict = run_test("choice", wrapper % written, reference, Options(choices=CHOICES))
    assert verdict.status in ("correct", "incorrect")
    assert verdict.correct is (written == reference)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(WRAPPERS), st.sampled_from(["true", "false", "True", "FALSE", "yes", "no"]), st.booleans())
def test_wrapped_booleans(wrapper, word, reference):
    verdict = run_test("boolean", wrapper % word, reference, Options())
    assert verdict.correct is ((word.lower() in ("true", "yes")) == reference)
