"""The JSON Schemas examcheck publishes for editors: draft-07, the newest draft the YAML language server
(VS Code's YAML extension and others) fully supports.  Internally schemas are 2020-12; `draft07` rewrites the
few 2020-12 spellings (``$defs``, ``prefixItems``, ``dependentRequired``).  The answer-file schema ships with the
package (examcheck/schemas/), so the modeline `template` writes can point at it.  The problem-set schema grows
with every family, so it is generated (`examcheck schema > problem-set.schema.json`), not kept in the tree."""

from __future__ import annotations

import copy
import json
from pathlib import Path

DRAFT_07 = "http://json-schema.org/draft-07/schema#"
SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
SHIPPED = {"answers": "answer-file.schema.json"}


def draft07(schema: dict) -> dict:
    """The same schema written in draft-07 keywords."""
    out = _rewrite(copy.deepcopy(schema))
    out["$schema"] = DRAFT_07
    return out


def _rewrite(node):
    if isinstance(node, list):
        return [_rewrite(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _rewrite(value) for key, value in node.items()}
    if "$defs" in node:
        node["definitions"] = node.pop("$defs")
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        node["$ref"] = "#/definitions/" + ref[len("#/$defs/"):]
    if "prefixItems" in node:
        rest = node.pop("items", None)
        node["items"] = node.pop("prefixItems")
        if rest is not None:
            node["additionalItems"] = rest
    if "dependentRequired" in node:
        node.setdefault("dependencies", {}).update(node.pop("dependentRequired"))
    return node


def published(which: str) -> dict:
    """The published schema of problem sets ("problems") or answer files ("answers")."""
    if which == "answers":
        from examcheck.schema import ANSWER_FILE_SCHEMA

        return draft07(ANSWER_FILE_SCHEMA)
    from examcheck.publish import problem_set_schema

    return draft07(problem_set_schema())


def published_text(which: str) -> str:
    return json.dumps(published(which), indent=2, ensure_ascii=False) + "\n"


def shipped_path(which: str = "answers") -> Path:
    return SCHEMA_DIR / SHIPPED[which]


def modeline(url: str | None = None) -> str:
    """The first line of an answer file that tells the YAML language server its schema."""
    return f"# yaml-language-server: $schema={url or shipped_path('answers').as_uri()}"


def write_shipped() -> list[Path]:
    """Regenerate the shipped files (python -m examcheck.schema_files)."""
    SCHEMA_DIR.mkdir(exist_ok=True)
    written = []
    for which in SHIPPED:
        path = shipped_path(which)
        path.write_text(published_text(which), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover
    for path in write_shipped():
        print(path)
