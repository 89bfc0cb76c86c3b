"""The designer: guided generation (:mod:`~gennas.design.designer`), the verify-and-refit loop
(:mod:`~gennas.design.loop`) and its batch acquisition (:mod:`~gennas.design.acquisition`)."""
