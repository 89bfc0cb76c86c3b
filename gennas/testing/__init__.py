"""Contract suites any optimizer, evaluator or generator must pass (as ``optuna.testing``):
import a suite's checks in a test module and call them with your object's factory."""
