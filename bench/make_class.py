"""A synthetic class: N answer files for every bundled exam, with a realistic mix of correct
answers (as keyed and in equivalent forms), common mistakes, garbage and missing parts.

    python bench/make_class.py OUT_DIR --students 1000 [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from examcheck.loader import load_sets

ROOT = Path(__file__).resolve().parent.parent
GARBAGE = ["idk", "x +", "\\frac{", "???", "see attached", "σ(", "[1, 2", "lambda: 0", "1e99999", "(" * 80]


def wrong_version(part, rng: random.Random) -> str | None:
    """A plausible wrong answer: a declared mistake, or a typical slip of the key."""
    declared = [m.answer for m in part.mistakes if m.answer is not None]
    if declared and rng.random() < 0.6:
        return str(rng.choice(declared))
    key = str(part.key)
    kind = part.answer
    if kind in ("number", "integer"):
        try:
            value = float(key.rstrip("%")) / (100 if key.endswith("%") else 1)
        except ValueError:
            return f"-({key})"
        slip = rng.choice([lambda v: -v, lambda v: v + 1, lambda v: v * 10, lambda v: round(v, 1) + 0.1])
        return repr(slip(value))
    if kind == "shape":
        dims = key.lower().replace("×", "x").split("x")
        return "x".join(reversed(dims)) if len(dims) > 1 and dims[0] != dims[-1] else f"{key}x1"
    if kind == "expression":
        return rng.choice([f"-({key})", f"2*({key})", f"({key}) + 1"])
    if kind == "boolean":
        return "false" if key.lower() in ("true", "yes") else "true"
    if kind == "choice":
        others = [c for c in part.choices if str(c).lower() != key.lower()]
        return str(rng.choice(others))
    if kind in ("vector", "matrix", "set", "tuple"):
        return key.replace("1", "7", 1) if "1" in key else key + " + 1"
    return None


def equivalent_version(part, rng: random.Random) -> str:
    key = str(part.key)
    if part.answer == "number" and rng.random() < 0.5 and "." in key and "%" not in key:
        return key + "0"
    if part.answer == "expression" and rng.random() < 0.5:
        return f"({key})*1"
    return key


def student_answers(problem_set, rng: random.Random) -> dict:
    answers: dict = {}
    for problem in problem_set.problems:
        parts = {}
        for part in problem.parts:
            roll = rng.random()
            if part.answer == "text":
                if roll < 0.8:
                    parts[part.id] = "An explanation in a sentence or two."
                continue
            if part.key is None or roll < 0.12:
                continue  # missing
            if roll < 0.17:
                parts[part.id] = rng.choice(GARBAGE)
            elif roll < 0.42:
                parts[part.id] = wrong_version(part, rng) or str(part.key)
            else:
                parts[part.id] = equivalent_version(part, rng)
        if parts:
            answers[problem.id] = parts
    return answers


def make_class(out: Path, students: int, seed: int = 0) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths = []
    for problem_set in load_sets([ROOT / "problems"]):
        for i in range(students):
            sheet = {"student": f"s{i:05d}", "exam": problem_set.exam, "answers": student_answers(problem_set, rng)}
            path = out / f"{problem_set.exam}-{i:05d}.yaml"
            path.write_text(json.dumps(sheet, ensure_ascii=False, indent=1))  # JSON is YAML
            paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    paths = make_class(args.out, args.students, args.seed)
    print(f"wrote {len(paths)} answer files to {args.out}")


if __name__ == "__main__":
    main()
