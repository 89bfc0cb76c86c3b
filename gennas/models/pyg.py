"""``torch_geometric``, imported without the DeprecationWarning its import raises under torch 2.13
(it scripts modules with ``torch.jit.script``). Import this module before ``torch_geometric``:
a host run with ``python -W error`` (or a test suite's ``filterwarnings = error``) could not build
a ``Designer``, though the warning is not gennas's nor the user's to fix."""

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is deprecated", category=DeprecationWarning)
    import torch_geometric  # noqa: F401  (its submodules are imported with it: later imports warn no more)
