"""'did you mean' for misspelt names."""

from __future__ import annotations

import difflib
import re

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def did_you_mean(name, allowed) -> str:
    """' (did you mean 'x'?)' for the closest allowed name, or ''.  Allowed names may be patterns
    such as params.{layer}: they are compared with the placeholder filled in from the name."""
    candidates = [str(a) for a in allowed]
    close = difflib.get_close_matches(str(name), candidates, n=1, cutoff=0.6)
    if not close:  # a longer or shorter spelling: convolution for conv, param for params
        low = str(name).lower()
        close = [c for c in candidates if len(c) >= 3 and len(low) >= 3 and (low.startswith(c.lower())
                                                                               or c.lower().startswith(low))][:1]
    if not close:
        last = str(name).rsplit(".", 1)[-1]  # a value, not a template: "\\A" must not be read as an escape
        filled = {_PLACEHOLDER.sub(lambda _: last, c): c for c in candidates}
        close = [filled[c] for c in difflib.get_close_matches(str(name), list(filled), n=1, cutoff=0.6)]
    return f" (did you mean {close[0]!r}?)" if close else ""
