"""Search spaces declared by YAML specs: the rules of each family of architectures.

``base`` (the :class:`SearchSpace` every kind implements), ``cell`` (NAS-Bench-201 style),
``blocks`` (MobileNetV3 / Once-for-All style), ``darts`` (DARTS normal + reduction cells),
``schema`` (what a spec may hold, checked at load), ``loader`` (``load_space``: a bundled name
or a user's YAML file to a space).
"""

from gennas.spaces.base import RngLike, SearchSpace, as_rng
from gennas.spaces.blocks import BlockSpace
from gennas.spaces.cell import CellSpace
from gennas.spaces.darts import DartsSpace
from gennas.spaces.loader import (
    SPACE_CLASSES,
    known_spaces,
    list_spaces,
    load_space,
    load_space_file,
    resolve_space,
    space_by_name,
)
from gennas.spaces.schema import OP_PARAMS, SpecError

__all__ = ["OP_PARAMS", "SPACE_CLASSES", "BlockSpace", "CellSpace", "DartsSpace", "RngLike", "SearchSpace",
           "SpecError", "as_rng", "known_spaces", "list_spaces", "load_space", "load_space_file", "resolve_space",
           "space_by_name"]
