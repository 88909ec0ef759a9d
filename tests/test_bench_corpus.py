"""examcheck must judge every pair of the benchmark corpora right: bench/corpus.yaml and the blind
corpus bench/corpus-blind.yaml (written without reading the code); every truth is checked
independently by bench/verify_corpus.py (SymPy and 50-digit sampling, no examcheck import)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from corpus import examcheck_says, load_pairs  # noqa: E402

PAIRS = load_pairs()


def test_corpus_is_big_and_mixed():
    assert len(PAIRS) >= 600
    assert all(p.meaning for p in PAIRS)  # every answer says what it means, for the truth checker
    wrong_share = sum(not p.truth for p in PAIRS) / len(PAIRS)
    assert 0.3 <= wrong_share <= 0.6
    assert any("\\" in p.answer for p in PAIRS) and any("\\" not in p.answer for p in PAIRS)


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: f"{p.topic}:{p.answer[:30]}")
def test_verdict(pair):
    assert examcheck_says(pair) is pair.truth
