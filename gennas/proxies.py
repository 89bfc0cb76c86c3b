"""Zero-cost proxies, as ``gennas.proxies`` (``import gennas.proxies``, ``gennas.proxies.score(...)``):
the public names of :mod:`gennas.evaluators.zero_cost`, where the proxies are implemented and
registered (``import gennas.proxies`` failed: the name was only an attribute of ``gennas``)."""

from gennas.evaluators.zero_cost import (
    Proxy,
    ProxyInput,
    get,
    names,
    names_a_proxy,
    register,
    score,
    score_many,
    task_of,
)

__all__ = ["Proxy", "ProxyInput", "get", "names", "names_a_proxy", "register", "score", "score_many", "task_of"]
