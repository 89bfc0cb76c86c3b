"""Measuring inference latency on this machine, and the registry of measured devices.

``measure_latency`` builds an architecture's network, warms it up and returns the median
wall time of repeated forward passes in ms. A machine profiled on the reference architectures
is stored as ``$GENNAS_HOME/devices/<name>.json`` (default ``~/.gennas``) so that
:func:`gennas.load_latency_estimator` adapts to it on every load.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from gennas.errors import GennasError, UnknownDevice
from gennas.graph import ArchGraph
from gennas.spaces import SearchSpace, resolve_space

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _torch_device(torch_device: str):
    """The torch device to time on: ``cpu``, ``cuda``, ``cuda:N`` or ``mps``, and present here."""
    from gennas.training import resolve_torch_device  # imports torch: only when measuring

    if not isinstance(torch_device, str) or not re.fullmatch(r"cpu|cuda(:\d+)?|mps", torch_device):
        raise UnknownDevice(f"unknown torch device {torch_device!r}; use 'cpu', 'cuda', 'cuda:N' or 'mps'")
    try:
        return resolve_torch_device(torch_device)
    except GennasError as exc:
        raise UnknownDevice(str(exc)) from None


def measure_latency(arch: ArchGraph | str, space: SearchSpace | str = "nb201", torch_device: str = "cpu",
                    batch_size: int = 1, repeats: int = 30, warmup: int = 5,
                    input_size: int | None = None, num_classes: int = 10, in_channels: int = 3,
                    **build_options: Any) -> float:
    """Median latency in ms of one forward pass of ``arch``'s network on a ``(batch_size,
    in_channels, input_size, input_size)`` input on ``torch_device``, in eval mode without autograd.

    ``warmup`` untimed passes first (allocator, caches, cuDNN autotuning); CUDA is synchronised
    around every timed pass so the time covers the kernels, not just their launch.
    """
    import torch

    space = resolve_space(space)
    dev = _torch_device(torch_device)
    if batch_size < 1 or repeats < 1 or warmup < 0:
        raise GennasError(f"batch_size and repeats must be >= 1 and warmup >= 0, got {batch_size}, {repeats}, {warmup}")
    model = space.build(arch, num_classes=num_classes, in_channels=in_channels, **build_options).to(dev).eval()
    side = input_size or space.default_input_size
    x = torch.randn(batch_size, in_channels, side, side, device=dev)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    times = []
    with torch.inference_mode():
        for _ in range(warmup):
            model(x)
        sync()
        for _ in range(repeats):
            start = time.perf_counter()
            model(x)
            sync()
            times.append((time.perf_counter() - start) * 1e3)
    return float(statistics.median(times))


# ---------------------------------------------------------------- device registry
def gennas_home() -> Path:
    """``$GENNAS_HOME`` or ``~/.gennas``."""
    return Path(os.environ.get("GENNAS_HOME") or Path.home() / ".gennas")


def devices_dir() -> Path:
    return gennas_home() / "devices"


def check_device_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise GennasError(f"device name {name!r} must be 1-64 letters, digits, '_', '.' or '-' "
                          "and start with a letter or digit")
    return name


def register_device(name: str, space: SearchSpace | str, samples: Sequence[tuple[ArchGraph | str, float]],
                    info: dict[str, Any] | None = None) -> Path:
    """Store measured ``(arch, ms)`` samples as device ``name`` of ``space``; returns the file."""
    space = resolve_space(space)
    check_device_name(name)
    if not samples:
        raise GennasError(f"device {name!r}: no samples to register")
    rows = []
    for arch, ms in samples:
        arch = space.parse(arch)
        ms = float(ms)
        if not (ms > 0 and ms < float("inf")):
            raise GennasError(f"device {name!r}: latency must be finite and positive, got {ms}")
        rows.append([space.to_string(arch), ms])
    path = devices_dir() / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"name": name, "space": space.name, "samples": rows,
              "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), **(info or {})}
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def registered_devices(space: str) -> dict[str, list[tuple[str, float]]]:
    """Device name -> ``(arch string, ms)`` samples of every registered device of ``space``."""
    out: dict[str, list[tuple[str, float]]] = {}
    folder = devices_dir()
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.json")):
        try:
            record = json.loads(path.read_text())
            if record.get("space") != space:
                continue
            out[str(record["name"])] = [(str(a), float(m)) for a, m in record["samples"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise GennasError(f"registered device file {path} is unreadable: {exc}") from None
    return out
