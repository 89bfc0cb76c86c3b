"""The fields of a device record that gennas acts on, checked where a record is read (a device file
in ``$GENNAS_HOME/devices``, a timings file given to ``gennas latency register``).

A colleague's timings file carried ``batch_size: 100000`` into the device record, and ``gennas
latency recheck`` then timed with it (a 6.5 GB allocation, a traceback); ``rechecks: "x"`` made
``gennas design --device`` end in an AttributeError naming neither the file nor the field. The
bounds are wide: those of what ``gennas latency measure`` could have recorded on a real machine.
"""

from __future__ import annotations

from typing import Any

from gennas.errors import GennasError

#: whole-number settings and their allowed range (inclusive)
WHOLE = {"batch_size": (1, 4096), "repeats": (1, 100_000), "max_repeats": (1, 1_000_000), "warmup": (0, 100_000),
         "torch_threads": (1, 1024), "cells": (0, 100_000)}
#: settings that are positive numbers
POSITIVE = ("target_spread", "max_spread", "max_seconds")
#: settings and the type their value must have
TYPED = {"noisy": bool, "build": dict, "rechecks": list, "clock": str, "torch_device": str, "machine": str}
CLOCKS = ("wall", "cpu")


def check_record_fields(record: dict[str, Any], what: str) -> None:
    """Raise GennasError naming ``what`` (the file) and the field where a field gennas acts on holds
    a value ``gennas latency measure`` could not have recorded."""
    def refuse(field: str, rule: str) -> None:
        raise GennasError(f"{what}: {field} is {record[field]!r}: {rule}")

    for field, (low, high) in WHOLE.items():
        value = record.get(field)
        if field in record and (isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high):
            refuse(field, f"must be a whole number from {low} to {high}")
    for field in POSITIVE:
        value = record.get(field)
        if field in record and (isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1e9):
            refuse(field, "must be a positive number")
    for field, kind in TYPED.items():
        if field in record and not isinstance(record[field], kind):
            refuse(field, f"must be a {kind.__name__}")
    if record.get("clock", "wall") not in CLOCKS:
        refuse("clock", f"must be one of {', '.join(CLOCKS)}")
    if not all(isinstance(entry, dict) for entry in record.get("rechecks", [])):
        refuse("rechecks", "must be a list of recheck records")
