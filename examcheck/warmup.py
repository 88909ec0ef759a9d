"""What a sandbox worker imports as soon as it starts (sandbox.Session.start), while the parent process goes on
importing and loading the problem sets: the modules that grading needs beyond SymPy, which the worker is forked
with.  Grading one file cold is then mostly the longer of the two, not their sum."""

from __future__ import annotations


def for_grading() -> None:
    import sympy.tensor.tensor  # noqa: F401 - SymPy imports it when it builds its first sum

    import examcheck.answertests.equivalence  # noqa: F401 - and NumPy with it
    import examcheck.tasks  # noqa: F401 - every task: reading answer files, references, answer checks
    from examcheck.schema import ANSWER_FILE_SCHEMA, validator_for

    validator_for(ANSWER_FILE_SCHEMA)  # jsonschema, and the answer files' validator, compiled once
