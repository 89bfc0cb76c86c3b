"""`gennas design --time-here`: designs timed on this machine, as the device registered here, and
kept within the budget by their timing (gennas.design.timed_here)."""

from __future__ import annotations

import json
import platform
import re

import numpy as np
import pytest
from typer.testing import CliRunner

import gennas
from gennas.cli.app import app
from gennas.design.candidate import Candidate
from gennas.design.timed_here import keep_timed_within, local_registration


def test_designs_are_kept_in_rank_order_by_their_timing_times_the_margin(nb201):
    archs = nb201.sample_many(5, 0)
    pool = [Candidate(a, 90.0 - i, None, 1.0, i + 1) for i, a in enumerate(archs)]
    timing = dict(zip((a.to_string() for a in archs), (1.0, 2.5, 1.9, 0.5, 1.0)))
    timed = keep_timed_within(pool, lambda a: timing[a.to_string()], max_latency_ms=2.0, margin=1.1, n=2)
    # 1.0 * 1.1 kept; 2.5 over; 1.9 * 1.1 = 2.09 over; 0.5 kept: two kept, the fifth never timed
    assert [c.arch for c in timed.kept] == [archs[0], archs[3]] and [c.rank for c in timed.kept] == [1, 2]
    assert [c.latency_bound_ms for c in timed.kept] == pytest.approx([1.1, 0.55])
    assert all(c.latency_measured for c in timed.kept) and timed.kept[1].predicted_latency_ms == 0.5
    assert [ms for _, ms in timed.over] == [2.5, 1.9]




def test_time_here_keeps_designs_within_the_budget_by_their_timing(tmp_path, monkeypatch, nb201, register_here):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    register_here("herebox", nb201, 1.0)
    runner = CliRunner()
    roomy = runner.invoke(app, ["design", "--device", "herebox", "--max-latency-ms", "1000", "-n", "2",
                                "--time-here", "--json"])
    assert roomy.exit_code == 0, roomy.output
    rows = json.loads(roomy.stdout)
    assert len(rows) == 2 and all(0 < r["measured_ms"] <= r["bound_ms"] <= 1000 for r in rows)
    assert "timed here: 2 of the 2 designs timed are within 1000 ms" in roomy.stderr
    # a device registered as a thousand times faster than this machine: its bound admits designs
    # that time far over the budget here, and none is shown
    register_here("fastbox", nb201, 0.001)
    tight = runner.invoke(app, ["design", "--device", "fastbox", "--max-latency-ms", "0.01", "-n", "2",
                                "--time-here", "--json"])
    # none kept is the impossible budget it is without --time-here: an error naming the fastest timed
    assert tight.exit_code == 2 and "none of the 6 designs timed here as fastbox is within 0.01 ms" in tight.stderr
    assert "6 left out, judged over it" in tight.stderr and "Traceback" not in tight.output
    for args, message in ((["--time-here"], "give --device and --max-latency-ms"),
                          (["--device", "pixel3", "--max-latency-ms", "20", "--time-here"], "bundled with nb201"),
                          (["--device", "nobox", "--max-latency-ms", "20", "--time-here"], "unknown device")):
        bad = runner.invoke(app, ["design", "-n", "2", *args])
        assert bad.exit_code == 2 and message in bad.stderr, bad.output


def test_only_a_device_measured_on_this_machine_is_timed_here(tmp_path, monkeypatch, nb201, register_here):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    register_here("otherbox", nb201, 1.0, machine="not-" + platform.node())
    with pytest.raises(gennas.GennasError, match="measured on machine 'not-"):
        local_registration("otherbox", nb201)
    register_here("filebox", nb201, 1.0, registered_from="timings.csv", machine=None)
    with pytest.raises(gennas.GennasError, match="registered from timings taken elsewhere"):
        local_registration("filebox", nb201)


def test_each_design_is_judged_by_the_slower_of_two_timings(nb201):
    """Kept on one timing, the designs near the budget were those timed low: timed again, 15 of 25
    ran over their bound (nb201 at 4 ms, a user walk)."""
    arch = nb201.sample_many(1, 3)[0]
    draws = iter([1.0, 1.3])
    timed = keep_timed_within([Candidate(arch, 90.0, None, 1.0, 1)], lambda a: next(draws), 1.2, 1.0, n=1)
    assert timed.kept == [] and [ms for _, ms in timed.over] == [1.3]


def test_a_confidence_the_second_timings_cannot_bound_is_refused_before_timing(tmp_path, monkeypatch, nb201, register_here):
    """--latency-confidence 0.97 on a device re-timed on 10 cells timed 9 designs, kept none, exit 0."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    refs = [a.to_string() for a in nb201.sample_many(10, 0)]
    register_here("pairbox", nb201, 1.0, retimed=[[a, 1.0 + i / 100] for i, a in enumerate(refs)])
    record = local_registration("pairbox", nb201)
    record["samples"] = [[a, 1.0] for a in refs]  # the pairs' first timings
    from gennas.surrogates.measure import registered_path

    registered_path("pairbox", "nb201").write_text(json.dumps(record))
    out = CliRunner().invoke(app, ["design", "--device", "pairbox", "--max-latency-ms", "1000", "-n", "1",
                                   "--time-here", "--latency-confidence", "0.97"])
    assert out.exit_code == 2 and "give --latency-confidence 0.954 or less" in out.stderr, out.output


def test_a_sitting_faster_than_the_registration_is_said(tmp_path, monkeypatch, nb201, register_here):
    """Designs kept at the budget in a fast sitting ran over it in a busier one (experiments/time_here.py):
    a sitting faster than the registration's noise explains is warned about before the designs."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    register_here("slowbox", nb201, 1000.0)  # registered as if this machine took a second per cell
    out = CliRunner().invoke(app, ["design", "--device", "slowbox", "--max-latency-ms", "100000", "-n", "1",
                                   "--time-here", "--json"])
    assert out.exit_code == 0, out.output
    # the ratio's digits depend on the load: 0.00x on an idle machine, 0.01x beside other work
    assert re.search(r"warning: this machine runs at 0\.0\dx its registered timings now", out.stderr), out.stderr
    register_here("samebox", nb201, 0.001)  # registered faster than any machine runs now: no warning
    out = CliRunner().invoke(app, ["design", "--device", "samebox", "--max-latency-ms", "1000", "-n", "1",
                                   "--time-here", "--json"])
    assert out.exit_code == 0 and "runs at" not in out.stderr, out.output


def test_an_unregistered_device_of_a_user_space_names_its_spec_file(tmp_path, monkeypatch, user_cell_space):
    """`gennas latency devices --space timedspace` failed: a user space loads only by its YAML path."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    path = user_cell_space("timedspace")
    with pytest.raises(gennas.GennasError, match=f"latency devices --space {path}`"):
        local_registration("nobox", gennas.load_space(path))


def test_designs_to_time_are_generated_under_the_budget_over_the_margin(tmp_path, monkeypatch, nb201, register_here):
    """Kept only where timing x margin is within the budget, designs generated under the budget itself
    (estimated just under it) timed near it and were left out: a user walk's margin of 1.7 kept none."""
    from gennas.design import timed_here
    from gennas.surrogates.retiming import recorded_margin
    from gennas.surrogates.latency import load_latency_estimator

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    refs = load_latency_estimator(nb201).reference_archs()
    # every reference timed a second time 1.5x slower: a noisy registration, margin about 1.5
    register_here("noisybox", nb201, 1.0, retimed=[[a.to_string(), 1.5 * (1 + i / 10)] for i, a in enumerate(refs)])
    assert recorded_margin(local_registration("noisybox", nb201), 0.95) > 1.3
    estimator = load_latency_estimator(nb201)

    def timer(record, space):  # this machine times each design 1 % under the model's estimate
        return lambda arch: 0.99 * float(estimator.predict([arch], "noisybox")[0])

    monkeypatch.setattr(timed_here, "registered_timer", timer)
    # the budget over the margin at the median estimate: half the cells are estimated within it
    budget = 1.6 * float(np.median(estimator.predict(nb201.sample_many(200, 0), "noisybox")))
    out = CliRunner().invoke(app, ["design", "--device", "noisybox", "--max-latency-ms", f"{budget:.4g}", "-n", "3",
                                   "--time-here", "--json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert len(rows) == 3 and all(r["bound_ms"] <= budget for r in rows), rows
    assert "timed here: 3 of the 3 designs timed are within" in out.stderr and "left out" not in out.stderr, out.stderr
