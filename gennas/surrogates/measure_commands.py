"""The ``gennas latency`` command lines gennas prints for the user to paste: a device timed
again with the settings it was registered with (:func:`measure_command`), saved timings
registered (:func:`register_command`).

A user pasted a printed ``gennas latency measure --space walkspace.yaml --name walkbox
--force`` for a device registered with ``--clock cpu``: it timed the wall clock and was refused as
noisy; accepted, it would have switched the device's clock without a word. So a command to time a
device again carries every setting its file records away from the command's default, and one
that writes a registered name carries ``--force`` (without it, pasted, it was refused).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gennas.spaces.base import SearchSpace
from gennas.spaces.identity import space_argument

#: `gennas latency measure`'s option defaults (tests/test_measure_commands.py holds them to the
#: command's): a setting at its default is left out of a printed command
MEASURE_DEFAULTS: dict[str, Any] = {
    "clock": "wall", "torch_device": "cpu", "torch_threads": 1, "batch_size": 1, "repeats": 10,
    "max_repeats": 50, "warmup": 5, "target_spread": 0.05, "max_seconds": 20.0, "max_spread": 0.10,
    "cells": 0, "check": 0}
#: the option of `gennas latency measure` that sets each recorded setting
MEASURE_OPTIONS = {
    "clock": "--clock", "torch_device": "--torch-device", "torch_threads": "--threads", "batch_size": "--batch-size",
    "repeats": "--repeats", "max_repeats": "--max-repeats", "warmup": "--warmup", "target_spread": "--target-spread",
    "max_seconds": "--max-seconds", "max_spread": "--max-spread", "cells": "--cells", "check": "--check"}


def recorded_settings(record: Any) -> dict[str, Any]:
    """The ``gennas latency measure`` settings a device file (or a saved timings file) records,
    by :data:`MEASURE_OPTIONS` key; none where ``record`` is not a mapping (a broken file). A
    device described by random architectures (``model: slots``) in a file from before ``cells``
    was recorded was timed on as many as it has samples; ``--check N`` left its ``N`` timings
    under ``check`` (an int there: the option itself)."""
    record = record if isinstance(record, Mapping) else {}
    settings = {key: record[key] for key in MEASURE_OPTIONS if key in record and key != "check"}
    if "cells" not in settings and record.get("model") == "slots" and isinstance(record.get("samples"), list):
        settings["cells"] = len(record["samples"])
    check = record.get("check")  # a device file keeps the check's timings under it, not the count
    if isinstance(check, dict) and isinstance(check.get("samples"), list):
        settings["check"] = len(check["samples"])
    elif isinstance(check, int):
        settings["check"] = check
    return settings


def measure_command(name: str, space: SearchSpace, record: Any = None, force: bool = True) -> str:
    """``gennas latency measure`` for device ``name`` of ``space`` with the settings ``record`` (a
    device file's, or a :func:`recorded_settings`-keyed dict) holds away from their defaults;
    ``--force`` where ``force`` (the name is registered: without it the command is refused)."""
    words = ["gennas latency measure --space", space_argument(space), "--name", shlex.quote(name)]
    for key, value in recorded_settings(record).items():
        if value is not None and value != MEASURE_DEFAULTS[key]:
            words += [MEASURE_OPTIONS[key], shlex.quote(str(value))]
    return " ".join(words + (["--force"] if force else []))


def register_command(path: str | Path, space: SearchSpace, name: str, force: bool) -> str:
    """``gennas latency register`` of the timings file ``path`` as device ``name`` of ``space``;
    ``--force`` where ``force`` (the name is registered already)."""
    return (f"gennas latency register {shlex.quote(str(path))} --space {space_argument(space)} "
            f"--name {shlex.quote(name)}" + (" --force" if force else ""))
