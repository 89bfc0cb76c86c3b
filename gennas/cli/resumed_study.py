"""What the stored settings of the study ``gennas search --resume --study`` names say: the options
not given, its space, what it started from, and whether the command line can rebuild its evaluator."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from gennas.errors import GennasError

if TYPE_CHECKING:
    from gennas.spaces import SearchSpace

#: the space of a search given none that resumes no named study
DEFAULT_SPACE = "nb201"


def stored_start(storage: str, study_name: str) -> str | None:
    """What a stored designer study started from (``predictor_start``), None where there is no such
    study (yet) or it records none."""
    from gennas.search.study_record import START_ATTR
    from gennas.search.studies import study_settings

    try:
        return study_settings(storage, study_name).get(START_ATTR)
    except GennasError:
        return None


def resumed_settings(storage: str, study_name: str | None, resume: bool) -> dict[str, Any]:
    """The stored settings of the study ``--resume --study`` names, which fill the options not given
    (as ``gennas design --study`` takes them: the default cifar10 was refused as another task, or
    with ``--force`` mixed cifar10 scores into it); {} without both, or where there is no such
    study (yet: resume starts it new, as without --resume)."""
    if not (resume and study_name is not None):
        return {}
    from gennas.search.studies import study_settings

    try:
        return study_settings(storage, study_name)
    except GennasError:
        return {}


def python_study(study: str | None, kind: str, storage: str, settings: dict[str, Any], budget: Any = "...",
                 why: str | None = None) -> str:
    """Why ``--resume --study`` cannot continue a study a Python evaluator of ``kind`` verified (``why``:
    how its ``settings`` tell, :func:`python_made`), and how Python continues it to ``budget`` with the
    study's method (a designer's rebuilt from the study) and batch size where not 1 (a resume must
    give it: the line printed without it was refused when pasted, user walk 57)."""
    what = "a Python callable" if kind == "callable" else f"a Python evaluator of kind {kind!r}"
    if why is not None:
        what += f" (a callable such as CallableEvaluator(fn, kind={kind!r}): {why})"
    where = f"budget={budget}, storage={storage!r}, study_name={study!r}, resume=True"
    if settings.get("batch_size") not in (None, 1):
        where += f", batch_size={settings['batch_size']}"
    how = (f"gennas.Designer.from_study({storage!r}, {study!r}).search(evaluator, {where})"
           if settings.get("method") == "designer"
           else f"gennas.run_search(<its method's optimizer>, evaluator, {where})")
    return (f"study {study!r} was verified by {what}, which the command line cannot rebuild: resume it from Python "
            f"with that evaluator, {how}")


def python_made(settings: dict[str, Any], space: SearchSpace) -> str | None:
    """How the ``settings`` of a study whose evaluator kind the CLI has (``train``, ``supernet``,
    ``table``) tell that a Python callable declaring that kind verified it
    (``CallableEvaluator(fn, kind="train")``), which the CLI cannot rebuild; None where they do not.
    Resumed, such a study of task 'new-cifar100' was refused as "--evaluator train needs bundled
    images", an option the user never gave. A TrainEvaluator or a supernet records its
    epochs (with the study's other evaluator settings), a callable none; the CLI's table scores
    only a dataset of the space's table."""
    from gennas.search.evaluator_settings import TRAINING_KINDS

    kind, task = settings.get("evaluator"), settings.get("task")
    if kind in TRAINING_KINDS:
        return None if "epochs" in settings else f"it recorded no epochs; the command line's {kind} evaluator does"
    if kind != "table" or not isinstance(task, str):
        return None
    from gennas.bench import load_benchmark

    if space.benchmark and task in load_benchmark(space.benchmark).datasets:
        return None
    return f"the {space.name} table measured no dataset {task!r}"


def stored_setting(settings: dict[str, Any], key: str, default: Any) -> Any:
    """``settings[key]`` where a study stored it (a non-empty value), else ``default``."""
    value = settings.get(key)
    return default if value is None or value == "" else value


def check_resumed_space(settings: dict[str, Any], study_name: str | None) -> None:
    """Refuse a resume without ``--space`` of a study of another space than the default, naming
    its space and spec: it failed later on the study's task ("unknown nb201 table dataset
    'digits'") or evaluator, never saying the study's space."""
    from gennas.search.study_record import SPACE_ATTR, SPACE_FILE_ATTR

    stored = settings.get(SPACE_ATTR)
    if stored is None or stored == DEFAULT_SPACE:
        return
    from gennas.spaces import list_spaces

    spec = stored if stored in list_spaces() else settings.get(SPACE_FILE_ATTR) or "<your spec .yaml>"
    raise GennasError(f"study {study_name!r} holds {stored} architectures, not {DEFAULT_SPACE} (the default "
                      f"--space): resume it with --space {shlex.quote(str(spec))}")


def check_default_resume(storage: str, name: str, asked: bool) -> None:
    """Refuse ``--resume`` without ``--study`` where no option chose the study (``asked``: neither
    --task nor --evaluator given) and the storage holds studies, but not ``name``, the default one: resuming an
    MNIST training study without its options started a cifar10 table study in its file, exit 0
    (user walk 52). A storage that holds none, or ``name``, goes on as before."""
    from gennas.search.studies import stored_study_names

    if not asked:
        return
    names = stored_study_names(storage)  # None: no such file yet, the search starts it (said there)
    if names and name not in names:
        held = ", ".join(shlex.quote(n) for n in names)
        raise GennasError(f"--resume: the storage holds no study {name!r} (the default for these options) but "
                          f"holds {held}: resume one with --study NAME (its settings come with it), or give --task "
                          "or --evaluator for a study of their own")
