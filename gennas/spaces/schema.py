"""The schema a space spec (YAML) must follow, checked at load with the line of every problem.

The spec is read with ``yaml.compose`` so that every value keeps its position in the file; a
problem raises :class:`SpecError` naming the file, the field path (``cell.ops.sep3.kernel``)
and the line. Each space kind declares the schema of its own sections (``spec_schema`` on its
class) with the small vocabulary below (:class:`Map`, :class:`DictOf`, :class:`ListOf`,
:class:`Int`, ...); :data:`OP_PARAMS` holds the op types a cell spec may use and their
parameters (the builders are in :mod:`gennas.models.layers`, kept in step by a test).
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

import yaml

from gennas.errors import GennasError

_TAG = "tag:yaml.org,2002:"
#: op names, space names: no character that the architecture strings use as a separator
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
#: :data:`NAME` in words, for the messages that refuse a name
NAME_RULE = "a letter, then letters, digits, '_'"


class SpecError(GennasError, ValueError):
    """A space spec that breaks the schema; the message names the file, the field and the line."""


@dataclass
class Context:
    """Where the spec came from and the YAML loader that builds values from its nodes."""

    source: str
    loader: yaml.SafeLoader

    def value(self, node: yaml.Node) -> Any:
        return self.loader.construct_object(node, deep=True)

    def fail(self, node: yaml.Node | None, path: str, message: str) -> NoReturn:
        line = f"line {node.start_mark.line + 1}" if node is not None else "top"
        raise SpecError(f"space spec {self.source}, {line}: {path or 'the document'}: {message}")


def _kind(node: yaml.Node) -> str:
    """What a node holds, in words, for messages."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return {"int": "an integer", "float": "a number", "bool": "a boolean", "null": "nothing (null)",
            "str": f"the text {node.value!r}"}.get(node.tag.removeprefix(_TAG), f"a {node.tag} value")


class Schema:
    """One rule; ``check(node, path, ctx)`` returns nothing and raises SpecError on a problem."""

    what = "a value"

    def check(self, node: yaml.Node, path: str, ctx: Context) -> None:
        raise NotImplementedError


@dataclass
class Scalar(Schema):
    """A scalar of one of ``tags`` (``int``, ``float``, ``bool``, ``str``) with optional bounds,
    choices or a name pattern."""

    tags: tuple[str, ...]
    what: str = "a value"
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None
    pattern: re.Pattern | None = None

    def refusal(self, value: Any) -> str | None:
        """Why a Python number ``value`` breaks this rule (None: it keeps it); for options given in
        code rather than YAML (a build option). Only numeric rules are checked so."""
        integral = isinstance(value, numbers.Integral) and not isinstance(value, bool)
        real = "float" in self.tags and isinstance(value, numbers.Real) and not isinstance(value, bool)
        if not (integral or (real and math.isfinite(value))):  # NaN passes every comparison below
            return f"must be {self.what}, got {value!r}"
        low = -math.inf if self.low is None else self.low
        high = math.inf if self.high is None else self.high
        if not low <= value <= high:
            return f"must be {self.what} from {low:g} to {high:g}, got {value!r}"
        return None

    def check(self, node: yaml.Node, path: str, ctx: Context) -> None:
        if not isinstance(node, yaml.ScalarNode) or node.tag.removeprefix(_TAG) not in self.tags:
            ctx.fail(node, path, f"must be {self.what}, got {_kind(node)}")
        value = ctx.value(node)
        if self.low is not None and value < self.low:
            ctx.fail(node, path, f"must be {self.what} >= {self.low:g}, got {value}")
        if self.high is not None and value > self.high:
            ctx.fail(node, path, f"must be {self.what} <= {self.high:g}, got {value}")
        if self.choices is not None and value not in self.choices:
            ctx.fail(node, path, f"must be one of {', '.join(map(str, self.choices))}; got {value!r}")
        if self.pattern is not None and not self.pattern.fullmatch(value):
            ctx.fail(node, path, f"{value!r} is not a valid name ({NAME_RULE})")


def Int(low: int | None = None, high: int | None = None) -> Scalar:  # noqa: N802 - reads as a type
    return Scalar(("int",), "an integer", low, high)


def Number(low: float | None = None, high: float | None = None) -> Scalar:  # noqa: N802
    return Scalar(("int", "float"), "a number", low, high)


def Bool() -> Scalar:  # noqa: N802
    return Scalar(("bool",), "true or false")


def Text(choices: tuple[str, ...] | None = None) -> Scalar:  # noqa: N802
    return Scalar(("str",), "text", choices=choices)


def Name() -> Scalar:  # noqa: N802
    return Scalar(("str",), "a name", pattern=NAME)


@dataclass
class ListOf(Schema):
    """A list of at least ``min_len`` items, each following ``item``."""

    item: Schema
    min_len: int = 1
    what: str = "a list"

    def check(self, node: yaml.Node, path: str, ctx: Context) -> None:
        if not isinstance(node, yaml.SequenceNode):
            ctx.fail(node, path, f"must be a list of {self.item.what}, got {_kind(node)}")
        if len(node.value) < self.min_len:
            ctx.fail(node, path, f"needs at least {self.min_len} item(s), got {len(node.value)}")
        for i, item in enumerate(node.value):
            self.item.check(item, f"{path}[{i}]", ctx)


def _pairs(node: yaml.Node, path: str, ctx: Context) -> list[tuple[str, yaml.Node, yaml.Node]]:
    """``(key, key node, value node)`` of a mapping node; keys must be unique text."""
    if not isinstance(node, yaml.MappingNode):
        ctx.fail(node, path, f"must be a mapping, got {_kind(node)}")
    seen: set[str] = set()
    out = []
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _TAG + "str":
            ctx.fail(key_node, path, f"keys must be text, got {_kind(key_node)}")
        key = key_node.value
        if key in seen:  # PyYAML would silently keep the last one
            ctx.fail(key_node, _join(path, key), "appears twice")
        seen.add(key)
        out.append((key, key_node, value_node))
    return out


def _find(node: yaml.Node, keys: list[str]) -> yaml.Node:
    """The key node of the field at ``keys`` below a mapping node (the deepest that exists): the
    line where the field is written, even when its value is a block mapping starting below."""
    found = node
    for key in keys:
        if not isinstance(node, yaml.MappingNode):
            break
        match = [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key]
        if not match:
            break
        found, node = match[0]
    return found


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


#: a rule across fields: ``check(value) -> None or (field inside the mapping, message)``
CrossCheck = Callable[[dict[str, Any]], "tuple[str, str] | None"]


@dataclass
class Map(Schema):
    """A mapping with known fields; a field name ending in ``?`` is optional. ``rules`` check
    relations between fields once each field is valid."""

    fields: dict[str, Schema]
    rules: tuple[CrossCheck, ...] = ()
    what: str = "a mapping"

    def check(self, node: yaml.Node, path: str, ctx: Context) -> None:
        pairs = _pairs(node, path, ctx)
        known = {name.rstrip("?"): sub for name, sub in self.fields.items()}
        found = {key: (key_node, value_node) for key, key_node, value_node in pairs}
        for key, (key_node, _) in found.items():
            if key not in known:
                ctx.fail(key_node, _join(path, key), f"unknown field; {path or 'a spec'} takes "
                                                     f"{', '.join(sorted(known))}")
        for name, sub in self.fields.items():
            key = name.rstrip("?")
            if key in found:
                sub.check(found[key][1], _join(path, key), ctx)
            elif not name.endswith("?"):
                ctx.fail(node, path, f"missing the field {key!r}")
        if self.rules:
            value = ctx.value(node)
            for rule in self.rules:
                problem = rule(value)
                if problem:
                    where, message = problem
                    ctx.fail(_find(node, where.split(".")), _join(path, where), message)


@dataclass
class DictOf(Schema):
    """A mapping from names (see :data:`NAME`) to values following ``value``."""

    value: Schema
    min_len: int = 1
    what: str = "a mapping of names"
    reserved: tuple[str, ...] = ("input", "output")

    def check(self, node: yaml.Node, path: str, ctx: Context) -> None:
        pairs = _pairs(node, path, ctx)
        if len(pairs) < self.min_len:
            ctx.fail(node, path, f"needs at least {self.min_len} entr{'y' if self.min_len == 1 else 'ies'}")
        for key, key_node, value_node in pairs:
            if not NAME.fullmatch(key) or key in self.reserved:
                ctx.fail(key_node, _join(path, key), f"is not a valid name ({NAME_RULE}; not "
                                                     f"{' or '.join(self.reserved)})")
            self.value.check(value_node, _join(path, key), ctx)


# ---------------------------------------------------------------- cell op types
#: op type -> its parameters (the builder of each is in gennas.models.layers.OP_TYPES). The
#: stride is never a parameter: the network gives it (2 on the inputs of a reduction cell).
OP_PARAMS: dict[str, dict[str, Schema]] = {
    "zero": {},
    "identity": {},
    "relu_conv_bn": {"kernel": Int(1, 15), "dilation?": Int(1, 8)},
    "avg_pool": {"kernel?": Int(1, 15)},
    "max_pool": {"kernel?": Int(1, 15)},
    # DARTS separable conv: (ReLU, depthwise k x k, pointwise 1x1, BN) twice
    "sep_conv": {"kernel": Int(1, 15)},
    # DARTS dilated conv: ReLU, depthwise k x k with dilation, pointwise 1x1, BN
    "dil_conv": {"kernel": Int(1, 15), "dilation?": Int(1, 8)},
    # MobileNetV3 inverted residual (gennas.models.mobilenet.MBConv)
    "mbconv": {"kernel": Int(1, 15), "expand": Int(1, 12), "se?": Bool(), "act?": Text(("relu", "hswish"))},
}


def _odd_kernel(spec: dict[str, Any]) -> tuple[str, str] | None:
    k = spec.get("kernel", 3)
    return None if k % 2 == 1 else ("kernel", f"must be odd (the padding keeps the size), got {k}")


class OpSpec(Schema):
    """One cell op: ``{type: <an OP_PARAMS key>, <its parameters>}``."""

    what = "an op spec {type: ..., ...}"

    def check(self, node: yaml.Node, path: str, ctx: Context) -> None:
        pairs = {key: value for key, _, value in _pairs(node, path, ctx)}
        if "type" not in pairs:
            ctx.fail(node, path, f"missing the field 'type' (one of {', '.join(OP_PARAMS)})")
        Text(tuple(OP_PARAMS)).check(pairs["type"], _join(path, "type"), ctx)
        params = OP_PARAMS[ctx.value(pairs["type"])]
        Map({"type": Text(), **params}, (_odd_kernel,)).check(node, path, ctx)


# ---------------------------------------------------------------- whole specs
def common_fields(build_options: Mapping[str, Schema]) -> dict[str, Schema]:
    """Fields every spec may have besides its kind's sections; ``small_build`` takes the
    kind's build options."""
    return {"kind": Text(), "name?": Name(), "description?": Text(), "benchmark?": Name(),
            "input_size?": Int(8, 4096), "small_build?": Map({f"{k}?": v for k, v in build_options.items()})}


def read_spec(text: str, source: str, schema_of: Callable[[str], Map | None], kinds: tuple[str, ...]) -> dict[str, Any]:
    """Parse and check a spec.

    Args:
        text: the YAML text.
        source: the file, for messages.
        schema_of: kind name -> the schema of the whole spec (None for an unknown kind).
        kinds: the known kind names, for messages.
    Returns:
        the spec as plain Python values.
    """
    try:
        loader = yaml.SafeLoader(text)  # refuses control characters here, before parsing
    except yaml.YAMLError as exc:
        raise SpecError(f"space spec {source} is not valid YAML: {exc}") from None
    try:
        try:
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:  # PyYAML's own text names "<unicode string>", not the file
            mark = exc.problem_mark or exc.context_mark
            where = f", line {mark.line + 1}" if mark else ""
            raise SpecError(f"space spec {source}{where}: not valid YAML: {exc.problem or exc.context}") from None
        except yaml.YAMLError as exc:
            raise SpecError(f"space spec {source} is not valid YAML: {exc}") from None
        ctx = Context(source, loader)
        if root is None:
            raise SpecError(f"space spec {source} is empty")
        pairs = {key: value for key, _, value in _pairs(root, "", ctx)}
        if "kind" not in pairs:
            ctx.fail(root, "", f"missing the field 'kind' (one of {', '.join(kinds)})")
        Text(kinds).check(pairs["kind"], "kind", ctx)
        schema = schema_of(ctx.value(pairs["kind"]))
        assert schema is not None  # every kind in `kinds` has a schema
        try:
            schema.check(root, "", ctx)
            return loader.construct_document(root)
        except RecursionError:  # an alias that contains itself (`a: &x [*x]`)
            raise SpecError(f"space spec {source}: a YAML alias refers to itself") from None
    finally:
        loader.dispose()


@dataclass
class KindSchema:
    """A kind's own sections and build options, joined with :func:`common_fields` by :meth:`full`."""

    sections: dict[str, Schema]
    build_options: dict[str, Scalar] = field(default_factory=dict)
    rules: tuple[CrossCheck, ...] = ()

    def full(self) -> Map:
        return Map({**common_fields(self.build_options), **self.sections}, self.rules)
