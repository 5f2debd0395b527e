"""Configuration: YAML files with a source for every hyperparameter, typed dataclasses, ``--set``.

A tracker (or dataset, or training recipe) declares its hyperparameters as a
dataclass. Its YAML file under ``configs/`` gives each value with its source::

    params:
      scale_step: {value: 1.0375, source: "SiamFC paper Sec. 2.4; siamfc-pytorch siamfc.py L84"}
      rpn:                                  # nested dataclass
        anchor_ratios: {value: [0.33, 0.5, 1, 2, 3], source: "..."}

A leaf may also be a plain value (user config files, ``--config``). Overrides
``key=value`` (dotted keys for nested groups, values parsed as YAML) come last.
Unknown keys and values of the wrong type raise :class:`ConfigError` naming the key,
the file and the valid keys.
"""
from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

import yaml

from .errors import ConfigError

LEAF_KEYS = {"value", "source"}


def read_yaml(path: Union[str, Path]) -> Dict[str, Any]:
    """Read a YAML mapping; syntax errors name the file and line."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{line}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def is_leaf(node: Any) -> bool:
    return isinstance(node, dict) and "value" in node and set(node) <= LEAF_KEYS


def split_sources(tree: Dict[str, Any], prefix: str = "") -> Tuple[Dict[str, Any], Dict[str, Optional[str]]]:
    """Split ``{key: {value, source}}`` trees into a plain value tree and a flat ``{dotted key: source}``."""
    values: Dict[str, Any] = {}
    sources: Dict[str, Optional[str]] = {}
    for k, v in (tree or {}).items():
        key = f"{prefix}{k}"
        if is_leaf(v):
            values[k] = v["value"]
            sources[key] = v.get("source")
        elif isinstance(v, dict):
            values[k], sub = split_sources(v, key + ".")
            sources.update(sub)
        else:
            values[k] = v
            sources[key] = None
    return values, sources


def parse_override(text: str) -> Tuple[List[str], Any]:
    """``"a.b=1.5"`` -> (["a", "b"], 1.5). The value is parsed as YAML (``true``, ``[1, 2]``...)."""
    if "=" not in text:
        raise ConfigError(f"--set '{text}': expected key=value")
    key, _, raw = text.partition("=")
    key = key.strip()
    if not key:
        raise ConfigError(f"--set '{text}': empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.split("."), value


def merge(base: Dict[str, Any], extra: Dict[str, Any]) -> Dict[str, Any]:
    out = dict(base)
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def _set_path(tree: Dict[str, Any], keys: List[str], value: Any) -> None:
    node = tree
    for k in keys[:-1]:
        nxt = node.get(k)
        if not isinstance(nxt, dict):
            nxt = {}
            node[k] = nxt
        node = nxt
    node[keys[-1]] = value


def field_names(cls) -> List[str]:
    return [f.name for f in dataclasses.fields(cls)]


def build(cls, values: Dict[str, Any], origin: str = "config", prefix: str = ""):
    """Build dataclass ``cls`` from a plain value tree, checking keys and types."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls} is not a dataclass")
    hints = typing.get_type_hints(cls)
    names = field_names(cls)
    kwargs = {}
    for k, v in (values or {}).items():
        if k not in names:
            valid = ", ".join(prefix + n for n in names)
            raise ConfigError(f"{origin}: unknown key '{prefix}{k}'; valid keys: {valid}")
        kwargs[k] = _coerce(v, hints[k], f"{prefix}{k}", origin)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{origin}: {exc}") from None


def load_config(cls, files: Iterable[Union[str, Path, None]] = (), overrides: Iterable[str] = (),
                section: str = "params"):
    """Build ``cls`` from YAML files (later files win) and ``key=value`` overrides.

    Each file's ``section`` mapping holds the values (a file without that key is read
    whole). Returns the dataclass instance.
    """
    values: Dict[str, Any] = {}
    origin = "defaults"
    for f in files:
        if f is None:
            continue
        data = read_yaml(f)
        tree = data.get(section, data) if section else data
        if not isinstance(tree, dict):
            raise ConfigError(f"{f}: '{section}' must be a mapping")
        plain, _ = split_sources(tree)
        values = merge(values, plain)
        origin = str(f)
        build(cls, values, origin)  # validate each file as it comes
    for ov in overrides:
        keys, value = parse_override(ov)
        _set_path(values, keys, value)
        build(cls, values, f"--set {ov}")
    return build(cls, values, origin)


def to_dict(cfg) -> Dict[str, Any]:
    return dataclasses.asdict(cfg)


def missing_sources(tree: Dict[str, Any]) -> List[str]:
    """Dotted keys of leaves that carry no ``source`` (used by the config tests)."""
    _, sources = split_sources(tree)
    return [k for k, s in sources.items() if not s]


def _coerce(value: Any, tp: Any, key: str, origin: str) -> Any:
    err = ConfigError(f"{origin}: key '{key}' expects {_type_name(tp)}, got {value!r}")
    origin_tp = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin_tp is Union:
        if value is None and type(None) in args:
            return None
        for a in args:
            if a is type(None):
                continue
            try:
                return _coerce(value, a, key, origin)
            except ConfigError:
                continue
        raise err
    if origin_tp is typing.Literal:
        if value in args:
            return value
        raise ConfigError(f"{origin}: key '{key}' must be one of {list(args)}, got {value!r}")
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise err
        return build(tp, value, origin, prefix=key + ".")
    if origin_tp in (list, List, tuple, Tuple) or tp in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise err
        if origin_tp in (tuple, Tuple) and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise err
            return tuple(_coerce(v, a, key, origin) for v, a in zip(value, args))
        inner = args[0] if args else Any
        seq = [_coerce(v, inner, key, origin) for v in value]
        return tuple(seq) if (origin_tp in (tuple, Tuple) or tp is tuple) else seq
    if origin_tp in (dict, Dict) or tp is dict:
        if not isinstance(value, dict):
            raise err
        return dict(value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise err
    if tp is int:
        if isinstance(value, bool):
            raise err
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise err
    if tp is float:
        if isinstance(value, bool):
            raise err
        if isinstance(value, (int, float)):
            return float(value)
        raise err
    if tp is str:
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raise err
    if isinstance(tp, type) and isinstance(value, tp):
        return value
    raise err


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")
