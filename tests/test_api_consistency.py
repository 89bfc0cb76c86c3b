"""One behaviour for one concept across the public API (user walk 49: a developer reading
signatures and help() rather than the README)."""

from __future__ import annotations

import warnings

import pytest

import gennas


@pytest.fixture(scope="module")
def designs() -> gennas.Designs:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gennas.Designer("nb201", task="cifar10", seed=0).generate(2)


def test_a_design_is_taken_wherever_an_architecture_is(designs, nb201):
    """A design generate returned was taken by some calls and refused by others, once with a raw
    AttributeError (bench.accuracy)."""
    design = designs[0]
    bench = gennas.load_benchmark("nb201")
    assert bench.accuracy(design, "cifar10") == bench.accuracy(design.arch, "cifar10")
    assert nb201.parse(design) is design.arch and nb201.is_valid(design)
    assert nb201.count_params(design) == nb201.count_params(design.arch)
    designer = gennas.Designer("nb201", task="cifar10", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        designer.tell(design, 93.0)
    assert designer.history[-1].arch == design.arch
    with pytest.raises(gennas.InvalidArchitecture, match="expected an ArchGraph, got int"):
        bench.accuracy(3, "cifar10")  # type: ignore[arg-type]


def test_is_valid_reads_a_string_as_parse_does(nb201):
    """``is_valid`` of a valid architecture's string was False, without a word."""
    text = nb201.sample(0).to_string()
    assert nb201.is_valid(text) and not nb201.is_valid(text.replace("nor_conv_3x3", "conv_9x9").replace(
        "skip_connect", "conv_9x9").replace("avg_pool_3x3", "conv_9x9").replace("none", "conv_9x9"))


def test_every_evaluator_names_one_architecture_where_a_list_goes(nb201):
    """TableEvaluator and ProxyEvaluator said "wrap it in a list"; TrainEvaluator and
    CallableEvaluator raised "'ArchGraph' object is not iterable"."""
    import torch

    arch = nb201.sample(0)
    images = (torch.rand(8, 3, 32, 32), torch.randint(0, 2, (8,)))
    for evaluator in (gennas.CallableEvaluator(lambda a: 1.0),
                      gennas.TrainEvaluator(nb201, [images], [images], epochs=1)):
        with pytest.raises(gennas.GennasError, match=r"takes a list of architectures, got ArchGraph \(one "
                                                     r"architecture: wrap it in a list\)"):
            evaluator.evaluate(arch)  # type: ignore[arg-type]
    callable_evaluator = gennas.CallableEvaluator(lambda a: float(a.num_nodes))
    with pytest.raises(gennas.GennasError, match="takes architectures as graphs, got str"):
        callable_evaluator.evaluate([arch, arch.to_string()])  # refused before the first is verified
    assert callable_evaluator.evaluate([arch])[0].score == arch.num_nodes


def test_the_supernet_s_save_takes_its_provenance_by_keyword(tmp_path):
    """Supernet.save took (path, command, metrics, data) where the predictor's takes (path, data,
    metrics, command): a description given positionally was recorded as the command."""
    supernet = gennas.Supernet("nb201", channels=4, cells_per_stage=1)
    with pytest.raises(TypeError):
        supernet.save(tmp_path / "s.pt", "MNIST 1 and 7")  # type: ignore[misc]
    supernet.save(tmp_path / "s.pt", data="MNIST 1 and 7", command="by hand")
    import json

    manifest = json.loads((tmp_path / "s.json").read_text())
    assert manifest["data"] == "MNIST 1 and 7" and manifest["command"] == "by hand"


def test_a_build_options_mapping_where_keywords_go_says_so(nb201):
    with pytest.raises(gennas.GennasError, match=r"here they are keywords, `\*\*build_options`"):
        gennas.Supernet(nb201, build_options=nb201.small_build_options)
    with pytest.raises(gennas.GennasError, match=r"here they are keywords"):
        nb201.count_params(nb201.sample(0), build_options={"channels": 8})


def test_reprs_say_what_the_object_is(designs):
    """A latency estimator and a result store showed `<... object at 0x...>`, a generator torch's
    856-character dump, guidance one line of 860 characters; a minimising stored designer looked
    like a maximising one in memory."""
    designer = gennas.Designer("nb201", task="cifar10", device="pixel3", max_latency_ms=20, seed=0,
                               direction="minimize", storage="postgresql://me:secret@db/gennas")
    assert repr(designer.estimator) == "LatencyEstimator(nb201, devices=19 bundled + 0 adapted, references=10)"
    assert repr(designer.generator).startswith("SlotDiffusion(nb201, kind=diffusion, ")
    assert len(repr(designer.guidance)) < 400 and "LatencyBudget.judged_ms" in repr(designer.guidance)
    shown = repr(designer)
    assert "direction='minimize'" in shown and "postgresql://me:***@db/gennas" in shown and "secret" not in shown
    result = gennas.Designer("nb201", task="cifar10", seed=0).search(
        gennas.TableEvaluator("nb201", "cifar10"), budget=1, progress=False)
    assert repr(result.store) == f"ResultStore(study {result.store.study_name!r} in InMemoryStorage, space nb201)"


def test_the_proxies_are_a_module_of_their_own():
    """`import gennas.proxies` failed (the name was only an attribute of gennas), and its namespace
    listed np, torch, math, ..."""
    import importlib

    proxies = importlib.import_module("gennas.proxies")
    assert gennas.proxies is proxies and "synflow" in proxies.names()
    assert not {"np", "torch", "math"} & set(dir(proxies))


def test_a_latency_is_measured_in_the_graph_s_own_space():
    """measure_latency(an mbv3 graph) was "architecture belongs to space 'mbv3', not 'nb201'": its
    space defaulted to nb201, where export_architecture takes the graph's own."""
    arch = gennas.load_space("mbv3").sample(0)
    assert gennas.measure_latency(arch, repeats=1, warmup=0, input_size=32) > 0


def test_a_latency_filter_around_a_minimising_designer_keeps_its_scores_as_they_are(bench):
    """LatencyFilter did not forward the designer loop's direction: a minimising search negated the
    scores twice and the designer learned the worst cells as the best (user walk 50)."""
    from gennas.search import LatencyFilter, run_search

    designer = gennas.Designer("nb201", task="my-error", seed=0, direction="minimize")
    wrapped = LatencyFilter(designer.loop, lambda arch: 1.0, max_latency_ms=100.0)
    error = gennas.CallableEvaluator(lambda arch: 100.0 - bench.accuracy(arch, "cifar10"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_search(wrapped, error, 4, direction="minimize", progress=False)
    told = [r.score for r in designer.history]
    assert len(told) == 4 and all(score > 0 for score in told)  # the errors, not their negation


class _EveryCellSlow:
    """A user's latency model that says 1000 ms for every cell of ``pixel3``."""

    devices = ["pixel3"]

    def predict(self, archs, device):
        import numpy as np

        return np.full(len(archs), 1000.0)

    def predict_soft(self, slot_probs, device):
        return slot_probs.sum((1, 2)) * 0 + 1000.0


def test_a_user_latency_model_overruled_by_the_measurements_is_said():
    """estimator= for a device the bundled table measured was silently replaced by the measurements
    (user walk 50): the measurements stay the judge (exact), and a warning says so."""
    with pytest.warns(gennas.GennasWarning, match=r"judged by the nb201 table's measurements of it \(exact\); "
                                                  r"estimator= is used for the guidance only"):
        designer = gennas.Designer("nb201", task="cifar10", device="pixel3", max_latency_ms=20, seed=0,
                                   estimator=_EveryCellSlow())
    assert all(d.predicted_latency_ms <= 20 for d in designer.generate(3))


def test_counting_a_network_leaves_the_caller_s_torch_stream(nb201):
    """count_params and count_flops drew the built network's weights from the caller's torch stream: a
    parameter-count evaluator moved a torch-seeded optimizer's proposals (user walk 50)."""
    import torch

    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    nb201.count_params(nb201.sample(0))
    nb201.count_flops(nb201.sample(1))
    assert torch.equal(torch.rand(3), expected)
