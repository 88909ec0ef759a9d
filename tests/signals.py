"""For tests that interrupt a CLI run: a child started by a shell's background job inherits SIGINT ignored (a
non-interactive shell ignores it for `cmd &`), and Python keeps an inherited SIG_IGN; restore the default so
the child installs its KeyboardInterrupt handler whatever started pytest."""

import signal


def interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
