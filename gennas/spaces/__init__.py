"""Search spaces declared by YAML specs: the rules of each family of architectures.

``base`` (the :class:`SearchSpace` every kind implements), ``cell`` (NAS-Bench-201 style),
``blocks`` (MobileNetV3 / Once-for-All style), ``loader`` (``load_space``: a spec to a space).
"""

from gennas.spaces.base import RngLike, SearchSpace, as_rng
from gennas.spaces.blocks import BlockSpace
from gennas.spaces.cell import CellSpace
from gennas.spaces.loader import SPACE_CLASSES, list_spaces, load_space, resolve_space

__all__ = ["SPACE_CLASSES", "BlockSpace", "CellSpace", "RngLike", "SearchSpace", "as_rng", "list_spaces",
           "load_space", "resolve_space"]
