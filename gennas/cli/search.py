"""``gennas search``: verify architectures with a search method, store every result, resume."""

from __future__ import annotations

import shlex
import warnings
from typing import TYPE_CHECKING, Any, Optional

import typer

from gennas.cli.resumed_study import (DEFAULT_SPACE, check_default_resume, check_resumed_space, python_made,
                                      python_study, resumed_settings, stored_setting, stored_start)
from gennas.errors import GennasError, UnknownDataset, hide_passwords, unknown

if TYPE_CHECKING:  # the heavy modules load when a command runs, not for `gennas --help`
    from gennas.spaces import SearchSpace

DEFAULT_STORAGE = "sqlite:///gennas-search.db"
#: the task of a search given no --task that resumes no named study
DEFAULT_TASK = "cifar10"
#: the evaluator of a search given none that resumes no named study
DEFAULT_EVALUATOR = "table"
#: the train evaluator's --epochs and --limit given none that resumes no named study
DEFAULT_EPOCHS, DEFAULT_LIMIT = 1, 2000


def _table_evaluator(space: SearchSpace, task: str) -> Any:
    """Accuracy from the space's bundled benchmark table on dataset ``task``."""
    from gennas.bench import load_benchmark

    if not space.benchmark:
        raise GennasError(f"space {space.name!r} has no bundled table; use --evaluator proxy:NAME or train")
    from gennas.evaluators import TableEvaluator

    bench = load_benchmark(space.benchmark)
    if task not in bench.datasets:
        # a dataset the predictor never saw, with a table standing in for it, is a Python search:
        # Designer(..., task="new-cifar100", predictor=load_predictor(..., holdout="cifar100")); the
        # scores are wrapped as kind "table" (README): a bare lambda's have no unit, designs then state no %
        held = task.removeprefix("new-") if task.removeprefix("new-") in bench.datasets else bench.datasets[-1]
        stand_in = "" if not task.startswith("new-") else (
            f"; to search a new dataset with a table standing in for it (scores in % as kind='table'), in Python: "
            f"import gennas; from gennas.evaluators import CallableEvaluator; bench = gennas.load_benchmark("
            f"{bench.name!r}); gennas.Designer({space.name!r}, task={task!r}, predictor=gennas.load_predictor("
            f"{space.name!r}, holdout={held!r})).search(CallableEvaluator(lambda a: bench.accuracy(a, {held!r}), "
            "kind='table'), budget=20)")
        raise UnknownDataset(unknown(f"{bench.name} table dataset", task, bench.datasets) + stand_in)
    return TableEvaluator(bench, task)


def image_side(space: SearchSpace) -> int:
    """The side (pixels) bundled images are resized to for ``space``'s networks on a CPU: the
    space's input size, at most 32 (a user's ``input_size: 28`` trained at 32 before)."""
    return min(space.default_input_size, 32)


def _task_images(dataset: str, space: SearchSpace) -> Any:
    """(images, labels): one batch of a bundled image dataset shaped for ``space``'s networks."""
    from gennas.datasets import load_images

    images, labels = load_images(dataset, size=image_side(space), channels=3)
    return images[:64], labels[:64]  # proxies score one batch


def proxy_data(proxy: str, task: str, data: Optional[str] = None) -> Optional[str]:
    """The bundled image set a ``proxy:NAME`` evaluator scores on: ``data`` when given, else
    the task's own images when bundled, else MNIST when the proxy needs data (None: data-free)."""
    from gennas.datasets import DATASETS
    from gennas.evaluators import zero_cost

    if data is not None:
        if data not in DATASETS:
            raise UnknownDataset(unknown("image dataset (--data)", data, DATASETS))
        return data
    if task in DATASETS:
        return task
    return DATASETS[0] if zero_cost.get(proxy).needs_data else None


def train_data(task: str, data: Optional[str] = None) -> str:
    """The bundled image set the ``train`` evaluator trains on: ``data`` (``--data``) when given,
    else the task's own; a task of one's own (``--task my-task``) names its images with ``--data``
    (it was refused, and ``--data`` with it, leaving only Python for it)."""
    from gennas.datasets import DATASETS

    if data is not None:
        if data not in DATASETS:
            raise UnknownDataset(unknown("image dataset (--data)", data, DATASETS))
        if task in DATASETS and task != data:  # the study would learn digits accuracies as mnist's
            raise GennasError(f"--task {task} trains on its own images, not --data {data}'s: give --task {data}, or "
                              f"a task name of your own (--task my-{data} --data {data})")
        return data
    if task in DATASETS:
        return task
    raise GennasError(f"--evaluator train needs bundled images: task {task!r} has none; train on "
                      f"{' or '.join(DATASETS)} for it with --data (e.g. --task {task} --evaluator train --data "
                      f"{DATASETS[0]}), or give --task {' or '.join(DATASETS)}")


def make_evaluator(spec: str, space: SearchSpace, task: str, seed: int = 0, epochs: int = 1,
                   limit: int = 2000, data: Optional[str] = None) -> Any:
    """The evaluator named by ``--evaluator``: ``table``, ``proxy:NAME``, ``train`` or ``supernet``.

    ``proxy:NAME`` scores one batch of bundled images (see :func:`proxy_data`); ``train``
    trains on ``limit`` images of a bundled dataset (:func:`train_data`) for ``epochs`` (CPU-sized:
    nb201 cells are built with 8 channels and one cell per stage).
    """
    if spec == "table":
        return _table_evaluator(space, task)
    if spec.startswith("proxy:"):
        from gennas.evaluators.proxy import ProxyEvaluator

        name = spec.split(":", 1)[1]
        dataset = proxy_data(name, task, data)
        images = None if dataset is None else _task_images(dataset, space)
        return ProxyEvaluator(space, name, data=images, seed=seed)
    if spec == "train":
        from gennas.datasets import classes_of, image_loaders, input_recipe
        from gennas.evaluators import TrainEvaluator

        images = train_data(task, data)
        if epochs < 1 or limit < 10:
            raise GennasError(f"need --epochs >= 1 and --limit >= 10, got {epochs}, {limit}")
        side = image_side(space)
        train, val = image_loaders(images, batch_size=64, seed=seed, size=side, channels=3, limit=limit)
        # keep_weights: a stored result's trained weights stay in the study's work folder, so `gennas design --study
        # ... --export` writes the network verified; the dataset's classes: a small --limit may miss one
        return TrainEvaluator(space, train, val, epochs=epochs, seed=seed, build_options=space.small_build_options,
                              num_classes=classes_of(images), progress=False, on_diverge="record", keep_weights=True,
                              inputs=input_recipe(images, size=side, channels=3))
    if spec == "supernet":
        return _shipped_supernet(space, task)
    raise GennasError(f"unknown evaluator {spec!r}; use table, proxy:NAME, train or supernet")


def _shipped_supernet(space: SearchSpace, task: str) -> Any:
    """The weight-sharing supernet shipped for nb201 on MNIST 16x16 (``experiments/verify_supernet.py``,
    on its data split: 80/20 of the bundled 10,000 images, seed 0): each subnet is scored on the
    2,000 validation images after BN recalibration on fixed training images (0.4 s per cell,
    ``experiments/verify_supernet.py``)."""
    from gennas.datasets import image_loaders
    from gennas.evaluators.supernet import Supernet
    from gennas.resources import checkpoints_dir

    path = checkpoints_dir() / f"supernet_{space.name}_mnist.pt"
    if task != "mnist" or not path.is_file():
        raise GennasError("--evaluator supernet scores with the supernet shipped for nb201 on MNIST "
                          "(checkpoints/supernet_nb201_mnist.pt): use --space nb201 --task mnist; for another space "
                          "or data, train one with gennas.evaluators.supernet.Supernet(...).fit and search from Python")
    supernet = Supernet.load(path, torch_device="cpu")
    supernet.train_loader, supernet.val_loader = image_loaders("mnist", batch_size=128, val_fraction=0.2, seed=0,
                                                               size=16, channels=1)
    return supernet


def register(app: typer.Typer) -> None:
    from gennas.cli.output import bound_column, friendly, latency_columns, print_json, print_table
    from gennas.cli.output import note as note_line

    @app.command("search")
    @friendly(interrupted="interrupted (a stored search keeps what it verified: the same command with --resume "
              "continues it)")
    def search_cmd(
        space: Optional[str] = typer.Option(None, "--space", "-s",
                                            help=f"bundled name or YAML file \\[default: {DEFAULT_SPACE}]"),
        task: Optional[str] = typer.Option(None, "--task", "-t",
                                           help="dataset the architectures are for (default: with --resume "
                                                "--study, the study's task; else cifar10)"),
        budget: int = typer.Option(20, "--budget", "-b", help="architectures to verify (stored ones count)"),
        evaluator: Optional[str] = typer.Option(None, "--evaluator", "-e",
                                                help="table | proxy:NAME | train | supernet \\[default: table; "
                                                     "with --resume --study: the study's]"),
        storage: str = typer.Option(DEFAULT_STORAGE, "--storage",
                                    help="optuna storage URL or .db file; postgresql://user@host/db to share a study "
                                         "between machines (several searches on one study cooperate); a file run.db "
                                         "keeps run.db.work/ beside it (trained weights, the predictor a designer "
                                         "began from; a server's is under $GENNAS_HOME/work): archive both"),
        study: Optional[str] = typer.Option(None, "--study", help="study name (default from the settings)"),
        seed: int = typer.Option(0, "--seed", help="random seed of the method: the same command repeats a run given "
                                                   "the same $GENNAS_HOME, whose saved predictor a designer in a space "
                                                   "without a shipped one starts from (see --untrained)"),
        resume: bool = typer.Option(False, "--resume", help="continue the stored study"),
        method: str = typer.Option("designer", "--method", "-m",
                                   help="designer | random | evolution | local | tpe | bananas | transfer-topk | "
                                        "transfer-local | proxy-topk | an installed package's (gennas.methods)"),
        batch_size: int = typer.Option(1, "--batch-size", help="architectures verified per round"),
        time_limit: Optional[float] = typer.Option(None, "--time-limit", min=1, help="seconds after which no "
                                                   "verification starts: the search ends (exit 0), --resume goes on"),
        device: Optional[str] = typer.Option(None, "--device", help="device of the latency budget"),
        max_latency_ms: Optional[float] = typer.Option(None, "--max-latency-ms", help="latency budget (ms)"),
        latency_confidence: float = typer.Option(0.95, "--latency-confidence",
                                                 help="on a device without measured latencies: verify only "
                                                      "architectures whose upper latency bound at this "
                                                      "confidence keeps the budget (calibrated: 0.5-0.995 "
                                                      "on nb201, 0.5-0.98 on mbv3)"),
        epochs: Optional[int] = typer.Option(None, "--epochs", help="training epochs per architecture (train "
                                                                   "evaluator) \\[default: 1; with --resume --study: "
                                                                   "the study's]"),
        limit: Optional[int] = typer.Option(None, "--limit", help="images used by the train evaluator \\[default: "
                                                                 "2000; with --resume --study: the study's]"),
        top: int = typer.Option(10, "--top", help="rows shown, and the JSON's 'top' rows ('verified' counts every result)"),
        as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
        data: Optional[str] = typer.Option(
            None, "--data", help="bundled images a proxy scores on or the train evaluator trains on: mnist | "
                                 "digits (default: the task's own if bundled, else mnist for proxies that need "
                                 "data; a task of your own with --evaluator train needs it)"),
        force: bool = typer.Option(False, "--force", help="with --resume: continue a study run with other settings "
                                                          "(the change is recorded in the study), never "
                                                          "with another --task"),
        untrained: bool = typer.Option(False, "--untrained",
                                       help="designer: start from an untrained predictor, not the one earlier searches "
                                            "saved in $GENNAS_HOME (nor a shipped one), and leave that one as it is: "
                                            "the run no longer depends on the home; with --resume, give it again"),
        executor: str = typer.Option("local", "--executor", help="local (in this process) | ray (Ray tasks; "
                                                                   "pip install -e '.\\[ray]')"),  # \\[: not rich markup
        workers: Optional[int] = typer.Option(None, "--workers", help="Ray tasks at once (--executor ray; default 2)"),
        address: Optional[str] = typer.Option(None, "--address", help="Ray cluster, e.g. ray://head:10001 or auto "
                                                                      "(--executor ray; default: a local instance)"),
    ) -> None:
        """Search a space with a method and an evaluator; every verified result goes to --storage."""
        from gennas.cli.checks import check_seed, check_storage
        from gennas.search import make_optimizer, method_names, run_search
        from gennas.spaces import load_space
        from gennas.search.backends import open_storage, sqlite_path
        from gennas.search.storage import NewStudyOnResume
        from gennas.design.budget_notes import loose_budget_note
        from gennas.search.studies import default_study_name, generator_setting, resumed_study_name

        # Everything that can be wrong is checked before the first verification.
        check_seed(seed)
        check_storage(storage)
        if budget <= 0:
            raise GennasError(f"--budget must be positive, got {budget}")
        if top <= 0:  # -1 showed all rows but the last, 0 an empty table
            raise GennasError(f"--top must be a positive number of rows, got {top}")
        if study is not None and not study.strip():  # it fell back to the default name without a word
            raise GennasError("--study is empty: name the study, or leave --study out for the default name")
        if force and not resume:
            raise GennasError("--force goes with --resume (it continues a study run with other settings)")
        if method not in method_names():
            raise GennasError(unknown("search method", method, method_names()))
        if executor not in ("local", "ray"):
            raise GennasError(f"unknown --executor {executor!r}; use local or ray")
        if executor == "local" and (workers is not None or address is not None):
            raise GennasError("--workers and --address go with --executor ray")
        if workers is not None and workers <= 0:
            raise GennasError(f"--workers must be positive, got {workers}")
        if executor == "ray":
            try:
                import ray  # noqa: F401  (checked now, before the study is touched)
            except ImportError:
                raise GennasError("--executor ray needs Ray: pip install -e '.[ray]' (or pip install 'ray[default]')") \
                    from None
        if (device is None) != (max_latency_ms is None):
            raise GennasError("--device and --max-latency-ms go together")
        if untrained and method != "designer":
            raise GennasError(f"--untrained goes with --method designer (method {method} learns no saved predictor)")
        resumed = resumed_settings(storage, study, resume)
        if space is None:  # checked first: the study's task or evaluator failed on nb201 without naming its space
            check_resumed_space(resumed, study)
            space = DEFAULT_SPACE
        sp = load_space(space)
        if method == "designer" and not untrained:  # it writes what it learns under the home
            check_home(sp)
        chosen = task is not None or evaluator is not None  # a study of these options, not the storage's
        task = task if task is not None else stored_setting(resumed, "task", DEFAULT_TASK)
        named = str(stored_setting(resumed, "evaluator", DEFAULT_EVALUATOR))
        why = python_made(resumed, sp) if resumed and evaluator in (None, named) else None
        if why is not None:  # CallableEvaluator(fn, kind="train"): not the CLI's training
            raise GennasError(python_study(study, named, storage, resumed, budget, why))
        if evaluator is None:  # as the task; Designer.search stores kinds the CLI has not ('callable')
            usable = named in ("table", "train", "supernet") or named.startswith("proxy:")
            if resumed and not usable:  # the default 'table' failed on the study's task ("unknown ... 'mytask-err'")
                raise GennasError(python_study(study, named, storage, resumed, budget))
            evaluator = named if usable else DEFAULT_EVALUATOR
        if data is None and resumed.get("evaluator") == evaluator:
            data = resumed.get("data")  # a proxy's or training's images, as the study took them
        epochs = epochs if epochs is not None else stored_setting(resumed, "epochs", DEFAULT_EPOCHS)
        # a study begun in Python records its loaders' sizes, not a --limit (image_loaders' limit is their sum)
        counted = resumed.get("train_samples", 0) + resumed.get("val_samples", 0) if "limit" not in resumed else 0
        limit = limit if limit is not None else stored_setting(resumed, "limit", counted or DEFAULT_LIMIT)
        if data is not None and not (evaluator.startswith("proxy:") or evaluator == "train"):
            raise GennasError("--data chooses the images of a proxy or training evaluator (--evaluator proxy:NAME "
                              "or train)")
        dataset = proxy_data(evaluator.split(":", 1)[1], task, data) if evaluator.startswith("proxy:") else \
            train_data(task, data) if evaluator == "train" else None
        scorer = make_evaluator(evaluator, sp, task, seed, epochs=epochs, limit=limit, data=dataset)
        from gennas.evaluators.zero_cost import task_of

        # a proxy's scores are learned as a task of their own (cifar10-synflow), never as the dataset's accuracy
        learned = task_of(task, evaluator.split(":", 1)[1], dataset) if evaluator.startswith("proxy:") else task
        name = study or default_study_name(method, sp.name, task, evaluator, seed, device, max_latency_ms, dataset,
                                           latency_confidence)
        if study is None and resume and max_latency_ms is not None:  # another confidence: refused or forced, not new
            name = resumed_study_name(storage, name, default_study_name(method, sp.name, task, evaluator, seed, device,
                                                                        max_latency_ms, dataset))
        check_default_resume(storage, name, asked=resume and study is None and not chosen)  # no option chose it
        begun = stored_start(storage, name) if method == "designer" and resume else None
        if untrained and begun not in (None, "untrained"):  # it would resume from what the study began from
            raise GennasError(f"--untrained: study {name!r} began from the {begun} predictor, and a resume starts from "
                              "it again; start another study (--study) for an untrained run")
        if untrained or begun == "untrained" or (begun == "saved" and force):
            # it restarts untrained anyway (RememberingLoop.adopt_study), or from the copy the study kept: the
            # home's saved predictor is not loaded, and one for an edited spec no longer blocks the resume (README)
            from gennas.design.designer import Designer
            from gennas.design.pretrained import untrained_predictor

            start = untrained_predictor(sp, seed)
            start.keeps_saved = untrained  # --untrained: the home's saved predictor is neither read nor replaced
            optimizer = Designer(sp, task=learned, device=device, max_latency_ms=max_latency_ms, seed=seed,
                                 latency_confidence=latency_confidence, predictor=start).loop
        else:
            optimizer = make_optimizer(method, sp, seed, learned, device=device, max_latency_ms=max_latency_ms,
                                       latency_confidence=latency_confidence)
        start_note = None
        if getattr(optimizer, "predictor_start", None) == "saved" and not resume:
            # the same --seed in another $GENNAS_HOME starts untrained and verifies other cells
            start_note = (f"the designer starts from the predictor earlier searches saved for {sp.name} in "
                          "$GENNAS_HOME/checkpoints; a fresh GENNAS_HOME, or --untrained, starts untrained (another "
                          "run)")
            note_line(start_note)  # now, before the search: it may be long
        if max_latency_ms is not None and method == "designer":  # a budget no cell keeps fails here
            from gennas.design.budget import check_feasible

            check_feasible(optimizer.budget, sp)
        attrs = {"method": method, "task": task, "evaluator": evaluator, "seed": seed, "budget": budget,
                 "device": device, "max_latency_ms": max_latency_ms, **generator_setting(optimizer)}
        if max_latency_ms is not None:
            attrs["latency_confidence"] = latency_confidence
        if learned != task:
            attrs["learned_task"] = learned
        if dataset is not None:
            attrs["data"] = dataset
        if evaluator == "train":  # what a trained score means: a resume with other training is refused
            attrs.update(epochs=epochs, limit=limit)
        file = sqlite_path(storage.strip() if "://" in storage else f"sqlite:///{storage.strip()}")
        missing = resume and file is not None and not file.exists()
        backend = open_storage(storage)  # after every check: a refused search leaves no empty database
        if missing:  # said only "the storage has no study ...; starting it new"
            typer.echo(f"warning: --resume: {file} does not exist (a typo in the path?); a new storage is started "
                       "there", err=True)
        with warnings.catch_warnings():
            if missing:  # the line above says more
                warnings.filterwarnings("ignore", category=NewStudyOnResume)
            warnings.showwarning = note_other_threads(warnings.showwarning)
            result = run_search(optimizer, scorer, budget, storage=backend, study_name=name, batch_size=batch_size,
                                progress=not quiet, resume=resume, space=sp, attrs=attrs, force=force,
                                executor=executor, workers=workers, address=address, max_seconds=time_limit)
        rows = [{"rank": i + 1, "arch": r.arch.to_string(), "score": r.score, "kind": r.kind,
                 "fidelity": r.fidelity, "cost_s": r.cost_s} for i, r in enumerate(result.top(top))]
        latency = latency_columns(getattr(optimizer, "budget", None), latency_confidence,
                                  [r.arch for r in result.top(top)])
        for row, columns in zip(rows, latency):
            row.update(columns)  # what kept the budget: a verified cell's latency was not shown
        loose = loose_budget_note(getattr(optimizer, "budget", None), sp)  # a budget in another unit?
        result.notes += [loose] if loose is not None else []
        if as_json and start_note is not None:  # a pipeline reading the JSON alone missed it
            result.notes.insert(0, start_note)
        summary = {"study": result.study_name, "storage": storage, "verified": len(result),
                   "verified_here": result.verified_here, "resumed": result.resumed,
                   "failed": len(result.failures), "exhausted": result.exhausted,
                   "elapsed_s": round(result.elapsed_s, 3), "cpu_s": round(result.cpu_s, 3)}
        if as_json:
            from gennas.versions import versions

            print_json({**summary, **versions(), "notes": result.notes, "top": rows,
                        "failures": [{"arch": r.arch.to_string(), "error": r.error} for r in result.failures]})
            return nothing_verified(result)
        # a proxy scored on other images than the task's: the title named cifar10 alone
        verb = "trained" if evaluator == "train" else "scored"
        images = f" ({evaluator} {verb} on {dataset} images)" if dataset is not None and dataset != task else ""
        # of a shared study's results, how many this process verified (each printed the study's totals)
        shown = [bound_column(row) for row in rows]  # the bound's confidence in its column's header
        print_table(f"{method} on {sp.name}/{learned}{images}: best {len(rows)} of {len(result)} verified "
                    f"(this process {result.verified_here}; study {result.study_name!r}, {summary['failed']} "
                    f"failed, {result.resumed} resumed)", shown,
                    list(shown[0]) if shown else ["rank", "arch", "score", "kind", "fidelity", "cost_s"])
        for note in result.notes:
            note_line(note)
        if method == "designer":
            from gennas.design.pretrained import ships_predictor
            from gennas.design.saved_records import saved_results

            stored = hide_passwords(f"gennas design --storage {shlex.quote(str(storage))} "
                                    f"--study {shlex.quote(result.study_name)}")
            failed = getattr(optimizer, "save_failed", False)  # warned: the file holds an earlier state
            if not untrained and not ships_predictor(sp) and saved_results(sp, learned) is not None and not failed:
                # the predictor it trained was saved with this task (not after a few results, which
                # rank by the tables or a few-shot task and leave the network untouched): --task finds it
                typer.echo(f"design from what it learned: {stored} (with its verified scores and what it states; "
                           f"`gennas design --space {shlex.quote(str(space))} --task {shlex.quote(learned)}` uses the saved "
                           "predictor alone)",
                           err=True)
            else:  # the shipped predictor stays as shipped: what this search learned is in its study
                typer.echo(f"design from what it learned: {stored}", err=True)
                if not untrained and not ships_predictor(sp) and not failed:
                    echo_not_saved(sp, learned, len(result.results))
        nothing_verified(result)


def nothing_verified(result: Any) -> None:
    """Exit 2 where every verification of the study failed (6 trainings out of memory exited 0: walk 48)."""
    if len(result) and not result.results:
        raise GennasError(f"every one of the {len(result)} verifications failed (the last: "
                          f"{(result.failures[-1].error or '?').splitlines()[0][:200]}): nothing was verified; fix the "
                          "cause, then --resume with a larger --budget (failures count)")


def check_home(space: SearchSpace) -> None:
    """GennasError, before anything is verified, where a designer search of ``space`` would save the
    predictor it learns under an unwritable ``$GENNAS_HOME`` (none is saved for a space that ships one)."""
    from gennas.checkpoint import user_checkpoints_dir
    from gennas.cli.checks import check_writable_dir
    from gennas.design.pretrained import ships_predictor

    if not ships_predictor(space):
        check_writable_dir(user_checkpoints_dir(), "gennas search cannot save the predictor the designer learns",
                           "set GENNAS_HOME to a writable folder")


def note_other_threads(show: Any) -> Any:
    """``warnings.showwarning`` that prints a resume's other training threads as a note (it is not
    refused: a resume on another machine is legitimate), and passes any other warning to ``show``."""
    from gennas.cli.output import note as note_line
    from gennas.search.evaluator_settings import OtherThreads

    def showwarning(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        if issubclass(category, OtherThreads):
            note_line(message)
        else:
            show(message, category, *args, **kwargs)

    return showwarning


def echo_not_saved(space: SearchSpace, task: str, results: int) -> None:
    """Say why a designer search on ``space`` left the predictor saved for it untouched: a task new
    to it (``task``, with ``results`` successful results) is learned into the network only from
    :data:`~gennas.design.loop.FEW_SHOT_RESULTS` results on, and the README says the predictor is
    saved after every batch (four searches on digits never saved it and nothing said so)."""
    from gennas.design.loop import FEW_SHOT_RESULTS
    from gennas.design.saved_records import saved_tasks

    known = saved_tasks(space)
    if known and task not in known and results < FEW_SHOT_RESULTS:
        typer.echo(f"note: the predictor saved for {space.name} (it knows: {', '.join(known)}) was not retrained "
                   f"on task {task!r}: a task new to it is learned into the network from {FEW_SHOT_RESULTS} results "
                   f"on, and this study has {results}; until then the study holds what the search learned "
                   "(resume it with a larger --budget to train the predictor on it)", err=True)
