"""torch.nn building blocks for the networks that search spaces build."""
