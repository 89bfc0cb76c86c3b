"""The designer: guided generation (:mod:`~gennas.design.designer`), the verify-and-refit loop
(:mod:`~gennas.design.loop`) and its batch acquisition (:mod:`~gennas.design.acquisition`)."""

from gennas._lazy import lazy_exports, own_modules

__getattr__, __dir__ = lazy_exports(__name__, {}, own_modules(__path__))
