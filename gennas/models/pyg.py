"""``torch_geometric``, imported without the warnings its import raises: the DeprecationWarning of
``torch.jit.script`` under torch 2.13 (a host run with ``python -W error``, or a test suite's
``filterwarnings = error``, could not build a ``Designer``) and, in a notebook without
ipywidgets, tqdm's "IProgress not found. Please update jupyter and ipywidgets" (the first cell
of every notebook showed it with a site-packages path; gennas uses no tqdm bar). Neither is
gennas's nor the user's to fix. Import this module before ``torch_geometric``."""

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is deprecated", category=DeprecationWarning)
    warnings.filterwarnings("ignore", message=r"IProgress not found")  # tqdm.auto, imported by torch_geometric.utils
    import torch_geometric  # noqa: F401  (its submodules are imported with it: later imports warn no more)
