"""Where the $...$ math segments of a statement or prompt are (one reading, shared by substitution and paper)."""

from __future__ import annotations


def math_spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) of each $...$ or $$...$$ segment of text, delimiters included."""
    spans, i, n = [], 0, len(text)
    while i < n:
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == "$":
            delim = "$$" if text.startswith("$$", i) else "$"
            j = i + len(delim)
            while j < n and not text.startswith(delim, j):
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                break
            spans.append((i, j + len(delim)))
            i = j + len(delim)
            continue
        i += 1
    return spans
