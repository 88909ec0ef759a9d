"""The registry of problem families.

A family turns ``given`` parameters into named results and worked steps.
Each family lives in one module of this package and registers itself with
``@register``; modules are discovered automatically, so adding a family
touches one file (plus its YAML and tests).
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, ClassVar


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
    results: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    display: dict[str, Any] = field(default_factory=dict)  # readable forms of results, for people


class FamilyError(ValueError):
    """The given parameters do not describe a problem this family can solve."""


class Family:
    name: ClassVar[str]
    summary: ClassVar[str]
    given_schema: ClassVar[dict]

    def solve(self, given: dict, conventions: dict) -> Solution:
        raise NotImplementedError

    def variants(self, given: dict) -> list[Variant]:
        return []


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
        raise FamilyError(f"unknown family {name!r} (known: {known})")
    return REGISTRY[name]


def all_families() -> dict[str, Family]:
    if not REGISTRY:
        _discover()
    return dict(sorted(REGISTRY.items()))
