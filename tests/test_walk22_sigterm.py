"""A SIGTERM for the whole process reaches the handler its host installed (walk 22 #7).

A full test run under ``timeout 290`` reported ``test_an_interrupted_design_export_is_finished_by_the_same_command``
failed in 288 s: the CLI's SIGTERM handler, installed while a CliRunner command ran, took the timeout's
signal and made it that command's exit 143, so a test failed and the run went on."""

from __future__ import annotations

import os
import signal
import time

from gennas.cli import output
from gennas.cli.output import friendly


def _command() -> str:
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(0.05)  # the handler runs in the main thread between bytecodes
    return "done"


def test_a_host_sigterm_handler_is_kept_while_a_command_runs():
    got: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: got.append(signum))
    try:
        assert friendly(_command)() == "done"
        assert got == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_a_command_takes_sigterm_where_nothing_else_handles_it():
    seen: list[object] = []
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        friendly(lambda: seen.append(signal.getsignal(signal.SIGTERM)))()
        assert seen == [output.raise_terminated] and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, previous)
