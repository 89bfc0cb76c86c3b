"""Models that stand in for measurements: the accuracy predictor, the latency estimator, task
descriptions, and the protocols the rest of the package depends on."""
