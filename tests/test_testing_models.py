"""The contracts of an accuracy model and a latency model (gennas.testing.models): the shipped
ones pass, and models that break a property the designer relies on are named."""

from __future__ import annotations

import numpy as np
import pytest

from gennas.design.pretrained import untrained_predictor
from gennas.surrogates.latency import load_latency_estimator
from gennas.testing.models import check_accuracy_model, check_latency_model


@pytest.fixture(scope="module")
def estimator():
    return load_latency_estimator("nb201")


def test_the_shipped_models_pass(nb201, estimator):
    check_latency_model(estimator, nb201, "pixel3")
    check_accuracy_model(lambda: untrained_predictor(nb201, seed=0), nb201)


class Broken:
    """A latency model of ``phone``: the estimator's pixel3, broken as ``how`` says."""

    def __init__(self, estimator, how):
        self.estimator, self.how, self.devices = estimator, how, ["phone"]

    def predict(self, archs, device):
        ms = np.asarray(self.estimator.predict(archs, "pixel3"))
        return ms[:-1] if self.how == "shape" else -ms if self.how == "sign" else ms

    def predict_soft(self, slot_probs, device):
        out = self.estimator.predict_soft(slot_probs, "pixel3")
        return out.detach() if self.how == "detached" else out

    def upper_bound(self, archs, device, confidence=0.95):
        ms = np.asarray(self.estimator.predict(archs, "pixel3"))
        return ms * (0.5 if self.how == "bound" else 1.5)


@pytest.mark.parametrize("how, named", [("shape", r"must give \(8,\) values, got shape \(7,\)"),
                                        ("sign", "not all finite and positive"),
                                        ("detached", "no finite gradient reaches the slot probabilities"),
                                        ("bound", "upper_bound at 0.95 lies below its prediction")])
def test_a_latency_model_breaking_a_property_is_named(nb201, estimator, how, named):
    check_latency_model(Broken(estimator, "none"), nb201, "phone")  # the model unbroken passes
    with pytest.raises(AssertionError, match=named):
        check_latency_model(Broken(estimator, how), nb201, "phone")
    with pytest.raises(AssertionError, match=r"devices must list 'tablet'"):
        check_latency_model(Broken(estimator, "none"), nb201, "tablet")


def test_an_accuracy_model_predicting_one_value_for_all_is_named(nb201):
    class OneValue:
        """Predicts a scalar, not one mean per architecture."""
        tasks, is_trained = ["t"], True

        def predict(self, archs, task=None):
            return 90.0, 1.0

    with pytest.raises(AssertionError, match=r"OneValue.predict of 8 architectures returned shapes \(\(\), \(\)\)"):
        check_accuracy_model(OneValue, nb201)


def test_every_suite_s_entry_point_is_a_name_of_gennas_testing():
    """The README writes `gennas.testing` checks a plug-in with `check_generator`: it was only
    `gennas.testing.generators.check_generator` (user walk 53)."""
    import gennas.testing as testing
    from gennas.testing import generators, models, optimizers
    from gennas.testing import evaluators as evaluator_suite

    assert testing.check_generator is generators.check_generator
    assert testing.check_optimizer is optimizers.check_optimizer
    assert testing.check_evaluator is evaluator_suite.check_evaluator
    assert testing.check_accuracy_model is models.check_accuracy_model
    assert testing.check_latency_model is models.check_latency_model
    assert {"check_generator", "check_latency_model"} <= set(dir(testing))
