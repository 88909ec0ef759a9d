"""A verdict must not depend on the process's hash seed (blind test 18, F1: SymPy's assumptions are asked in an
order that depends on it, and one answer was `correct` in one run and `invalid` in the next).  Every pair of
both benchmark corpora, and the bundled example answer files, are judged in processes with different seeds:
the verdicts, notes and feedback must be the same."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CORPUS = f"""
import sys
sys.path.insert(0, {str(ROOT / "bench")!r})
from corpus import load_pairs
from examcheck.grading import verdict_for
for pair in load_pairs():
    if pair.ref is not None:
        verdict = verdict_for(pair.part, pair.answer, pair.ref)
        print(verdict.status, verdict.feedback, verdict.note, verdict.interpreted)
"""


def _digest(program: str, seed: int, *args: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": str(seed), "EXAMCHECK_REFERENCE_CACHE": "off"}
    run = subprocess.run([sys.executable, *program, *args], env=env, capture_output=True, text=True, timeout=600,
                         cwd=ROOT, stdin=subprocess.DEVNULL)
    assert run.returncode in (0, 1), run.stderr[-2000:]
    return hashlib.sha256(run.stdout.encode()).hexdigest()


def test_the_example_answer_files_get_the_same_reports_under_every_hash_seed():
    files = sorted(str(p) for p in (ROOT / "examples" / "answers").glob("*.yaml"))
    program = ["-m", "examcheck", "grade", *files, "--format", "jsonl", "--jobs", "2"]
    assert len({_digest(program, seed) for seed in (0, 1, 2)}) == 1


def test_every_corpus_pair_gets_the_same_verdict_under_every_hash_seed():
    assert len({_digest(["-c", CORPUS], seed) for seed in (0, 1, 2)}) == 1


def test_answers_with_integer_parts_of_huge_constants_get_the_same_reports_under_every_hash_seed(tmp_path):
    answers = ["0.999*ceil(2^999.5)/ceil(2^999.5)", "floor(sqrt(2)*10^300)-floor(sqrt(2)*10^300)+0.999",
               "ceil(pi*10^500)-ceil(pi*10^500)+0.999", "floor(3^600.5)/floor(3^600.5)*0.999"]
    files = []
    for i, answer in enumerate(answers):
        path = tmp_path / f"s{i}.yaml"
        path.write_text(f"student: s{i}\nexam: seed000-quiz\nanswers:\n  q2:\n    i: '{answer}'\n")
        files.append(str(path))
    program = ["-m", "examcheck", "grade", *files, "--format", "jsonl", "--jobs", "1"]
    assert len({_digest(program, seed) for seed in range(5)}) == 1
