"""The end of every command's --help: an example and the exit codes (kept here so cli.py stays thin)."""

from __future__ import annotations

import click

EXIT_COMMON = "70 internal error (a bug in examcheck; its traceback file is named)"

EPILOGS: dict[str, tuple[list[str], str]] = {
    "grade": (["examcheck grade answers/alice.yaml", "examcheck grade submissions/ --format csv -o gradebook.csv"],
              "0 graded; 1 a score under --fail-under; 2 usage or input errors (unreadable files are reported and "
              "skipped, the rest graded); " + EXIT_COMMON),
    "stats": (["examcheck stats submissions/"], "0 done; 2 usage or input errors; " + EXIT_COMMON),
    "solve": (["examcheck solve seed000-quiz/q3 --format markdown"],
              "0 printed; 2 unknown or ambiguous problem id, invalid problem set; " + EXIT_COMMON),
    "check": (["examcheck check problems/", "examcheck check exams/week3.yaml --format github"],
              "0 every key agrees; 1 findings (file:line, stated, computed); 2 invalid input; " + EXIT_COMMON),
    "list": (["examcheck list --problems exams/"], "0 listed; 2 invalid problem set"),
    "template": (["examcheck template seed000-quiz > answers.yaml"], "0 printed; 2 unknown exam or invalid problem set"),
    "schema": (["examcheck schema > problem-set.schema.json", "examcheck schema --answers > answer-file.schema.json"],
               "0"),
    "families": (["examcheck families cnn --format json"], "0 listed; 2 unknown family"),
    "serve": (["examcheck serve seed000-quiz --collect collected/"],
              "0 stopped with Ctrl+C; 2 unknown exam, bad option or missing web extra"),
    "cache": (["examcheck cache stats .examcheck-cache"], "see each subcommand"),
    "cache stats": (["examcheck cache stats .examcheck-cache"],
                    "0 shown (no cache there: 0 verdicts, nothing is created); 2 FOLDER is not a verdict cache, or the "
                    "cache or its key cannot be read (says why); " + EXIT_COMMON),
    "cache clear": (["examcheck cache clear .examcheck-cache"],
                    "0 cleared (no cache there: nothing to remove, nothing is created); 2 FOLDER is not a verdict "
                    "cache, or the cache cannot be read or written (says why; nothing removed); " + EXIT_COMMON),
    "gradescope": (["examcheck gradescope build seed000-quiz -o autograder.zip"], "see each subcommand"),
    "import": (["examcheck import quiz3.csv --map quiz3-map.yaml -o answers/"],
               "0 written; 2 usage or input errors (file:line)"),
    "variants": (["examcheck variants deploy exams/quiz3.yaml --count 10"], "see each subcommand"),
    "variants deploy": (["examcheck variants deploy exams/quiz3.yaml --count 10",
                         "examcheck variants deploy exams/quiz3.yaml --seeds 1,2,3"],
                        "0 lock written; 1 not enough good variants (no lock written); 2 usage or input errors; " + EXIT_COMMON),
    "variants list": (["examcheck variants list exams/quiz3.yaml"], "0 listed; 2 unknown exam or invalid/stale lock"),
    "variants show": (["examcheck variants show quiz3/q2 --problems exams/ --student s01"],
                      "0 shown; 2 unknown exam, problem or variant, or invalid/stale lock"),
    "variants assign": (["examcheck variants assign exams/quiz3.yaml --roster roster.csv > assignment.csv"],
                        "0 written; 2 unknown exam, bad roster or invalid/stale lock"),
    "paper": (["examcheck paper exams/quiz3.yaml --roster roster.csv -o papers/"],
              "0 written; 2 unknown exam, bad roster, invalid/stale lock or unwritable folder; " + EXIT_COMMON),
}


def epilog(examples: list[str], exit_codes: str) -> str:
    lines = ["\b", "Examples:" if len(examples) > 1 else "Example:", *(f"  {e}" for e in examples), "",
             f"Exit codes: {exit_codes}."]
    return "\n".join(lines)


def add_epilogs(group: click.Group, prefix: str = "") -> None:
    """Give every command without an epilog its example and exit codes; shell completion is in the main help."""
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if not command.epilog and path in EPILOGS:
            command.epilog = epilog(*EPILOGS[path])
        if isinstance(command, click.Group):
            add_epilogs(command, path + " ")


COMPLETION = """\b
Shell completion (bash; zsh and fish likewise with zsh_source/fish_source):
  eval "$(_EXAMCHECK_COMPLETE=bash_source examcheck)"
"""
