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
BLIND = Path(__file__).with_name("corpus-blind.yaml")  # written blind (see its header)
CORPORA = (CORPUS, BLIND)


@dataclass
class Pair:
    topic: str
    answer_type: str
    reference: str
    gold: str
    answer: str
    truth: bool
    part: Part
    ref: PartReference | None
    meaning: str = ""  # what the answer means, in SymPy syntax (the blind corpus gives it)
    source: str = ""


def load_pairs(paths=CORPORA) -> list[Pair]:
    """Every (reference, answer, truth) pair; an answer is [text, truth] or [text, truth, meaning]."""
    if isinstance(paths, (str, Path)):
        paths = (paths,)
    pairs = []
    for path in paths:
        for group in yaml.safe_load(Path(path).read_text(encoding="utf-8")):
            pairs.extend(_group_pairs(group, Path(path).name))
    return pairs


def _group_pairs(group: dict, source: str) -> list[Pair]:
    domains = {n: parse_domain(str(d)) for n, d in (group.get("variables") or {}).items()}
    options = Options(precision=precision(group.get("precision")), domains=domains,
                      vocab=Vocabulary({n: d.symbol(n) for n, d in domains.items()}),
                      choices=group.get("choices"))
    part = Part(id="p", marks=1, answer=group["type"], precision=options.precision)
    try:
        value = read_reference(group["type"], str(group["reference"]), options)
        ref = PartReference(value, widen_vocabulary(options, value))
    except ValueError:  # a reference examcheck cannot read: every pair of the group counts as misjudged
        ref = None
    out = []
    for entry in group["answers"]:
        answer, truth, meaning = (list(entry) + [""])[:3]
        out.append(Pair(group["topic"], group["type"], str(group["reference"]), group.get("gold", ""), answer, truth,
                        part, ref, meaning, source))
    return out


def examcheck_says(pair: Pair) -> bool:
    if pair.ref is None:
        return not pair.truth
    return verdict_for(pair.part, pair.answer, pair.ref).correct
