"""Result storage: every verified architecture is one optuna trial.

A search writes each :class:`~gennas.evaluators.base.Result` the moment it is verified, as a
trial of an optuna study: a COMPLETE trial with the score as its value, or a FAIL trial with
the error. The slot choices are the trial's categorical parameters (so ``optuna-dashboard``
can plot them); the architecture string, space, canonical hash, kind, fidelity, cost and
metadata are user attributes. One ``add_trial`` is one database transaction, so a crash or
Ctrl-C between two verifications loses nothing and leaves no half-written trial.

Storage is an optuna storage URL (``sqlite:///run.db``, ``postgresql://...``), a bare path
ending in ``.db`` (taken as SQLite), an optuna storage object, or ``None`` (in memory).
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from gennas.errors import GennasError, InvalidArchitecture
from gennas.evaluators.base import Result
from gennas.spaces import SearchSpace, resolve_space

if TYPE_CHECKING:
    import optuna

#: study user attribute naming the search space; a resumed study must match it
SPACE_ATTR = "gennas_space"


@contextlib.contextmanager
def quiet_optuna() -> Iterator[None]:
    """Silence optuna's INFO lines (one per study and trial) for the duration, then restore."""
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)


def open_storage(storage: Any) -> Any:
    """An optuna storage object from a URL, a ``.db`` path, a storage object or None.

    Raises GennasError naming the URL when it cannot be opened (bad scheme, missing
    directory, unreachable server), so a search fails before any architecture is verified.
    """
    import optuna

    if storage is None:
        return optuna.storages.InMemoryStorage()
    if isinstance(storage, optuna.storages.BaseStorage):
        return storage
    if not isinstance(storage, str) or not storage.strip():
        raise GennasError(f"storage must be an optuna storage URL such as sqlite:///run.db, got {storage!r}")
    url = storage.strip()
    if "://" not in url and url.endswith(".db"):
        url = f"sqlite:///{url}"  # convenience: a bare file name means a SQLite file
    try:
        with quiet_optuna():
            return optuna.storages.RDBStorage(url)
    except Exception as exc:  # sqlalchemy raises many types; all mean "cannot open"
        reason = str(exc).splitlines()[0]
        raise GennasError(f"cannot open storage {storage!r}: {reason}") from None


def _jsonable(value: Any) -> Any:
    """``value`` made JSON-serialisable (numpy scalars to Python, unknown objects to str)."""
    return json.loads(json.dumps(value, default=lambda o: o.item() if hasattr(o, "item") else str(o)))


def study_settings(storage: Any, study_name: str) -> dict[str, Any]:
    """The user attributes (space, method, task, device, budget, seed, ...) of an existing study.

    Raises GennasError naming the study when the storage does not hold it."""
    import optuna

    backend = open_storage(storage)
    try:
        with quiet_optuna():
            study = optuna.load_study(study_name=study_name, storage=backend)
    except KeyError:
        names = [s.study_name for s in backend.get_all_studies()]
        raise GennasError(f"storage has no study {study_name!r}; it holds: {', '.join(names) or 'none'}") from None
    return dict(study.user_attrs)


class ResultStore:
    """The verified results of one search, kept in one optuna study.

    Attributes:
        study: the optuna study (direction as the search's).
        space: the search space of every stored architecture.
    """

    def __init__(self, study: optuna.Study, space: SearchSpace) -> None:
        self.study = study
        self.space = space
        import optuna

        vocab = list(space.slot_vocab)
        # One categorical parameter per slot: the same distributions for every trial.
        self._distributions = {f"slot_{i}": optuna.distributions.CategoricalDistribution(vocab)
                               for i in range(space.num_slots)}

    # ------------------------------------------------------------ opening
    @classmethod
    def open(cls, space: SearchSpace | str, storage: Any = None, study_name: str | None = None,
             resume: bool = False, attrs: dict[str, Any] | None = None, direction: str = "maximize") -> ResultStore:
        """Open (or create) the study ``study_name`` in ``storage``.

        Args:
            space: search space of the architectures.
            storage: see the module docstring.
            study_name: None creates a fresh study with a generated name; with ``resume`` and
                exactly one study in the storage, that study is used.
            resume: allow a study that already holds trials (their results are reloaded).
            attrs: extra study user attributes (method, task, seed, ...), JSON-serialisable.
            direction: the study's optimisation direction (``"maximize"`` or ``"minimize"``).

        Raises:
            GennasError: storage cannot be opened; the study has trials but ``resume`` is off;
                the study belongs to another space; the study name is ambiguous.
        """
        import optuna

        space = resolve_space(space)
        backend = open_storage(storage)
        if study_name is None and resume:
            names = [s.study_name for s in backend.get_all_studies()]
            if len(names) > 1:
                raise GennasError(f"storage holds {len(names)} studies; name the one to resume: {', '.join(names)}")
            study_name = names[0] if names else None
        with quiet_optuna():
            study = optuna.create_study(storage=backend, study_name=study_name, direction=direction,
                                        load_if_exists=True)
        stored_space = study.user_attrs.get(SPACE_ATTR)
        if stored_space is not None and stored_space != space.name:
            raise GennasError(f"study {study.study_name!r} holds {stored_space} architectures, not {space.name}")
        count = len(study.get_trials(deepcopy=False, states=_stored_states()))
        if count and not resume:
            raise GennasError(f"study {study.study_name!r} already holds {count} results; "
                              "resume it (resume=True / --resume) or choose another study name")
        if stored_space is None:
            study.set_user_attr(SPACE_ATTR, space.name)
        for key, value in (attrs or {}).items():
            if key not in study.user_attrs:  # the first run's settings stay on record
                study.set_user_attr(key, _jsonable(value))
        return cls(study, space)

    # ------------------------------------------------------------ writing
    def add(self, result: Result) -> None:
        """Store one result now, as a COMPLETE trial (score) or a FAIL trial (error)."""
        import optuna

        choices = self.space.choices(result.arch)
        attrs = {
            "arch": self.space.to_string(result.arch),
            "space": self.space.name,
            "hash": result.arch.canonical_hash(),
            "kind": result.kind,
            "fidelity": result.fidelity,
            "cost_s": float(result.cost_s),
            "metadata": _jsonable(result.metadata),
            "error": result.error,
        }
        params = {f"slot_{i}": op for i, op in enumerate(choices)}
        if result.failed:
            attrs["error"] = result.error or f"score {result.score}"
            trial = optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL, params=params,
                                              distributions=self._distributions, user_attrs=attrs)
        else:
            trial = optuna.trial.create_trial(value=float(result.score), params=params,
                                              distributions=self._distributions, user_attrs=attrs)
        self.study.add_trial(trial)

    # ------------------------------------------------------------ reading
    def results(self) -> list[Result]:
        """Every stored result in the order it was verified (failed ones included)."""
        out = []
        for trial in self.study.get_trials(deepcopy=False, states=_stored_states()):
            out.append(self._to_result(trial))
        return out

    def _to_result(self, trial: optuna.trial.FrozenTrial) -> Result:
        import optuna

        attrs = trial.user_attrs
        try:
            arch = self.space.from_string(attrs["arch"])
        except (KeyError, InvalidArchitecture) as exc:
            raise GennasError(f"trial {trial.number} of study {self.study.study_name!r} is not a "
                              f"gennas result of space {self.space.name}: {exc}") from None
        failed = trial.state == optuna.trial.TrialState.FAIL
        score = math.nan if failed or trial.value is None else float(trial.value)
        return Result(arch, score, attrs.get("kind", "unknown"), fidelity=attrs.get("fidelity", "full"),
                      cost_s=float(attrs.get("cost_s", 0.0)), metadata=dict(attrs.get("metadata") or {}),
                      error=attrs.get("error") if failed else None)

    def __len__(self) -> int:
        return len(self.study.get_trials(deepcopy=False, states=_stored_states()))

    @property
    def study_name(self) -> str:
        return self.study.study_name


def _stored_states() -> tuple[Any, ...]:
    import optuna

    return (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL)
