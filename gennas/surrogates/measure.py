"""Measuring inference latency on this machine, and the registry of measured devices.

``measure_timing`` builds an architecture's network, warms it up and times forward passes
until their spread is small (or a limit is hit): a :class:`Timing` with the median in ms and
the spread (IQR / median). ``measure_latency`` returns just the median. A machine profiled on
the reference architectures is stored as ``$GENNAS_HOME/devices/<space>/<name>.json`` (default
``~/.gennas``; one machine has one file per space it was profiled on) so that
:func:`gennas.load_latency_estimator` adapts to it on every load.
"""

from __future__ import annotations

import json
import re
import shlex
import statistics
import time
import warnings
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from gennas.atomic_write import write_whole
from gennas.errors import GennasError, GennasWarning, UnknownDevice
from gennas.graph import ArchGraph, ArchLike
from gennas.resources import gennas_home, home_folder
from gennas.spaces import SearchSpace, resolve_space, space_by_name
from gennas.spaces.identity import changes_since, describe, spec_record
from gennas.surrogates.measure_commands import measure_command
from gennas.surrogates.record_fields import check_record_fields

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def torch_device_of(torch_device: str):
    """The torch device to time on: ``cpu``, ``cuda``, ``cuda:N`` or ``mps``, and present here."""
    from gennas.training import resolve_torch_device  # imports torch: only when measuring

    if not isinstance(torch_device, str) or not re.fullmatch(r"cpu|cuda(:\d+)?|mps", torch_device):
        raise UnknownDevice(f"unknown torch device {torch_device!r}; use 'cpu', 'cuda', 'cuda:N' or 'mps'")
    try:
        return resolve_torch_device(torch_device)
    except GennasError as exc:
        raise UnknownDevice(str(exc)) from None


#: the clocks timings read (seconds); tests replace them with fake noisy ones. ``cpu_clock`` is
#: the calling thread's CPU time: with one thread, the compute of a pass without the time other
#: processes held the core (on a shared machine wall time can be several times longer).
clock: Callable[[], float] = time.perf_counter
cpu_clock: Callable[[], float] = time.thread_time
CLOCKS = ("wall", "cpu")


@dataclass(frozen=True)
class Timing:
    """Repeated timings of one call: ``ms`` the median (ms), ``spread`` the interquartile range
    over the median (unit-free; 0.05 = the middle half of the passes lie within 5 %), ``repeats``
    the number of timed passes, ``wall_ms`` the median wall time (= ``ms`` on the wall clock;
    on the CPU clock, what the passes took including time the core was given to others)."""

    ms: float
    spread: float
    repeats: int
    wall_ms: float | None = None


def spread_of(times: Sequence[float]) -> float:
    """IQR / median of ``times`` (any unit); 0 for fewer than 2 values."""
    if len(times) < 2:
        return 0.0
    q1, med, q3 = statistics.quantiles(times, n=4, method="inclusive")
    return float((q3 - q1) / med) if med > 0 else float("inf")


def time_calls(fn: Callable[[], Any], warmup: int = 5, min_repeats: int = 10, max_repeats: int = 50,
               target_spread: float = 0.05, max_seconds: float = 20.0, sync: Callable[[], Any] | None = None,
               basis: str = "wall") -> Timing:
    """Time ``fn()``: ``warmup`` untimed calls, then at least ``min_repeats`` timed ones, more until
    the spread (IQR / median) is at most ``target_spread``, ``max_repeats`` passes or ``max_seconds``
    of wall time. The median resists a few slow passes (another process taking the core); the
    spread says how far to trust it. ``basis``: ``"wall"`` (elapsed time) or ``"cpu"`` (this
    thread's CPU time: only for single-threaded CPU work). ``sync`` (CUDA) runs after each call,
    inside the timed span."""
    if basis not in CLOCKS:
        raise GennasError(f"timing basis must be one of {CLOCKS}, got {basis!r}")
    if min_repeats < 1 or max_repeats < min_repeats or warmup < 0:
        raise GennasError(f"need 1 <= repeats <= max repeats and warmup >= 0, got repeats={min_repeats}, "
                          f"max repeats={max_repeats}, warmup={warmup}")
    if not (target_spread >= 0 and max_seconds > 0):
        raise GennasError(f"target spread must be >= 0 and the time limit > 0, got {target_spread}, {max_seconds}")
    sync = sync or (lambda: None)
    for _ in range(warmup):
        fn()
    sync()
    walls: list[float] = []
    cpus: list[float] = []
    began = clock()
    while len(walls) < max_repeats:
        start, cpu_start = clock(), cpu_clock()
        fn()
        sync()
        end, cpu_end = clock(), cpu_clock()
        walls.append((end - start) * 1e3)
        cpus.append((cpu_end - cpu_start) * 1e3)
        times = cpus if basis == "cpu" else walls
        if len(times) >= min_repeats and (spread_of(times) <= target_spread or end - began >= max_seconds):
            break
    times = cpus if basis == "cpu" else walls
    return Timing(float(statistics.median(times)), spread_of(times), len(times), float(statistics.median(walls)))


def measure_timing(arch: ArchLike, space: SearchSpace | str | None = None, torch_device: str = "cpu",
                   batch_size: int = 1, repeats: int = 10, warmup: int = 5, max_repeats: int = 50,
                   target_spread: float = 0.05, max_seconds: float = 20.0, input_size: int | None = None,
                   num_classes: int = 10, in_channels: int = 3, basis: str = "wall",
                   **build_options: Any) -> Timing:
    """:class:`Timing` of one forward pass of ``arch``'s network (``space`` None: a graph's own, nb201 for a
    string) on a ``(batch_size, in_channels, input_size, input_size)`` input on ``torch_device``, in eval mode
    without autograd (see :func:`time_calls` for ``repeats``, ``max_repeats``, ``target_spread``,
    ``max_seconds``, ``basis``; ``"cpu"`` needs a CPU device and one torch thread).

    Warm-up passes come first (allocator, caches, cuDNN autotuning); CUDA is synchronised
    around every timed pass so the time covers the kernels, not just their launch. Torch's
    thread count is left as it is: callers set it (one thread gives stable, comparable times).
    """
    import torch

    space = resolve_space(space if space is not None else getattr(getattr(arch, "arch", arch), "space", "nb201"))
    dev = torch_device_of(torch_device)
    if batch_size < 1:
        raise GennasError(f"batch_size must be >= 1, got {batch_size}")
    model = space.build(arch, num_classes=num_classes, in_channels=in_channels, **build_options).to(dev).eval()
    side = input_size or space.default_input_size
    x = torch.randn(batch_size, in_channels, side, side, device=dev)
    if basis == "cpu" and (dev.type != "cpu" or torch.get_num_threads() != 1):
        raise GennasError("CPU-time measurement needs torch_device 'cpu' and one torch thread "
                          f"(got {dev.type!r}, {torch.get_num_threads()} threads): other threads' work would not count")
    sync = torch.cuda.synchronize if dev.type == "cuda" else None
    with torch.inference_mode():
        return time_calls(lambda: model(x), warmup=warmup, min_repeats=repeats,
                          max_repeats=max(repeats, max_repeats), target_spread=target_spread,
                          max_seconds=max_seconds, sync=sync, basis=basis)


def warm_up(arch: ArchLike, space: SearchSpace | str | None = None, seconds: float = 1.0,
            **options: Any) -> None:
    """Run ``arch``'s network for about ``seconds`` untimed, as :func:`measure_timing` would (its
    ``options``), before a process's first timing: the first mbv3 reference subnets were timed
    cold, 30.39 and 23.18 ms then 19.54 and 20.07 ms in the same run, which raised
    the device's re-timing margin from about 1.2 to 1.56."""
    options = {**options, "repeats": 1, "max_repeats": 1000, "target_spread": 0.0, "max_seconds": seconds}
    measure_timing(arch, space, **options)


def measure_latency(arch: ArchLike, space: SearchSpace | str | None = None, torch_device: str = "cpu",
                    batch_size: int = 1, repeats: int = 30, warmup: int = 5,
                    input_size: int | None = None, num_classes: int = 10, in_channels: int = 3,
                    **build_options: Any) -> float:
    """Median latency in ms of exactly ``repeats`` timed forward passes of ``arch``'s network
    (after ``warmup`` untimed ones); see :func:`measure_timing` for the spread as well."""
    if repeats < 1:
        raise GennasError(f"repeats must be >= 1, got {repeats}")
    return measure_timing(arch, space, torch_device, batch_size, repeats=repeats, warmup=warmup,
                          max_repeats=repeats, input_size=input_size, num_classes=num_classes,
                          in_channels=in_channels, **build_options).ms


#: build options the bundled latency tables were measured with, per space (the references of a
#: new device are timed the same way, so the estimator compares like with like)
TABLE_BUILD = {"mbv3": {"num_classes": 1000}}


def table_build_options(space: SearchSpace | str) -> dict[str, Any]:
    """Build options of ``space``'s bundled latency table (``{}``: the space's defaults)."""
    return dict(TABLE_BUILD.get(resolve_space(space).name, {}))


def arch_flops(space: SearchSpace | str, arch: ArchLike, **build_options: Any) -> float:
    """FLOPs of one forward pass of ``arch`` (``space.count_flops``), cached per process: the
    reference architectures' FLOPs are counted once however often they are measured."""
    space = resolve_space(space)
    return _cached_flops(space, space.to_string(space.parse(arch)), tuple(sorted(build_options.items())))


@lru_cache(maxsize=1024)
def _cached_flops(space: SearchSpace, text: str, options: tuple[tuple[str, Any], ...]) -> float:
    return float(space.count_flops(text, **dict(options)))


@dataclass(frozen=True)
class NoiseLimits:
    """When a device's reference timings are not to be trusted.

    ``max_spread``: a timing whose IQR / median exceeds it is noisy (the passes disagree: another
    process took the core). ``flops_ratio``, ``slowdown``: an architecture with at most
    ``1 / flops_ratio`` of another's FLOPs that took ``slowdown`` times as long is implausible
    (on the 10 nb201 references the bundled CPUs and GPUs never exceed 2.2x for 2x fewer FLOPs;
    a busy machine recorded 14-1208 ms for cells that take 1.4-23 ms)."""

    max_spread: float = 0.10
    flops_ratio: float = 2.0
    slowdown: float = 3.0


def noise_problems(labels: Sequence[str], timings: Sequence[Timing], flops: Sequence[float] | None = None,
                   limits: NoiseLimits = NoiseLimits()) -> list[str]:
    """What makes these timings untrustworthy, one line per problem (empty: they look sound).

    ``labels`` name the architectures, ``timings`` are theirs, ``flops`` (optional) their FLOPs."""
    problems = [f"{lab}: spread {t.spread:.3f} (IQR / median of {t.repeats} passes) over {limits.max_spread:.3g}"
                for lab, t in zip(labels, timings) if not t.spread <= limits.max_spread]
    if flops is not None:
        for i, (lab_i, t_i, f_i) in enumerate(zip(labels, timings, flops)):
            for j, (lab_j, t_j, f_j) in enumerate(zip(labels, timings, flops)):
                if i != j and f_i * limits.flops_ratio <= f_j and t_i.ms >= limits.slowdown * t_j.ms > 0:
                    problems.append(f"{lab_i} ({f_i / 1e6:.0f} MFLOPs) took {t_i.ms:.2f} ms, "
                                    f"{t_i.ms / t_j.ms:.1f}x as long as {lab_j} ({f_j / 1e6:.0f} MFLOPs, "
                                    f"{t_j.ms:.2f} ms)")
    return problems


# ---------------------------------------------------------------- device registry
def devices_dir() -> Path:
    return gennas_home() / "devices"


def device_path(name: str, space: str) -> Path:
    """Where device ``name`` of the space named ``space`` is registered."""
    return devices_dir() / space / f"{check_device_name(name)}.json"


def registered_path(name: str, space: str) -> Path | None:
    """The file that registers device ``name`` for ``space``, or None: :func:`device_path`, or a
    file of the layout before it (``devices/<name>.json``, one space per name) that holds it."""
    if (folder := home_folder("devices")) is None:  # no home: nothing registered
        return None
    path = device_path(name, space)
    if path.is_file():
        return path
    old = folder / f"{name}.json"
    try:
        return old if old.is_file() and json.loads(old.read_text()).get("space") == space else None
    except (OSError, ValueError, AttributeError):
        return old  # unreadable: registered_devices names the problem


def check_device_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise GennasError(f"device name {name!r} must be 1-64 letters, digits, '_', '.' or '-' "
                          "and start with a letter or digit")
    return name


def register_device(name: str, space: SearchSpace | str, samples: Sequence[tuple[ArchGraph | str, float]],
                    info: dict[str, Any] | None = None) -> Path:
    """Store measured ``(arch, ms)`` samples as device ``name`` of ``space``; returns the file.
    ``info`` (settings, spreads) is stored beside them."""
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
    path, before = device_path(name, space.name), registered_path(name, space.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"name": name, "space": space.name, "samples": rows,
              "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), **(info or {}),
              "space_spec": spec_record(space)}  # what the timings describe (an edited spec: timed again)
    write_whole(path, json.dumps(record, indent=2) + "\n")
    if before is not None and before != path:
        before.unlink()  # the old layout's file of this space: replaced, not left to shadow it
    return path


class BrokenDeviceFile(GennasWarning):
    """A registered device's file that cannot be used: skipped with this warning, so that the
    other devices (bundled ones included) still load."""


def read_device_file(path: Path, space: str) -> tuple[str, list[tuple[str, float]]] | None:
    """``(name, [(arch string, ms), ...])`` of the device file ``path`` for the space named
    ``space``; None for a file of the layout before one folder per space that holds another
    space. Raises GennasError saying what is wrong (its architectures are checked on adapting)."""
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise GennasError(f"registered device file {path} is unreadable: {exc}") from None
    if not isinstance(record, dict):
        raise GennasError(f"registered device file {path} holds no device record (a JSON object)")
    in_folder = path.parent.name == space
    if record.get("space") != space:
        if not in_folder:
            return None  # the old flat layout: a device of another space
        raise GennasError(f"registered device file {path} lies in the {space} folder but is for space "
                          f"{record.get('space')!r}")
    name = record.get("name")
    if name != path.stem:
        raise GennasError(f"registered device file {path} names device {name!r}: a device file is named after "
                          "its device")
    stale_timings(record, space_by_name(space), f"registered device file {path}")
    check_record_fields(record, f"registered device file {path}")
    samples = record.get("samples")
    if not isinstance(samples, list) or not samples:
        raise GennasError(f"registered device file {path} has no samples ([architecture, ms] pairs)")
    out = []
    for row in samples:
        ok = isinstance(row, list) and len(row) == 2 and isinstance(row[0], str)
        ms = row[1] if ok else None
        if not (ok and isinstance(ms, (int, float)) and not isinstance(ms, bool) and 0 < ms < float("inf")):
            raise GennasError(f"registered device file {path}: a sample must be [architecture string, finite "
                              f"positive ms], got {row!r}")
        out.append((row[0], float(ms)))
    return str(name), out


def stale_timings(record: dict[str, Any], space: SearchSpace, what: str, name: str | None = None) -> None:
    """Raise GennasError where ``record`` (a device file's, or a timings file's fields for device
    ``name``) was timed on another spec of ``space`` (:mod:`gennas.spaces.identity`); a record from
    before specs were stored passes."""
    changes = changes_since(record.get("space_spec"), space)
    if changes:  # timed again with the settings it was timed with (the clock among them)
        raise GennasError(f"{what} was timed on another spec of space {space.name!r} ({describe(changes)}): its "
                          "timings do not describe the space as it is now; time it again "
                          f"({measure_command(name or record.get('name') or 'NAME', space, record)})")


def skip_broken(path: Path, problem: str) -> None:
    """Warn that the device file ``path`` is skipped because of ``problem`` (which may name its fix)."""
    try:  # the settings it was timed with, where the file still says
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        record = None
    try:  # the file's folder names its space; a space loaded from a file is named by that file
        again = measure_command(path.stem, space_by_name(path.parent.name), record)
    except GennasError:
        again = f"gennas latency measure --name {shlex.quote(path.stem)} --force"
    # --force: the file is there, and a measure without it refused the name
    fix = "" if "gennas latency measure" in problem else f": delete {path} or register the device again ({again})"
    warnings.warn(f"{problem}; skipped{fix}", BrokenDeviceFile, stacklevel=1)  # one line: each file warned once per command


def device_files(space: str) -> list[Path]:
    """Every file that may register a device of the space named ``space``: the layout before one
    folder per space first, so that a file of the current one wins."""
    folder = home_folder("devices")
    if folder is None or not folder.is_dir():
        return []
    return sorted(folder.glob("*.json")) + sorted((folder / space).glob("*.json"))


def scan_devices(space: str) -> tuple[dict[str, list[tuple[str, float]]], dict[Path, str]]:
    """Every device file of the space named ``space`` read once: device name -> ``(arch string,
    ms)`` samples of the usable ones, and file -> what is wrong for the others (their
    architectures are checked only on adapting, by :func:`adapt_registered`)."""
    devices: dict[str, list[tuple[str, float]]] = {}
    broken: dict[Path, str] = {}
    for path in device_files(space):
        try:
            device = read_device_file(path, space)
        except GennasError as exc:
            broken[path] = str(exc)
            continue
        if device is not None:
            devices[device[0]] = device[1]
    return devices, broken


def registered_devices(space: str) -> dict[str, list[tuple[str, float]]]:
    """Device name -> ``(arch string, ms)`` samples of every registered device of ``space``; a
    file that cannot be used is skipped with a :class:`BrokenDeviceFile` warning naming it."""
    devices, broken = scan_devices(space)
    for path, problem in broken.items():
        skip_broken(path, problem)
    return devices


def adapt_registered(estimator: Any, space: str, skip: Collection[str] = (), only: Collection[str] | None = None,
                     devices: dict[str, list[tuple[str, float]]] | None = None,
                     built_here: Collection[str] = ()) -> None:
    """Adapt ``estimator`` (a :class:`~gennas.surrogates.latency.LatencyEstimator` or a model with
    the same ``adapt``) to every device registered for the space named ``space`` (but those in
    ``skip``; with ``only``, those alone; ``devices``: :func:`registered_devices` read already); a
    device that cannot be used (the name of a bundled one, architectures of another space) is
    skipped with a :class:`BrokenDeviceFile` warning: one bad file must not stop every other
    device, bundled ones included, from loading. ``built_here``: the devices whose timings are of
    gennas' networks (:func:`timed_by_gennas`), predicted as those networks."""
    for name, samples in (registered_devices(space) if devices is None else devices).items():
        if name in skip or (only is not None and name not in only):
            continue
        path = registered_path(name, space) or device_path(name, space)
        if name in estimator.bundled:
            skip_broken(path, f"registered device {name!r} has the name of a bundled device")
            continue
        try:
            estimator.adapt(name, samples, computed=name in built_here)
        except GennasError as exc:  # InvalidArchitecture among them
            skip_broken(path, f"registered device file {path}: {exc}")


def timed_by_gennas(record: dict[str, Any] | None) -> bool:
    """Whether a device's registration (``record``) timed gennas' networks, which skip an op whose
    input is dead: `gennas latency measure` records the build it timed with."""
    return "build" in (record or {})


def timed_at_random(record: dict[str, Any] | None) -> bool:
    """Whether a device's registration (``record``) described it by random architectures timed on it
    (``gennas latency measure --cells``: a slot model), not by the estimator's references."""
    return (record or {}).get("model") == "slots"


def broken_device_note(name: str, space: str) -> str:
    """Why device ``name`` is unknown for ``space``, as a note for an unknown-device error: its
    file was skipped (what is wrong), or it is registered for other spaces only; else ""."""
    problems = [problem for path, problem in scan_devices(space)[1].items() if path.stem == name]
    if problems:
        return f" (its file was skipped: {problems[-1]})"
    own = registered_path(name, space)
    if own is not None:  # read, but the estimator could not adapt to it: it was said "registered elsewhere"
        return f" (its file {own} was skipped when the estimator adapted to it: see the warning above)"
    folder = home_folder("devices")
    elsewhere = sorted(p.parent.name for p in folder.glob(f"*/{name}.json")) if folder and folder.is_dir() else []
    return f" ({name!r} is registered for {', '.join(elsewhere)} only: measure it for {space} too)" if elsewhere else ""


def registered_record(name: str, space: str) -> dict[str, Any] | None:
    """The registration of device ``name`` for ``space`` (samples, settings, ``noisy``), or None."""
    path = registered_path(name, space)
    if path is None:
        return None
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise GennasError(f"registered device file {path} is unreadable: {exc}") from None
    return record if isinstance(record, dict) else None


def timings_by_graph(space: SearchSpace, samples: Sequence[tuple[ArchGraph | str, float]]) -> dict[str, float]:
    """Architecture string -> ms of a registered device's ``samples`` (:func:`registered_devices`),
    keyed by the graph, not its function: two cells of one canonical class were timed 6.0 and 23.3 ms."""
    return {space.to_string(space.parse(a)): float(ms) for a, ms in samples}
