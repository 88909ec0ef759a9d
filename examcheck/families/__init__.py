"""The registry of problem families, and the contract every family declares.

A family turns ``given`` parameters into named results and worked steps.
Each family lives in one module of this package and registers itself with
``@register``; modules are discovered automatically, so adding a family
touches one file (plus its YAML and tests).

The contract (see notes/family-contract.md and `examcheck families`):

- ``given_schema``: a JSON Schema of the ``given`` mapping (``additionalProperties: false``).
- ``layer_schemas``: for families with a ``layers`` list of mappings, one JSON Schema per layer ``type``.
- ``results``: the results the family can compute, as ``Result(name or pattern, kind, description)``;
  a pattern names its varying part in braces (``params.{layer}``).
- ``conventions``: a frozen dataclass (a subclass of ``Conventions``) of the conventions the family honours,
  read from the problem's ``log_base`` and from ``given`` keys of the same name.
- ``example``: a ``given`` mapping that the family solves (tests run it).
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from examcheck.compat import StrEnum
from examcheck.suggest import did_you_mean


@dataclass
class Step:
    """One line of a worked solution: what is done, and the formula with values."""

    text: str
    math: str = ""


@dataclass
class Variant:
    """A known mistake that the family can compute: the same problem with other
    given values (for example ``bias: false``), and what to tell the student."""

    given: dict
    feedback: str


@dataclass
class Solution:
    """What a family computes: results by name, the worked steps, and more."""

    results: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)  # the problem contradicts itself: `check` reports these
    display: dict[str, Any] = field(default_factory=dict)  # readable forms of results, for people
    definitions: dict[str, Any] = field(default_factory=dict)  # named intermediate quantities (a^(2) = ...)


class FamilyError(ValueError):
    """The given parameters do not describe a problem this family can solve."""


# ----------------------------------------------------------------------------- results


class AnswerKind(StrEnum):
    """What kind of value a result is (and so which answer types can ask for it)."""

    INTEGER = "integer"
    NUMBER = "number"
    EXPRESSION = "expression"
    SHAPE = "shape"
    VECTOR = "vector"
    MATRIX = "matrix"
    BOOLEAN = "boolean"
    CHOICE = "choice"


# Which part `answer:` types may ask for a result of each kind.
ANSWER_TYPES_FOR: dict[AnswerKind, frozenset[str]] = {
    AnswerKind.INTEGER: frozenset({"integer", "number", "expression"}),
    AnswerKind.NUMBER: frozenset({"number", "expression", "integer"}),
    AnswerKind.EXPRESSION: frozenset({"expression", "number", "integer"}),
    AnswerKind.SHAPE: frozenset({"shape", "vector", "tuple", "set"}),
    AnswerKind.VECTOR: frozenset({"vector", "tuple", "set", "matrix", "shape"}),
    AnswerKind.MATRIX: frozenset({"matrix", "vector"}),
    AnswerKind.BOOLEAN: frozenset({"boolean", "choice"}),
    AnswerKind.CHOICE: frozenset({"choice", "text"}),
}

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Result:
    """A result a family declares: an exact name (``total``) or a pattern (``params.{layer}``),
    its answer kind and one line saying what it is.  A placeholder stands for one dotted segment."""

    name: str
    kind: AnswerKind
    description: str

    def __post_init__(self):
        object.__setattr__(self, "kind", AnswerKind(self.kind))

    @property
    def is_pattern(self) -> bool:
        return bool(_PLACEHOLDER.search(self.name))

    def regex(self) -> re.Pattern:
        pieces, last = [], 0
        for m in _PLACEHOLDER.finditer(self.name):
            pieces += [re.escape(self.name[last:m.start()]), r"[^.\s]+"]
            last = m.end()
        pieces.append(re.escape(self.name[last:]))
        return re.compile("".join(pieces) + r"\Z")

    def matches(self, name: str) -> bool:
        return bool(self.regex().match(name))


# ----------------------------------------------------------------------------- given values

# A number in `given`: written as a number or as text that reads as one exactly.  The loader checks the text.
NUMBER_VALUE = {"type": ["number", "string"], "format": "exact-number",
                "description": "a number (0.5, 1/3, 1 - 0.09, sqrt(2))"}


# ----------------------------------------------------------------------------- conventions


LOG_BASES = ("e", 2, 10)


@dataclass(frozen=True)
class Conventions:
    """The conventions every family understands.  A family that honours more subclasses this
    (frozen dataclass); each field has a default and ``metadata={"doc": ...}``.
    Values come from the problem's ``log_base`` and from ``given`` keys with the field's name."""

    log_base: str | int = field(default="e", metadata={"doc": "base of log: e, 2 or 10 (the problem's log_base)"})

    @classmethod
    def describe(cls) -> list[dict]:
        """name, default and meaning of each convention, for `examcheck families`."""
        return [{"name": f.name, "default": f.default, "doc": f.metadata.get("doc", "")}
                for f in dataclasses.fields(cls)]

    @classmethod
    def read(cls, given: dict, log_base="e") -> Conventions:
        values = {f.name: given[f.name] for f in dataclasses.fields(cls) if f.name != "log_base" and f.name in given}
        return cls(log_base=log_base if log_base is not None else "e", **values)


@dataclass(frozen=True)
class BiasConventions(Conventions):
    bias: bool = field(default=True, metadata={"doc": "layers have biases (given key `bias`)"})


# ----------------------------------------------------------------------------- families


@dataclass
class GivenError:
    """A `given` value the schema cannot catch: where (a path inside given) and what is wrong."""

    path: tuple
    message: str


class Family:
    name: ClassVar[str]
    summary: ClassVar[str]
    given_schema: ClassVar[dict]
    results: ClassVar[tuple[Result, ...]] = ()
    conventions: ClassVar[type[Conventions]] = Conventions
    example: ClassVar[dict] = {}
    layer_schemas: ClassVar[dict[str, dict]] = {}  # layer type -> JSON Schema of its mapping
    notes: ClassVar[str] = ""  # anything a problem writer must know (e.g. whether iterates include the start)

    def solve(self, given: dict, conventions: Conventions) -> Solution:
        raise NotImplementedError

    def variants(self, given: dict) -> list[Variant]:
        return []

    # A family whose solve is cheap (plain arithmetic) is solved at load time so that any given values
    # it cannot use are reported there, with the line.  Others override check_given.
    solve_at_load: ClassVar[bool] = False

    def check_given(self, given: dict) -> list[GivenError]:
        """Errors the schema cannot see (layer strings that do not parse, lengths that disagree, ...),
        found at load time.  With solve_at_load, the loader also solves the problem afterwards."""
        return []

    def load_errors(self, given: dict) -> list[GivenError]:
        """check_given, then (for a cheap family with no errors so far) a solve whose FamilyError is a load error."""
        errors = self.check_given(given)
        if errors or not self.solve_at_load:
            return errors
        try:
            self.compute(given)
        except FamilyError as exc:
            return [GivenError(getattr(exc, "path", ()), str(exc))]
        return []

    # -- used by the engine; families do not override these

    def compute(self, given: dict, log_base="e") -> Solution:
        """Solve with the conventions read from the problem."""
        return self.solve(given, self.conventions.read(given, log_base))

    def result_spec(self, name: str) -> Result | None:
        exact = next((r for r in self.results if not r.is_pattern and r.name == name), None)
        return exact or next((r for r in self.results if r.is_pattern and r.matches(name)), None)

    def result_names(self) -> list[str]:
        return [r.name for r in self.results]

    def unknown_result(self, name: str) -> str | None:
        """None if name is a declared result, else a message naming the allowed ones and a likely one."""
        if self.result_spec(name) is not None:
            return None
        return f"family {self.name!r} has no result {name!r}{did_you_mean(name, self.result_names())} " \
               f"(allowed: {', '.join(self.result_names())})"

    def describe(self) -> dict:
        """The contract as data: `examcheck families --format json` and the README table."""
        return {
            "name": self.name,
            "summary": self.summary,
            "given": self.given_schema,
            "layers": self.layer_schemas,
            "results": [{"name": r.name, "kind": r.kind.value, "description": r.description} for r in self.results],
            "conventions": self.conventions.describe(),
            "example": self.example,
            "notes": self.notes,
        }


REGISTRY: dict[str, Family] = {}


def register(cls: type[Family]) -> type[Family]:
    REGISTRY[cls.name] = cls()
    return cls


def _discover() -> None:
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")


def get(name: str) -> Family:
    if not REGISTRY:
        _discover()
    if name not in REGISTRY:
        known = ", ".join(sorted(REGISTRY))
        raise FamilyError(f"unknown family {name!r}{did_you_mean(name, REGISTRY)} (known: {known})")
    return REGISTRY[name]


def all_families() -> dict[str, Family]:
    if not REGISTRY:
        _discover()
    return dict(sorted(REGISTRY.items()))
