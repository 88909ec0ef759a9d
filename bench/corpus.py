"""Load bench/corpus.yaml and judge its pairs with examcheck (shared by the benchmark and the tests)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from examcheck.answertests import Options, read_reference
from examcheck.domains import parse_domain
from examcheck.grading import verdict_for
from examcheck.loader import precision
from examcheck.model import Part
from examcheck.parsing import Vocabulary
from examcheck.reference import PartReference, widen_vocabulary

CORPUS = Path(__file__).with_name("corpus.yaml")


@dataclass
class Pair:
    topic: str
    answer_type: str
    reference: str
    gold: str
    answer: str
    truth: bool
    part: Part
    ref: PartReference


def load_pairs(path: Path = CORPUS) -> list[Pair]:
    pairs = []
    for group in yaml.safe_load(path.read_text(encoding="utf-8")):
        domains = {n: parse_domain(d) for n, d in group.get("variables", {}).items()}
        options = Options(precision=precision(group.get("precision")), domains=domains,
                          vocab=Vocabulary({n: d.symbol(n) for n, d in domains.items()}))
        value = read_reference(group["type"], group["reference"], options)
        part = Part(id="p", marks=1, answer=group["type"], precision=options.precision)
        ref = PartReference(value, widen_vocabulary(options, value))
        for answer, truth in group["answers"]:
            pairs.append(Pair(group["topic"], group["type"], group["reference"], group["gold"], answer, truth,
                              part, ref))
    return pairs


def examcheck_says(pair: Pair) -> bool:
    return verdict_for(pair.part, pair.answer, pair.ref).correct
