"""The page's HTML: every text from the problem file is escaped; no reference,
key or mistake is ever written into it (the page asks the server for checks)."""

from __future__ import annotations

from html import escape

from examcheck.model import ProblemSet
from examcheck.web.service import ProblemView
from examcheck.web.texmath import text_html

REVEAL_NOTES = {
    "none": "Checking tells you whether each answer could be read; it does not say whether it is right.",
    "feedback": "Checking tells you whether each answer is right, with feedback; it does not show the expected answers.",
    "answers": "Checking shows whether each answer is right, with feedback and the expected answers.",
}


def _marks(marks: float) -> str:
    text = f"{marks:g}"
    return f"{text} mark" + ("" if marks == 1 else "s")


def _part_html(problem: ProblemView, part) -> str:
    pid = f"{problem.id}--{part.id}"
    e = escape
    described = " ".join([f"hint-{pid}"] + ([f"sym-{pid}"] if part.symbols else []) + [f"read-{pid}", f"msg-{pid}"])
    symbols = (f'<p class="symbols" id="sym-{e(pid)}">Allowed names: <code>{e(part.symbols)}</code></p>'
               if part.symbols else "")
    prompt = text_html(part.prompt) if part.prompt else "Your answer"
    return f"""
      <div class="part" data-problem="{e(problem.id)}" data-part="{e(part.id)}" data-answer="{e(part.answer)}">
        <label for="in-{e(pid)}"><span class="part-id">({e(part.id)})</span> {prompt}
          <span class="marks">[{_marks(part.marks)}]</span></label>
        <p class="hint" id="hint-{e(pid)}">Answer: {e(part.hint)}</p>
        {symbols}
        <textarea id="in-{e(pid)}" name="{e(pid)}" rows="1" spellcheck="false" autocomplete="off"
          autocapitalize="off" maxlength="4000" aria-describedby="{e(described)}"></textarea>
        <div class="reading" id="read-{e(pid)}" aria-live="polite" aria-atomic="true"></div>
        <div class="message" id="msg-{e(pid)}" role="status" aria-live="polite" aria-atomic="true"></div>
        <button type="button" class="check-part" aria-describedby="in-{e(pid)}">Check ({e(problem.id)} {e(part.id)})</button>
        <div class="result" id="res-{e(pid)}" aria-live="polite" aria-atomic="true"></div>
      </div>"""


def page_html(views: list[ProblemView], problem_set: ProblemSet, reveal: str, student: str | None,
              collecting: bool, tokens: bool = False) -> str:
    e = escape
    problems = []
    for problem in views:
        parts = "".join(_part_html(problem, part) for part in problem.parts)
        statement = f'<p class="statement">{text_html(problem.statement)}</p>' if problem.statement else ""
        problems.append(f"""
    <section class="problem" aria-labelledby="title-{e(problem.id)}">
      <h2 id="title-{e(problem.id)}">{e(problem.id)}. {text_html(problem.title)}</h2>
      {statement}{parts}
    </section>""")
    if student is not None:
        who = f'<p>Student: <strong id="student-fixed">{e(student)}</strong></p>'
    else:
        who = ('<label for="student">Student ID <input id="student" name="student" maxlength="64" '
               'pattern="[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}" autocomplete="off" required></label>')
    if tokens:
        who += ('<label for="token">Token <input id="token" name="token" type="password" maxlength="64" autocomplete="off" '
                'spellcheck="false" required></label>'
                '<span class="token-note">Your instructor gave you a token; saving needs it.</span>')
    save_note = ("Save downloads your answer file" + (" and hands it in to your instructor (every save is kept; the "
                 "latest counts)." if collecting else "."))
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(problem_set.title or problem_set.exam)} — examcheck</title>
<link rel="stylesheet" href="/static/app.css">
<script src="/static/app.js" defer></script>
</head>
<body data-exam="{e(problem_set.exam)}" data-reveal="{e(reveal)}">
<main>
  <h1>{e(problem_set.title or problem_set.exam)}</h1>
  <p class="about">Exam <code>{e(problem_set.exam)}</code>. Type each answer; after a short pause the page shows
    how it was read. {e(REVEAL_NOTES[reveal])}</p>
  <div class="who">{who}</div>
  {"".join(problems)}
  <section class="sheet" aria-label="Whole sheet">
    <button type="button" id="check-all">Check all answers</button>
    <button type="button" id="save" disabled>Save answers</button>
    <p class="save-note">{e(save_note)} Saving waits until every check and reading has finished.</p>
    <div id="sheet-status" role="status" aria-live="polite"></div>
  </section>
</main>
</body>
</html>
"""
