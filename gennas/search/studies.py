"""What a stored study says about itself: its settings, its architectures' space, the designer it rebuilds.

Read without writing (a missing SQLite file is an error, never an empty database left behind):
:meth:`gennas.Designer.from_study`, ``gennas design --study`` and ``gennas report`` start here.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from gennas.errors import GennasError, GennasWarning, OtherSpec, UnknownSpace, caller_stacklevel
from gennas.evaluators.zero_cost import names_a_proxy, task_of
from gennas.search.backends import open_storage, quiet_optuna, storage_errors
from gennas.search.optuna_module import optuna_module
from gennas.search.study_record import SPACE_ATTR, SPACE_FILE_ATTR, START_ATTR
from gennas.seeds import check_seed, seed_or_drawn
from gennas.spaces import SearchSpace, resolve_space
from gennas.surrogates.task import Task

#: why a storage a designer was given may hold no study: said where one is read and none is found
ONLY_SEARCH_STORES = ("only a search stores results (Designer.search, run_search, `gennas search`); Designer.ask/tell "
                      "keep them in the designer (designer.history), whatever its storage=")
#: study attribute holding a samples or images task's description (:meth:`Task.to_record`)
TASK_ATTR = "gennas_task_description"


def study_space(attrs: dict[str, Any], study_name: str, space: SearchSpace | str | None = None) -> SearchSpace:
    """The search space of a study's architectures from its attributes ``attrs``: ``space`` when
    given (it must be the study's), else the stored name, a bundled space or one loaded in this
    process, else the YAML file the study recorded. Raises GennasError saying which to pass."""
    stored = attrs.get(SPACE_ATTR)
    if space is not None:
        space = resolve_space(space)
        if stored is not None and space.name != stored:
            raise GennasError(f"study {study_name!r} holds {stored} architectures, not {space.name}")
        return space
    try:
        return resolve_space(stored)
    except UnknownSpace:
        path = attrs.get(SPACE_FILE_ATTR)
        if path and Path(path).is_file():
            return resolve_space(Path(path))
        where = f" (recorded at {path}, which is gone)" if path else ""
        raise GennasError(f"study {study_name!r} holds architectures of space {stored!r}, declared by a YAML "
                          f"file{where}: pass its path (space='my_space.yaml', --space my_space.yaml)") from None


def study_settings(storage: Any, study_name: str) -> dict[str, Any]:
    """The user attributes (space, method, task, device, budget, seed, ...) of an existing study.

    Raises GennasError naming the study when the storage does not hold it."""
    optuna = optuna_module()

    if storage is None:  # open_storage(None) is a new in-memory one: "no study ...; it holds: none"
        raise GennasError("a stored study is read from the storage its search wrote (a URL such as "
                          "sqlite:///run.db, or a .db path); got none")
    if not isinstance(study_name, str) or not study_name:
        raise GennasError(f"name the study to read (result.study_name, or `gennas report --storage ...` lists "
                          f"them), got {study_name!r}")
    try:
        backend = open_storage(storage, existing=True)
    except GennasError as exc:  # no such file: a designer's ask/tell stored nothing there
        absent = "no such file" in str(exc) or "is empty" in str(exc)  # not a bad URL or a missing folder
        raise GennasError(f"{exc}; {ONLY_SEARCH_STORES}" if absent else str(exc)) from None
    with storage_errors(backend, "read"):  # a database optuna cannot read: one line, not its internals
        try:
            with quiet_optuna():
                study = optuna.load_study(study_name=study_name, storage=backend)
        except KeyError:
            names = [s.study_name for s in backend.get_all_studies()]
            held = ", ".join(names) if names else f"none; {ONLY_SEARCH_STORES}"
            raise GennasError(f"storage has no study {study_name!r}; it holds: {held}") from None
        return dict(study.user_attrs)


def designer_arguments(storage: Any, study_name: str, space: SearchSpace | str | None,
                       options: dict[str, Any], force: bool = False) -> tuple[SearchSpace, dict[str, Any]]:
    """The space and the :class:`~gennas.Designer` keyword arguments that rebuild the designer of
    a stored designer search (:meth:`~gennas.Designer.from_study`): its task and direction, and
    its device, budget, confidence and seed unless ``options`` replace them; the other
    ``options`` pass on as given. ``force``: a saved predictor the study began from that was made
    for another spec of the space is left, and the designer starts untrained.

    Raises GennasError: no such study, one of another space or method, or a ``task`` or
    ``direction`` other than the study's (what it learned)."""
    attrs = study_settings(storage, study_name)
    if attrs.get(SPACE_ATTR) is None or attrs.get("method") != "designer":
        raise GennasError(f"study {study_name!r} was not written by a designer search "
                          f"(method {attrs.get('method')!r}); a designer is rebuilt only from a study that "
                          "`gennas search --method designer` or Designer.search wrote")
    stored_space = study_space(attrs, study_name, space)
    options = dict(options)
    task_name = attrs.get("learned_task", attrs.get("task"))
    record = attrs.get(TASK_ATTR)  # a task described by samples or images: described again
    task = Task.from_record(record) if isinstance(record, dict) and record.get("name") == task_name else task_name
    learned = {"task": task, "direction": attrs.get("direction", "maximize")}
    for key in [key for key in learned if key in options]:
        given = options.pop(key)
        same = getattr(given, "name", given) == task_name if key == "task" else given == learned[key]
        if not same:
            raise GennasError(f"{key} {given!r}: study {study_name!r} learned task {task_name!r} "
                              f"({learned['direction']}), and a designer rebuilt from it keeps that; "
                              f"search anew to learn another")
    from gennas.generators import GENERATORS  # here: torch loads with it

    if attrs.get("generator") in GENERATORS and "generator" not in options:  # the one that proposed its results
        options["generator"] = attrs["generator"]
    settings = {"device": attrs.get("device"), "max_latency_ms": attrs.get("max_latency_ms"),
                "seed": attrs.get("seed"), "latency_confidence": attrs.get("latency_confidence", 0.95)}
    settings.update({key: options.pop(key) for key in list(settings) if key in options})
    # an untrained start is initialised by the designer's seed, as the study's first one was
    seed = seed_or_drawn(check_seed(settings["seed"]))
    start = str(attrs.get(START_ATTR))
    if start == "untrained" and "predictor" not in options:
        # rebuilt from the study alone: the predictor a later search saved in $GENNAS_HOME moved
        # the designs of `gennas design --study`
        from gennas.design.pretrained import untrained_predictor

        options["predictor"] = untrained_predictor(stored_space, seed)
    elif start == "saved" and "predictor" not in options:
        # the predictor a search saved is rewritten by every later refit: the study kept what it began from
        from gennas.design.pretrained import load_start_copy, start_copy, start_or_untrained, untrained_predictor
        from gennas.search.progress import work_dirs

        copy = start_copy(work_dirs(getattr(open_storage(storage, existing=True), "url", None), study_name))
        if copy is not None and force:  # the README's --force past an edited spec: it never mentioned it
            options["predictor"] = start_or_untrained(stored_space, copy) or untrained_predictor(stored_space, seed)
        elif copy is not None:
            try:
                options["predictor"] = load_start_copy(stored_space, copy)
            except OtherSpec as exc:
                raise OtherSpec(f"{exc}; or force it (force=True / --force) to design from the study's results "
                                "with an untrained predictor") from None
    elif start.startswith("shipped-no-") and "predictor" not in options:  # a holdout predictor's search
        from gennas.surrogates.shipped_predictor import load_predictor

        options["predictor"] = load_predictor(stored_space.name, holdout=start.removeprefix("shipped-no-"))
    elif start == "own" and "predictor" not in options and not force:  # gennas's own, unsaid (user walk 50)
        raise GennasError(f"study {study_name!r} began from a predictor of your own (predictor=), of which gennas "
                          "keeps no copy: pass it again (Designer.from_study(..., predictor=yours)), or force it "
                          "(force=True / --force) to design from the study's results with gennas's predictor")
    return stored_space, {**learned, **settings, **options}


def default_study_name(method: str, space: str, task: str, evaluator: str, seed: int, device: str | None = None,
                       max_latency_ms: float | None = None, data: str | None = None,
                       latency_confidence: float = 0.95) -> str:
    """The study name when ``--study`` is not given: every setting that changes what the results
    mean is in it, so a run with a latency budget (or other proxy images) never collides with one
    without on the same storage."""
    name = f"{method}-{space}-{task}-{evaluator}"
    if data is not None and data != task:
        name += f"-{data}"
    if max_latency_ms is not None:
        name += f"-{device}-{max_latency_ms:g}ms"
        if latency_confidence != 0.95:  # the default keeps the names studies already have
            name += f"-conf{latency_confidence:g}"
    return f"{name}-seed{seed}"


def stored_study_names(storage: Any) -> list[str] | None:
    """The names of the studies ``storage`` holds; None where it cannot be opened as it is (no such
    file yet: a resume starts it)."""
    try:
        return [s.study_name for s in open_storage(storage, existing=True).get_all_studies()]
    except GennasError:
        return None


def resumed_study_name(storage: Any, name: str, default_name: str) -> str:
    """The study a resume named by its settings continues: ``name`` where ``storage`` holds it,
    else the one study named ``default_name`` but for its latency confidence (``-confX``).

    The confidence is in the name (:func:`default_study_name`), so a resume with another one found
    no study and started a new one, where any other changed setting is refused or forced;
    continued, the settings check says so."""
    stem, _, seed = default_name.rpartition("-seed")
    names = stored_study_names(storage)
    if names is None:
        return name  # no storage yet: the resume starts the study, as it says
    if name in names:
        return name
    alike = [n for n in names if n == default_name or (n.startswith(f"{stem}-conf") and n.endswith(f"-seed{seed}"))]
    return alike[0] if len(alike) == 1 else name


def generator_name(generator: Any) -> str:
    """What a study records of the generator that proposed its results: its kind ("diffusion",
    "vae"), else its class's dotted path."""
    return getattr(generator, "kind", "") or f"{type(generator).__module__}.{type(generator).__qualname__}"


def generator_setting(optimizer: Any) -> dict[str, str]:
    """``{"generator": ...}`` (:func:`generator_name`) for an optimizer that generates its proposals
    (a designer's loop), so a stored study records it; else empty."""
    generator = getattr(optimizer, "generator", None)
    return {} if generator is None else {"generator": generator_name(generator)}


def designer_study(designer: Any, evaluator: Any, storage: Any, study_name: str | None,
                   resume: bool = False) -> tuple[str | None, dict[str, Any]]:
    """The study name and settings (user attributes) of ``designer.search(evaluator, storage=...)``.

    Without a ``study_name``, a search is named by :func:`default_study_name` (as the CLI names
    it), so the same script run again finds its stored study (``resume=True`` continues it,
    without it the error says so) instead of starting optuna's ``no-name-<uuid>``; an in-memory
    one too, so a seeded notebook cell shows the same name every run."""
    kind = getattr(evaluator, "kind", "callable")  # every bundled evaluator names its kind
    task = None if designer.task is None else designer.task.name
    if kind.startswith("proxy:") and task is not None and designer.task.kind == "named" and not names_a_proxy(task):
        # the CLI learns them as 'mnist-synflow'; in Python they were learned as mnist's own scores,
        # with no word on mbv3 (no table to find them off)
        warnings.warn(f"{kind} scores are learned as task {task!r}, which names no proxy: designs for {task!r} "
                      f"would be stated in the proxy's units as if they were its scores; name the task after what "
                      f"is scored, as `gennas search` does: Designer(..., task={task_of(task, kind[6:])!r})",
                      GennasWarning, stacklevel=caller_stacklevel())
    attrs = {"method": "designer", "task": task, "evaluator": kind, "device": designer.device,
             "max_latency_ms": designer.max_latency_ms, "seed": designer.seed,
             "direction": designer.loop.scale.direction, **generator_setting(designer.loop)}
    if designer.max_latency_ms is not None:  # which architectures the budget admitted off the measurements
        attrs["latency_confidence"] = designer.latency_confidence
    if designer.task is not None and designer.task.kind != "named":  # from_study describes it again
        attrs[TASK_ATTR] = designer.task.to_record(
            negate_samples=designer.task.kind == "samples" and designer.loop.scale.direction == "minimize")
    if study_name is None:
        named = (designer.space.name, task or "untasked", kind, designer.seed, designer.device, designer.max_latency_ms)
        study_name = default_study_name("designer", *named, latency_confidence=designer.latency_confidence)
        if storage is not None and resume and designer.max_latency_ms is not None:  # another confidence: refused or forced, not new
            study_name = resumed_study_name(storage, study_name, default_study_name("designer", *named))
    return study_name, attrs
