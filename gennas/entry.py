"""The ``gennas`` command's entry point (``gennas = gennas.entry:main``; ``python -m gennas``).

Light on purpose: the command line imports torch, seconds on a busy machine, and a Ctrl-C then
printed a 40-line traceback from inside ``import torch``; it prints ``interrupted``
and exits 130 as an interrupted command does. A signal that arrives once the command has
finished (its output written, the interpreter shutting down) is ignored: a ``timeout`` firing
just then turned a complete search into exit status 130 or 143 with no message, which a script
reads as a failure (4 of 5 tries around the end).
"""

from __future__ import annotations

import signal
import sys


def main() -> None:
    """Run the ``gennas`` command line; exits with its status."""
    try:
        from gennas.cli.app import app
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        raise SystemExit(130) from None
    try:
        app()
    except SystemExit as done:
        if done.code in (0, None):  # finished: nothing a late signal could stop is left
            for stop in (signal.SIGINT, signal.SIGTERM):
                signal.signal(stop, signal.SIG_IGN)
        raise
