"""State an earlier gennas wrote, read by this one (user walk 47: a week of an older version's
home, studies and devices, then an upgrade)."""

from __future__ import annotations

import platform
import sqlite3
import warnings

import pytest

import gennas
from gennas.errors import GennasError


def test_a_device_registered_without_today_s_timing_settings_is_named_as_such(monkeypatch):
    """An earlier `latency measure` recorded no timing settings: recheck and --time-here said it was
    'registered from timings taken elsewhere (None)'."""
    from gennas.design.timed_here import local_registration
    from gennas.surrogates import measure

    monkeypatch.setattr(measure, "registered_record", lambda name, space: {"machine": platform.node(), "samples": []})
    with pytest.raises(GennasError, match=r"without the timing settings .* `gennas latency measure --space nb201 "
                                          r"--name mybox --force") as refused:
        local_registration("mybox", gennas.load_space("nb201"))
    assert "None" not in str(refused.value)


def test_a_study_that_records_no_start_is_resumed_with_a_warning_and_stays_unrecorded(tmp_path):
    """An earlier gennas recorded no predictor_start: the resume wrote the new run's ("saved") and then
    warned, wrongly, that the study began from a saved predictor."""
    from gennas.search.study_record import START_ATTR

    db = tmp_path / "run.db"
    table = gennas.TableEvaluator("nb201", "cifar10")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gennas.Designer("nb201", task="cifar10", seed=0).search(table, budget=3, storage=f"sqlite:///{db}",
                                                               study_name="old", progress=False)
    with sqlite3.connect(db) as con:  # as an earlier gennas left it
        con.execute("DELETE FROM study_user_attributes WHERE key = ?", (START_ATTR,))
    with pytest.warns(gennas.GennasWarning, match="records no predictor it began from"):
        gennas.Designer("nb201", task="cifar10", seed=0).search(table, budget=4, storage=f"sqlite:///{db}",
                                                               study_name="old", resume=True, progress=False)
    import optuna

    attrs = optuna.load_study(study_name="old", storage=f"sqlite:///{db}").user_attrs
    assert START_ATTR not in attrs


def test_designing_from_a_study_writes_nothing_into_it(tmp_path):
    """`gennas design --study` on a study an older gennas made (no spec recorded) wrote the space's
    spec of now into it, as if its results were verified on it (walk 47 #6); a design only reads."""
    from gennas.search.study_record import SPEC_ATTR

    db = f"sqlite:///{tmp_path / 'run.db'}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gennas.Designer("nb201", task="cifar10", seed=0).search(gennas.TableEvaluator("nb201", "cifar10"), budget=3,
                                                               storage=db, study_name="old", progress=False)
    with sqlite3.connect(tmp_path / "run.db") as con:  # as an earlier gennas left it
        con.execute("DELETE FROM study_user_attributes WHERE key = ?", (SPEC_ATTR,))
        before = con.execute("SELECT key, value_json FROM study_user_attributes ORDER BY key").fetchall()
    designer = gennas.Designer.from_study(db, "old")
    assert len(designer.generate(2)) == 2
    with sqlite3.connect(tmp_path / "run.db") as con:
        assert con.execute("SELECT key, value_json FROM study_user_attributes ORDER BY key").fetchall() == before
