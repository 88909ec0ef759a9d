"""Parameters drawn per student, deployed ahead of time.

A problem may declare ``params:`` (integers and reals on a grid, choices; exclusions; a ``where:``
condition over them; ``tries:``, the draws a deploy may spend on it).  ``{name}`` in the problem's
values (given, statement, prompts, keys, mistakes) stands for the drawn value; ``{{name}}`` is the
literal text ``{name}``.  A whole value ``"{k}"`` becomes the drawn value itself (a number stays a
number); inside a longer expression a negative value is put in parentheses.

``deploy`` draws each variant with ``numpy.random.Generator(PCG64(seed))`` from explicit seeds, rejects
duplicates and degenerate variants, and writes the lock file ``EXAM.variants.yaml``: each variant's
seed, params and computed keys, the examcheck version, the salt, a fingerprint of the problem set and a
digest of the lock's own content.  Everything after deploy reads the lock and never draws again.

The lock is untrusted input: it is read with the bounded YAML reader and validated; a fingerprint
that differs from the problem set's (the exam was edited) or a digest that differs from the content
(the lock was edited) is an input error; every variant's params must lie in the declared domain and
satisfy ``where:``; and before grading every key is recomputed from the params and compared with the
lock's (examcheck changed, or the lock was edited and its digest forged).

A student's variant of a problem is ``sha256(salt, exam, problem, student, attempt) mod pool size``:
the same on every machine, whatever the roster's order.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path

from examcheck import __version__
from examcheck.conditions import Condition, ConditionError, parse_condition
from examcheck.math_spans import math_spans
from examcheck.model import Problem, ProblemSet
from examcheck.yamlio import InputError, YamlDoc

DEFAULT_TRIES = 1000
DEPLOY_SECONDS = 900.0    # a whole deploy
MAX_COUNT = 1000          # variants of one problem in one deploy
MAX_SEED = 2**63 - 1
LOCK_SUFFIX = ".variants.yaml"
PROSE = {"statement", "prompt", "title", "feedback", "note", "rubric"}
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"


# ----------------------------------------------------------------------------- params as declared


@dataclass(frozen=True)
class Param:
    name: str
    kind: str                      # integer, real, choice
    low: Decimal = Decimal(0)
    step: Decimal = Decimal(1)
    count: int = 0                 # values on the grid, or choices
    values: tuple = ()             # choices
    exclude: tuple = ()
    line: int | None = None

    def value_at(self, index: int):
        if self.kind == "choice":
            return self.values[index]
        value = self.low + self.step * index
        return int(value) if self.kind == "integer" else _real(value)

    def contains(self, value) -> bool:
        """Whether value is one this param can draw (a lock file's params are checked with it)."""
        if self.kind == "choice":
            return any(_same(value, v) for v in self.values) and not self._excluded(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.kind == "integer" and not isinstance(value, int):
            return False
        try:
            offset = (Decimal(repr(value)) - self.low) / self.step
        except (InvalidOperation, ArithmeticError):
            return False
        return offset == offset.to_integral_value() and 0 <= offset < self.count and not self._excluded(value)

    def _excluded(self, value) -> bool:
        return any(_same(value, v) for v in self.exclude)


def _same(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return Fraction(repr(a) if isinstance(a, float) else a) == Fraction(repr(b) if isinstance(b, float) else b)
    return str(a) == str(b) and type(a) is type(b)


def _real(value: Decimal) -> float:
    """A grid value as the float whose shortest text is the grid's decimal (0.1 + 2*0.05 is 0.2, not 0.20000000000000004)."""
    return float(value.normalize())


@dataclass(frozen=True)
class ParamSpace:
    """A problem's params, its where conditions and its draw budget."""

    params: tuple[Param, ...]
    where: tuple[Condition, ...] = ()
    tries: int = DEFAULT_TRIES
    line: int | None = None

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def size(self) -> int:
        """How many distinct draws there can be at most (exclusions and `where:` may leave fewer)."""
        total = 1
        for param in self.params:
            total *= param.count
        return total

    def accepts(self, values: dict) -> bool:
        env = {k: _exact(v) for k, v in values.items()}
        return all(c.holds(env) for c in self.where)

    def check(self, values: dict) -> str | None:
        """Why these values (from a lock file) are not a draw of this space, or None."""
        if not isinstance(values, dict) or set(values) != set(self.names):
            return f"expected values for exactly the params {', '.join(self.names)}"
        for param in self.params:
            if not param.contains(values[param.name]):
                return f"{param.name} = {values[param.name]!r} is not one of its declared values"
        if not self.accepts(values):
            return "these params do not satisfy `where:`"
        return None


def _exact(value):
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)


def param_space(doc: YamlDoc, path: tuple, raw: dict, errors: list) -> ParamSpace | None:
    """The params of the problem at path (already schema-valid), or None (errors appended, with lines)."""
    declared = raw.get("params") or {}
    params = []
    for name, spec in declared.items():
        where = (*path, "params", name)
        found = _param(doc, where, name, spec, errors)
        if found is not None:
            params.append(found)
    conditions = []
    where_raw = raw.get("where")
    texts = [where_raw] if isinstance(where_raw, str) else list(where_raw or [])
    for i, text in enumerate(texts):
        at = (*path, "where") if isinstance(where_raw, str) else (*path, "where", i)
        try:
            conditions.append(parse_condition(text, set(declared)))
        except ConditionError as exc:
            errors.append(doc.error(at, str(exc)))
    if "params" not in raw:
        for key in ("where", "tries"):
            if key in raw:
                errors.append(doc.error((*path, key), f"`{key}:` needs `params:` on this problem"))
        return None
    used = _references(raw, set(declared))
    for name in declared:
        if name not in used:
            errors.append(doc.error((*path, "params", name), f"param {name!r} is never used as {{{name}}} in this problem"))
    if len(params) != len(declared) or len(conditions) != len(texts):
        return None
    return ParamSpace(tuple(params), tuple(conditions), int(raw.get("tries", DEFAULT_TRIES)), doc.line(path))


def _param(doc: YamlDoc, where: tuple, name: str, spec: dict, errors: list) -> Param | None:
    from examcheck.loader import written

    kind = spec["type"]
    exclude = tuple(spec.get("exclude") or ())
    line = doc.line(where)
    if kind == "choice":
        if "values" not in spec or any(k in spec for k in ("min", "max", "step")):
            errors.append(doc.error(where, "a choice param takes `values:` (and optionally `exclude:`), not min/max/step"))
            return None
        values = tuple(spec["values"])
        if len({json.dumps(v) for v in values}) != len(values):
            errors.append(doc.error((*where, "values"), "the values of a choice param must differ"))
            return None
        return Param(name, kind, count=len(values), values=values, exclude=exclude, line=line)
    if "values" in spec or "min" not in spec or "max" not in spec:
        errors.append(doc.error(where, f"an {kind} param takes `min:` and `max:` (and optionally `step:`, `exclude:`)"))
        return None
    try:
        low, high = (Decimal(str(written(doc, (*where, k)))) for k in ("min", "max"))
        step = Decimal(str(written(doc, (*where, "step")))) if "step" in spec else Decimal(1)
    except InvalidOperation:
        errors.append(doc.error(where, "min, max and step must be plain numbers"))
        return None
    if kind == "integer" and any(v != v.to_integral_value() for v in (low, high, step)):
        errors.append(doc.error(where, "an integer param needs whole-number min, max and step"))
        return None
    if kind == "real" and "step" not in spec:
        errors.append(doc.error(where, "a real param needs `step:` (reals are drawn on a grid: min, min + step, ..., max)"))
        return None
    if high < low:
        errors.append(doc.error((*where, "max"), f"max {high} is below min {low}"))
        return None
    count = int((high - low) / step) + 1
    if count > 2**53:
        errors.append(doc.error(where, "more than 2**53 values on the grid; use a larger step"))
        return None
    return Param(name, kind, low, step, count, exclude=exclude, line=line)


def _references(value, names: set[str]) -> set[str]:
    found: set[str] = set()
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending += [v for k, v in item.items() if k not in ("params", "where", "tries")]
        elif isinstance(item, list):
            pending += item
        elif isinstance(item, str):
            found |= {m for m in re.findall(r"\{(" + _NAME + r")\}", item) if m in names}
    return found


# ----------------------------------------------------------------------------- drawing


def draw(space: ParamSpace, seed: int, budget: int) -> tuple[dict | None, int]:
    """(params, draws spent): the first draw from Generator(PCG64(seed)) that avoids every exclusion
    and satisfies every condition, within budget draws; (None, budget) if there is none."""
    for spent, values in _draws(space, seed, budget):
        if space.accepts(values):
            return values, spent
    return None, budget


def _draws(space: ParamSpace, seed: int, budget: int) -> Iterator[tuple[int, dict]]:
    """(tries so far, values): the draws of Generator(PCG64(seed)) that avoid every exclusion, in budget tries."""
    import numpy as np

    rng = np.random.Generator(np.random.PCG64(seed))
    for tries in range(1, budget + 1):
        values = {param.name: param.value_at(int(rng.integers(0, param.count))) for param in space.params}
        if not any(p._excluded(values[p.name]) for p in space.params):
            yield tries, values


def unsatisfied(space: ParamSpace, seed: int) -> str:
    """Why no draw was found: a condition that cannot be computed is named (an author hunts no logic error)."""
    for _, values in _draws(space, seed, min(space.tries, 50)):
        env = {k: _exact(v) for k, v in values.items()}
        for condition in space.where:
            reason = condition.failure(env)
            if reason is not None:
                return f"no draw satisfies `where:` and the exclusions: {reason}"
    return "no draw satisfies `where:` and the exclusions"


# ----------------------------------------------------------------------------- substitution


def value_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def substitute(value, params: dict, prose: bool = False):
    """value with each {name} replaced by its param's value (recursively through lists and mappings)."""
    if isinstance(value, dict):
        return {k: substitute(v, params, prose or k in PROSE) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, params, prose) for v in value]
    if not isinstance(value, str) or "{" not in value:
        return value
    whole = re.fullmatch(r"\{(" + _NAME + r")\}", value)
    if whole and whole.group(1) in params:
        return params[whole.group(1)]
    return _replace_text(value, params, prose)


def _replace_text(text: str, params: dict, prose: bool) -> str:
    def one(match: re.Match) -> str:
        if match.group(1) is not None:
            return "{" + match.group(1) + "}" if match.group(1) in params else match.group(0)
        name = match.group(2)
        if name not in params:
            return match.group(0)
        value = params[name]
        shown = value_text(value)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return shown
        if not prose:
            return f"({shown})" if value < 0 else shown
        return prose_number(text, match.start(), match.end(), shown)

    return re.sub(r"\{\{(" + _NAME + r")\}\}|\{(" + _NAME + r")\}", one, text)


_BINDS_RIGHT = re.compile(r"\s*(\^|\*|/|×|·|!|[²³⁰¹⁴-⁹])")
_OPERATOR_BEFORE = re.compile(r"([-+*/^×·÷−=<>]|\\cdot|\\times|\\div|\\pm)\s*$")


def prose_number(text: str, start: int, end: int, shown: str) -> str:
    """A number put into prose at text[start:end] so that it reads as the math means: a negative value (or
    one in e-notation) next to an operator, a power or another factor is parenthesised ({x0}^2 with x0 = -2
    is (-2)^2, not -2^2); inside $...$ a value right after ^ or _ is braced (2^{x0} is 2^{-2})."""
    before, after = text[:start], text[end:]
    if before.endswith(("^", "_")) and in_math(text, start):
        return "{" + shown + "}"
    signed = shown.startswith("-") or "e" in shown.lower()
    if not signed:
        return shown
    juxtaposed = bool(before) and (before[-1].isalnum() or before[-1] in ")]}")
    operator = bool(_OPERATOR_BEFORE.search(before)) and not before.rstrip().endswith(("=", "<", ">"))
    if juxtaposed or operator or _BINDS_RIGHT.match(after):
        return f"({shown})"
    return shown


def in_math(text: str, index: int) -> bool:
    """Is text[index] inside a $...$ segment (an escaped \\$ is no delimiter)?"""
    return any(a <= index < b for a, b in math_spans(text))


def instantiate(doc: YamlDoc, path: tuple, params: dict) -> YamlDoc:
    """A copy of doc in which the mapping at path has its params substituted (lines stay the same)."""
    data = copy.copy(doc.data)
    holder = data
    for key in path[:-1]:
        holder[key] = copy.copy(holder[key])
        holder = holder[key]
    original = holder[path[-1]]
    holder[path[-1]] = substitute(original, params)
    raw = dict(doc.raw)
    prefix = len(path)
    for where, text in doc.raw.items():
        if where[:prefix] == path and "{" in text:
            prose = any(isinstance(k, str) and k in PROSE for k in where)
            new = substitute(text, params, prose)
            raw[where] = value_text(new) if not isinstance(new, str) else new
    return YamlDoc(doc.source, data, doc.lines, raw)


# ----------------------------------------------------------------------------- fingerprints and assignment


def fingerprint(data) -> str:
    """Of the problem set as parsed (comments and layout do not count; any change of a value does)."""
    text = json.dumps(data, sort_keys=True, default=str, ensure_ascii=True)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def lock_path(exam_file: Path) -> Path:
    name = exam_file.name
    for suffix in (".yaml", ".yml"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return exam_file.with_name(name + LOCK_SUFFIX)


def assign(salt: str, exam: str, problem_id: str, student: str, attempt: int, pool: int) -> int:
    """The variant number (1..pool) of this problem for this student and attempt."""
    text = "\x1f".join(["examcheck-variant-v1", salt, exam, problem_id, student, str(attempt)])
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") % pool + 1


# ----------------------------------------------------------------------------- the lock file


@dataclass
class Variant:
    number: int
    seed: int
    params: dict
    keys: dict = field(default_factory=dict)   # part id -> expected answer as text
    line: int | None = None
    key_lines: dict = field(default_factory=dict)
    family_checked: set = field(default_factory=set)   # deploy only: the family's mistakes evaluated
    family_equal: set = field(default_factory=set)     # ... and those that gave the key


@dataclass
class Lock:
    exam: str
    fingerprint: str
    salt: str
    problems: dict[str, list[Variant]]
    version: str = __version__
    source: str = ""

    def content(self) -> dict:
        return {
            "exam": self.exam, "fingerprint": self.fingerprint, "salt": self.salt,
            "problems": {pid: [{"variant": v.number, "seed": v.seed, "params": v.params, "keys": v.keys}
                               for v in pool] for pid, pool in self.problems.items()},
        }

    def digest(self) -> str:
        return fingerprint(self.content())


LOCK_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["examcheck", "exam", "fingerprint", "salt", "digest", "problems"],
    "properties": {
        "examcheck": {"type": "string"},
        "rng": {"type": "string"},
        "exam": {"type": ["string", "integer"]},
        "fingerprint": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$", "description": "sha256:<64 hex digits>"},
        "digest": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$", "description": "sha256:<64 hex digits>"},
        "salt": {"type": "string", "maxLength": 200},
        "problems": {
            "type": "object",
            "additionalProperties": {
                "type": "array", "minItems": 1, "maxItems": MAX_COUNT,
                "items": {
                    "type": "object", "additionalProperties": False, "required": ["variant", "seed", "params", "keys"],
                    "properties": {
                        "variant": {"type": "integer", "minimum": 1},
                        "seed": {"type": "integer", "minimum": 0, "maximum": MAX_SEED},
                        "params": {"type": "object"},
                        "keys": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                },
            },
        },
    },
}


def lock_text(lock: Lock) -> str:
    import numpy as np
    import yaml

    head = ("# examcheck variants lock file: written by `examcheck variants deploy`; do not edit by hand\n"
            "# (grading checks the fingerprint, the digest and every key against a fresh computation).\n")
    body = {"examcheck": lock.version, "rng": f"numpy {np.__version__} Generator(PCG64(seed))", **lock.content(),
            "digest": lock.digest()}
    return head + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=120)


def read_lock(path: Path, exam: str, expected_fingerprint: str, spaces: dict[str, ParamSpace]) -> Lock:
    """The lock at path, checked against the problem set; InputError (file:line) for anything amiss."""
    from examcheck.schema import ValidationFailed, validate
    from examcheck.yamlio import load_file

    doc = load_file(path)
    source = doc.source
    if not isinstance(doc.data, dict):
        raise InputError(source, 1, "expected a variants lock file (a mapping written by `examcheck variants deploy`)")
    try:
        validate(doc, LOCK_SCHEMA)
    except ValidationFailed as exc:
        raise exc.errors[0] from None
    data = doc.data
    redeploy = "run `examcheck variants deploy` again"
    if str(data["exam"]) != exam:
        raise doc.error(("exam",), f"this lock is for exam {data['exam']!r}, not {exam!r}")
    if data["fingerprint"] != expected_fingerprint:
        raise doc.error(("fingerprint",), f"stale lock: the problem set was edited after deploy; {redeploy} "
                                          "(the same --seeds give the same variants where the params did not change)")
    problems = {}
    for pid, pool in data["problems"].items():
        if pid not in spaces:
            raise doc.error(("problems", pid), f"no problem {pid!r} with params in exam {exam!r}")
        variants = []
        for i, entry in enumerate(pool):
            at = ("problems", pid, i)
            if entry["variant"] != i + 1:
                raise doc.error((*at, "variant"), f"expected variant {i + 1} (variants are numbered 1, 2, ... in order)")
            why = spaces[pid].check(entry["params"])
            if why:
                raise doc.error((*at, "params"), f"{pid} variant {i + 1}: {why}")
            key_lines = {k: doc.line((*at, "keys", k)) for k in entry["keys"]}
            variants.append(Variant(i + 1, entry["seed"], dict(entry["params"]), dict(entry["keys"]),
                                    doc.line(at), key_lines))
        problems[str(pid)] = variants
    missing = [pid for pid in spaces if pid not in problems]
    if missing:
        raise InputError(source, 1, f"no variants of {', '.join(missing)} in the lock; {redeploy}")
    lock = Lock(exam, data["fingerprint"], data["salt"], problems, data["examcheck"], source)
    if lock.digest() != data["digest"]:
        raise doc.error(("digest",), f"the lock file was edited after deploy (its digest does not match its content); {redeploy}")
    return lock


# ----------------------------------------------------------------------------- problem sets with variants


@dataclass
class Variants:
    """What a ProblemSet with params knows of its variants (ProblemSet.variants)."""

    lock_file: str
    spaces: dict[str, ParamSpace]
    lock: Lock | None = None          # None: not deployed (the problems hold a preview draw)

    @property
    def deployed(self) -> bool:
        return self.lock is not None

    def pool(self, problem_id: str) -> int:
        return len(self.lock.problems[problem_id]) if self.lock else 1


def has_params(data) -> bool:
    return isinstance(data, dict) and any(isinstance(p, dict) and "params" in p for p in data.get("problems") or [])


def load_variant_set(doc: YamlDoc, use_lock: bool = True) -> ProblemSet:
    """A problem set with params: each problem with params once per deployed variant (Problem.variant
    set), or once with a preview draw (seed 0) when there is no lock file (or use_lock is False)."""
    from examcheck.loader import load_problem
    from examcheck.schema import ValidationFailed

    data = doc.data
    errors: list[InputError] = []
    spaces: dict[str, ParamSpace] = {}
    for i, raw in enumerate(data["problems"]):
        space = param_space(doc, ("problems", i), raw, errors)
        if space is not None:
            spaces[str(raw["id"])] = space
    if errors:
        raise ValidationFailed(errors)
    exam = str(data["exam"])
    lock_file = lock_path(Path(doc.source))
    if not use_lock:  # deploy: the problems without params; each draw is loaded, and vetted, on its own
        fixed = [load_problem(doc, raw, ("problems", i), data.get("log_base", "e"), errors)
                 for i, raw in enumerate(data["problems"]) if str(raw["id"]) not in spaces]
        if errors:
            raise ValidationFailed(errors)
        return ProblemSet(exam, data["title"], fixed, doc.source, Variants(str(lock_file), spaces, None))
    lock = None
    if lock_file.exists():
        lock = read_lock(lock_file, exam, fingerprint(data), spaces)
    problems: list[Problem] = []
    ids: set[str] = set()
    for i, raw in enumerate(data["problems"]):
        path = ("problems", i)
        pid = str(raw["id"])
        if pid in ids:
            errors.append(doc.error((*path, "id"), f"duplicate problem id {pid!r}"))
        ids.add(pid)
        if pid not in spaces:
            problems.append(load_problem(doc, raw, path, data.get("log_base", "e"), errors))
            continue
        if lock is None:
            problem = preview(doc, i, spaces[pid], errors)
            if problem is not None:
                problems.append(problem)
            continue
        for variant in lock.problems[pid]:
            problem = instantiated_problem(doc, i, variant.params, errors)
            if problem is not None:
                problem.variant, problem.params = variant.number, variant.params
                problems.append(problem)
    if errors:
        unique = list({(e.line, e.message): e for e in errors}.values())
        raise ValidationFailed(unique)
    return ProblemSet(exam, data["title"], problems, doc.source, Variants(str(lock_file), spaces, lock))


PREVIEW_SEEDS = 20


def preview(doc: YamlDoc, index: int, space: ParamSpace, errors: list) -> Problem | None:
    """An undeployed problem as the first of seeds 0, 1, ... whose draw loads (for check, list, solve before
    deploy); the errors of the first draw if none does."""
    path = ("problems", index)
    budget = space.tries
    first: list[InputError] | None = None
    for seed in range(PREVIEW_SEEDS):
        params, spent = draw(space, seed, budget)
        budget -= spent
        if params is None:
            break
        found: list[InputError] = []
        problem = instantiated_problem(doc, index, params, found)
        if problem is not None:
            problem.params = params
            return problem
        first = first if first is not None else found
        if budget <= 0:
            break
    if first is None:
        errors.append(doc.error(path, f"{unsatisfied(space, 0)} (after {space.tries} tries)"))
    else:
        errors += first
    return None


def instantiated_problem(doc: YamlDoc, index: int, params: dict, errors: list) -> Problem | None:
    from examcheck.loader import load_problem

    path = ("problems", index)
    inst = instantiate(doc, path, params)
    raw = inst.data["problems"][index]
    found: list[InputError] = []
    problem = load_problem(inst, raw, path, inst.data.get("log_base", "e"), found)
    if found:
        shown = ", ".join(f"{k}={value_text(v)}" for k, v in params.items())
        errors += [InputError(e.source, e.line, f"{e.message} (with params {shown})") for e in found]
        return None
    return problem


def selected(problem_set: ProblemSet, choice: dict[str, int] | None = None) -> ProblemSet:
    """The set with one variant per problem: choice[problem id], else the first."""
    if getattr(problem_set, "variants", None) is None:
        return problem_set
    choice = choice or {}
    problems, seen = [], set()
    for problem in problem_set.problems:
        if problem.id in seen:
            continue
        wanted = choice.get(problem.id)
        if problem.variant is not None and wanted is not None and problem.variant != wanted:
            continue
        seen.add(problem.id)
        problems.append(problem)
    return replace(problem_set, problems=problems)


def assignment(problem_set: ProblemSet, student: str, attempt: int = 1) -> dict[str, int]:
    """problem id -> variant number for this student (deployed sets only)."""
    info: Variants = problem_set.variants
    if info is None or not info.deployed:
        return {}
    return {pid: assign(info.lock.salt, problem_set.exam, pid, student, attempt, len(pool))
            for pid, pool in info.lock.problems.items()}


def student_view(problem_set: ProblemSet, student: str | None, attempt: int = 1) -> ProblemSet:
    """The set as this student sees it (one variant per problem)."""
    if student is None:
        return selected(problem_set)
    not_deployed(problem_set)
    return selected(problem_set, assignment(problem_set, student, attempt))


def not_deployed(problem_set: ProblemSet) -> None:
    info = getattr(problem_set, "variants", None)
    if info is not None and not info.deployed:
        raise InputError(problem_set.source, None, f"exam {problem_set.exam!r} has params but no lock file "
                                                   f"({info.lock_file}): run `examcheck variants deploy` first")


def deployment_findings(sets: list[ProblemSet]) -> list:
    """`check`: an exam with params that has no lock file cannot be graded yet (its preview draw was checked)."""
    from examcheck.model import Finding

    return [Finding(s.source, None, s.exam, f"has params but no lock file ({s.variants.lock_file}): only a preview draw "
                                            "was checked; run `examcheck variants deploy` to draw, vet and lock its variants")
            for s in sets if s.variants is not None and not s.variants.deployed]


def sheet_variants(sheet, problem_set: ProblemSet, student: str | None = None, attempt: int = 1) -> dict[str, int]:
    """The variants this answer file answers: those of `student` (the identity it is credited to, resolved
    before grading; default the sheet's own) at the instructor's `attempt`.  An input error (file:line) if
    the file names other variants or another attempt, or the exam is not deployed."""
    doc = sheet.doc
    data = doc.data if doc is not None and isinstance(doc.data, dict) else {}
    named = data.get("variant") or {}
    if getattr(problem_set, "variants", None) is None:
        if named:
            raise doc.error(("variant",), f"exam {problem_set.exam!r} has no variants")
        return {}
    try:
        not_deployed(problem_set)
    except InputError as exc:
        raise InputError(sheet.source, 1, exc.message) from None
    student = sheet.student if student is None else student
    written = data.get("attempt")
    if written is not None and written != attempt:
        raise doc.error(("attempt",), f"this file says attempt {written}, but it is graded as attempt {attempt} "
                                      "(the attempt is the instructor's: `examcheck grade --attempt N`)")
    chosen = assignment(problem_set, student, attempt)
    for pid, number in named.items():
        if pid not in chosen:
            raise doc.error(("variant", pid), f"no problem {pid!r} with variants (they are: {', '.join(chosen)})")
        if number != chosen[pid]:
            raise doc.error(("variant", pid), f"this file answers variant {number} of {pid}, but student "
                                              f"{student!r} (attempt {attempt}) was given variant {chosen[pid]}")
    return chosen


# ----------------------------------------------------------------------------- keys against the lock


def lock_key_errors(chosen: list[tuple[ProblemSet, Problem]], expected_of) -> list[InputError]:
    """The deployed keys of these problems recomputed from their params and compared with the lock's;
    expected_of(problem_set, problem, part) is the part's computed key as shown (None: not computable)."""

    errors = []
    for problem_set, problem in chosen:
        info = problem_set.variants
        if info is None or not info.deployed or problem.variant is None:
            continue
        variant = info.lock.problems[problem.id][problem.variant - 1]
        for part in problem.parts:
            if part.answer == "text":
                continue
            computed = expected_of(problem_set, problem, part)
            if computed is None:
                continue  # reported by the reference checks
            stated = variant.keys.get(part.id)
            if stated != computed:
                line = variant.key_lines.get(part.id) or variant.line
                errors.append(InputError(info.lock.source, line,
                                         f"{problem.id} variant {variant.number} part {part.id}: the lock's key "
                                         f"{stated!r} differs from the key computed from its params ({computed!r}): "
                                         "the lock was edited, or examcheck now computes it differently; check, then "
                                         "run `examcheck variants deploy` again"))
    return errors


# ----------------------------------------------------------------------------- deploy


@dataclass
class Rejected:
    problem: str
    seed: int
    reason: str
    duplicate: bool = False
    params: dict = field(default_factory=dict)


@dataclass
class DeployResult:
    lock: Lock | None
    rejected: list[Rejected] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)   # problems that could not get their variants
    written: str | None = None                           # the lock file, once written

    @property
    def ok(self) -> bool:
        return self.lock is not None and not self.failures


def load_template(path: Path):
    """(doc, problem set loaded with a preview draw, ignoring any lock)."""
    from examcheck.loader import number_errors
    from examcheck.schema import PROBLEM_SET_SCHEMA, ValidationFailed, validate
    from examcheck.yamlio import load_file

    doc = load_file(path)
    if not isinstance(doc.data, dict):
        raise InputError(doc.source, 1, "expected a problem set (a mapping with exam, title, problems)")
    bad = number_errors(doc)
    if bad:
        raise ValidationFailed(bad)
    validate(doc, PROBLEM_SET_SCHEMA)
    if not has_params(doc.data):
        raise InputError(doc.source, 1, "no problem in this exam declares `params:`; there is nothing to deploy")
    return doc, load_variant_set(doc, use_lock=False)


def deploy(path: Path, seeds: list[int] | None = None, count: int | None = None, salt: str | None = None,
           first_seed: int = 1, progress=None, seconds: float = DEPLOY_SECONDS) -> DeployResult:
    """Draw and vet the variants of every problem with params; the lock (not yet written) if all succeeded.

    seeds: exactly these seeds (each rejected seed is reported, and the deploy fails);
    count: this many accepted variants per problem from consecutive seeds first_seed, first_seed + 1, ...,
    within the problem's `tries:` draws in all.  The whole deploy stops after `seconds` (each computation
    also has the sandbox's own limits)."""

    from examcheck.reference import Resolver

    deadline = time.monotonic() + seconds

    doc, template = load_template(path)
    spaces: dict[str, ParamSpace] = template.variants.spaces
    data = doc.data
    index_of = {str(raw["id"]): i for i, raw in enumerate(data["problems"])}
    resolver = Resolver()
    result = DeployResult(None)
    problems: dict[str, list[Variant]] = {}
    for pid, space in spaces.items():
        wanted = len(seeds) if seeds is not None else count
        problems[pid] = _deploy_problem(doc, index_of[pid], pid, space, seeds, wanted, first_seed, template,
                                        resolver, result, progress, deadline)
    result.lock = Lock(str(data["exam"]), fingerprint(data), salt if salt is not None else str(data["exam"]),
                       problems, source=str(lock_path(Path(doc.source))))
    return result


def _deploy_problem(doc, index, pid, space, seeds, wanted, first_seed, template, resolver, result, progress, deadline):
    """The accepted variants of one problem.  A family's own mistake that gives the key for some draws but
    not for others makes the draws where it does degenerate (a student making it would get full marks);
    one that always gives the key (biases, for an output shape) is simply not a mistake of that part."""
    accepted: list[Variant] = []
    seen: dict[str, int] = {}
    relevant: set = set()   # family mistakes (part, feedback) that differ from the key in some draw
    budget = space.tries
    candidates = iter(seeds) if seeds is not None else iter(range(first_seed, MAX_SEED))

    for seed in candidates:
        if len(accepted) >= wanted or budget <= 0:
            break
        if time.monotonic() > deadline:
            result.failures.append(f"{pid}: the deploy ran past its time limit (--time-limit) after seed {seed - 1}")
            return accepted
        params, spent = draw(space, seed, budget)
        budget -= spent
        if params is None:
            result.rejected.append(Rejected(pid, seed, unsatisfied(space, seed)))
            continue
        identity = json.dumps(params, sort_keys=True)
        if identity in seen:
            result.rejected.append(Rejected(pid, seed, f"duplicate of the variant from seed {seen[identity]}", True))
            if len(seen) >= space.size():
                break  # every value the params can take has been drawn
            continue
        seen[identity] = seed
        variant, reason = vet(doc, index, params, template, resolver)
        if variant is None:
            result.rejected.append(Rejected(pid, seed, reason, params=params))
            continue
        variant.seed = seed
        relevant |= variant.family_checked - variant.family_equal
        accepted.append(variant)
        kept = []
        for candidate in accepted:
            hit = sorted(candidate.family_equal & relevant)
            if hit:
                part_id, feedback = hit[0]
                result.rejected.append(Rejected(pid, candidate.seed, f"part {part_id}: the mistake {feedback!r} gives "
                                                                     "the key itself here", params=candidate.params))
            else:
                kept.append(candidate)
        accepted = kept
        if progress:
            progress(pid, len(accepted), wanted)
    for number, variant in enumerate(accepted, start=1):
        variant.number = number
    if len(accepted) < wanted:
        spent = space.tries - max(budget, 0)
        distinct = f"; the params have only {len(seen)} distinct values" if len(seen) >= space.size() else ""
        result.failures.append(f"{pid}: could not draw {wanted} distinct variants after {spent} tries "
                               f"(got {len(accepted)}{distinct}; see the rejections; widen the params, relax "
                               "`where:`, or raise `tries:`)")
    return accepted


def vet(doc: YamlDoc, index: int, params: dict, template: ProblemSet, resolver) -> tuple[Variant | None, str]:
    """(the variant with its keys, ""), or (None, why it is degenerate)."""
    from examcheck.bugs import InternalError
    from examcheck.checking import check_problem
    from examcheck.reference import ProblemError, equal_values

    errors: list[InputError] = []
    problem = instantiated_problem(doc, index, params, errors)
    if problem is None:
        return None, "; ".join(e.message for e in errors[:3])
    problem.params = params
    problem_set = replace(template, problems=[problem])
    variant = Variant(0, 0, params)
    try:
        findings = [f for f in check_problem(problem_set, problem, resolver) if f.level != "warning"]  # warnings pass
        if findings:
            first = findings[0]
            return None, f"{first.where}: {first.message}" + (f" ({first.diagnosis})" if first.diagnosis else "")
        for part in problem.parts:
            if part.answer == "text":
                continue
            ref = resolver.reference(problem, part)
            for mistake in ref.mistakes:
                if equal_values(mistake.value, ref.value) is not False:
                    return None, f"part {part.id}: the mistake {mistake.feedback!r} gives the key itself"
            why = answer_type_mismatch(part.answer, ref.value)
            if why:
                return None, f"part {part.id}: the computed answer {ref.expected!r} {why}"
            variant.keys[part.id] = ref.expected
            _family_mistakes(problem, part, ref.value, resolver, variant)
    except ProblemError as exc:
        return None, f"the family cannot compute it: {exc}"
    except InternalError as exc:
        return None, f"internal error in examcheck computing it (please report it): {exc}"
    return variant, ""


def _family_mistakes(problem: Problem, part, reference, resolver, variant: Variant) -> None:
    """Which of the family's own mistakes the variant evaluates, and which of them give the key."""
    from examcheck.families import get as get_family
    from examcheck.reference import ProblemError, convert, equal_values, result_of

    if problem.family is None or part.result is None:
        return
    for mistake in get_family(problem.family).variants({**problem.given, **part.given}):
        try:
            solution = resolver.solve(problem.family, mistake.given, part.log_base)
            value = convert(result_of(solution, part.result, problem.family), part.answer)
        except ProblemError:
            continue
        name = (part.id, re.sub(r"-?\d+(?:\.\d+)?", "#", mistake.feedback))  # the same mistake in every draw
        variant.family_checked.add(name)
        if equal_values(value, reference) is not False:
            variant.family_equal.add(name)


def answer_type_mismatch(answer: str, value) -> str:
    """Why a computed reference does not fit the part's answer type ('' if it does)."""
    import sympy as sp

    def finite_real(v) -> bool:
        return isinstance(v, sp.Basic) and v.is_number and v.is_real is True and v.is_finite is True

    if answer == "integer" and not (isinstance(value, sp.Basic) and value.is_integer is True):
        return "is not a whole number (answer: integer)"
    if answer == "number" and not finite_real(value):
        return "is not a finite real number (answer: number)"
    if answer == "shape" and not all(isinstance(v, int) and v >= 1 for v in value):
        return "is not a shape of positive sizes"
    if answer in ("vector", "matrix"):
        flat = [w for v in value for w in (v if isinstance(v, list) else [v])]
        if any(isinstance(w, sp.Basic) and w.is_number and w.is_finite is False for w in flat):
            return "has an infinite entry"
    return ""


class DeployError(ValueError):
    """A deploy that cannot start: bad seeds or count."""


MAX_SEEDS_TEXT = 100_000


def parse_seeds(text: str) -> list[int]:
    """'1,2,3' or '1-30' (or both: '1-5,9'); each from 0 to 2**63 - 1, no repeats, at most MAX_COUNT."""
    if len(text) > MAX_SEEDS_TEXT:
        raise DeployError("--seeds: too long")
    seeds: list[int] = []
    for item in text.split(","):
        item = item.strip()
        match = re.fullmatch(r"(\d{1,19})(?:\s*-\s*(\d{1,19}))?", item)
        if not match:
            raise DeployError(f"--seeds: {item[:30]!r} is not a seed (whole numbers from 0, e.g. 1,2,3 or 1-30)")
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) else low
        if high > MAX_SEED or high < low:
            raise DeployError(f"--seeds: {item!r} is not a range of seeds from 0 to {MAX_SEED}")
        if high - low + 1 + len(seeds) > MAX_COUNT:
            raise DeployError(f"--seeds: more than {MAX_COUNT} seeds")
        seeds += range(low, high + 1)
    if len(set(seeds)) != len(seeds):
        raise DeployError("--seeds: a seed is repeated")
    return seeds


def deploy_and_write(path: Path, seeds: list[int] | None, count: int | None, salt: str | None = None,
                     first_seed: int = 1, seconds: float = DEPLOY_SECONDS, force: bool = False) -> DeployResult:
    """deploy(), and when every problem got its variants, the lock written atomically beside the exam
    (then read back through the loader: what grading will see).  An existing lock whose salt or variant
    pools differ (which re-assigns students) is replaced only with force; the same deploy again is a no-op."""
    from examcheck.loader import load_set
    from examcheck.outputs import OutputError, write_output

    if count is not None and not 1 <= count <= MAX_COUNT:
        raise DeployError(f"--count: from 1 to {MAX_COUNT}")
    if salt is not None and (len(salt) > 200 or any(ord(c) < 32 or ord(c) == 127 for c in salt)):
        raise DeployError("--salt: at most 200 printable characters")
    if salt is not None and (not salt.strip() or salt != salt.strip()):
        raise DeployError("--salt: empty, or with leading/trailing spaces (a pasting slip?); give a non-empty salt "
                          "without them, or leave --salt out (the exam id)")
    result = deploy(path, seeds, count, salt, first_seed, seconds=seconds)
    if seeds is not None and result.rejected:
        result.failures.append(f"{len(result.rejected)} of the given seeds gave no good variant (see above); "
                               "choose other seeds or use --count")
    if not result.ok:
        result.written = None
        return result
    changes = lock_changes(Path(result.lock.source), result.lock)
    if changes and not force:
        raise DeployError(f"{result.lock.source} already holds a deployed lock, and this deploy would change students' "
                          f"assignments: {'; '.join(changes)}. Keep the existing lock (same --count/--seeds/--salt), "
                          "or add --force to replace it (papers already handed out will no longer match)")
    try:
        write_output(result.lock.source, lock_text(result.lock))
        result.written = result.lock.source
    except OutputError as exc:
        raise DeployError(str(exc)) from None
    load_set(path)  # the lock as grading will read it
    return result


def lock_changes(path: Path, new: Lock) -> list[str]:
    """What replacing the lock at path by new would change for students: a changed salt (every assignment is
    re-drawn), a problem whose pool size changed (assignments move), or whose variants' seeds/params changed.
    Empty when there is no lock there, or the same deploy is repeated."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        return [f"the existing lock cannot be read ({type(exc).__name__})"]
    try:
        old = yaml.safe_load(text)
    except yaml.YAMLError:
        return ["the existing lock is not valid YAML"]
    if not isinstance(old, dict) or not isinstance(old.get("problems"), dict):
        return ["the existing lock is not a lock file"]
    changes = []
    if str(old.get("salt")) != new.salt:
        changes.append(f"the salt changes ({str(old.get('salt'))!r} -> {new.salt!r}): every student's variants are re-drawn")
    for pid, pool in new.problems.items():
        before = old["problems"].get(pid)
        if not isinstance(before, list):
            continue
        if len(before) != len(pool):
            changes.append(f"{pid}: the pool changes from {len(before)} to {len(pool)} variants, "
                           f"so most students move to another variant")
            continue
        drawn = [(v.get("seed"), v.get("params")) if isinstance(v, dict) else None for v in before]
        moved = sum(1 for was, now in zip(drawn, pool, strict=True) if was != (now.seed, now.params))
        if moved:
            changes.append(f"{pid}: {moved} of its {len(pool)} variants get other seeds or numbers, "
                           "so the students assigned them would get other numbers")
    return changes
