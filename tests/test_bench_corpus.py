"""examcheck must judge every pair of the benchmark corpus right (truths decided by hand)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from corpus import examcheck_says, load_pairs  # noqa: E402

PAIRS = load_pairs()


def test_corpus_is_big_and_mixed():
    assert len(PAIRS) >= 120
    wrong_share = sum(not p.truth for p in PAIRS) / len(PAIRS)
    assert 0.3 <= wrong_share <= 0.6
    assert any("\\" in p.answer for p in PAIRS) and any("\\" not in p.answer for p in PAIRS)


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: f"{p.topic}:{p.answer[:30]}")
def test_verdict(pair):
    assert examcheck_says(pair) is pair.truth
