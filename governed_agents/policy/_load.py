"""Loading policies: the seed's DSL, YAML or JSON — one model, one set of error messages."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from governed_agents.policy._dsl import Located, RawRule, parse_dsl
from governed_agents.policy._errors import PolicyError
from governed_agents.policy._model import ACTIONS, AgentPolicy, PolicySet

__all__ = ["load_policy", "parse_policy", "policy_from_mapping"]


def load_policy(source: str | os.PathLike[str]) -> PolicySet:
    """Load a policy file: ``.policy`` (the DSL), ``.yaml``/``.yml`` or ``.json``."""
    path = Path(source)
    filename = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise PolicyError("no such file", filename=filename) from exc
    except IsADirectoryError as exc:
        raise PolicyError("is a directory, not a policy file", filename=filename) from exc
    except OSError as exc:
        raise PolicyError(f"cannot read policy file: {exc.strerror or exc}", filename=filename) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _line_column(raw[: exc.start].decode("utf-8", errors="replace"), None)
        raise PolicyError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x})", filename=filename, line=line,
                          column=column) from exc
    suffix = path.suffix.lower()
    if suffix == ".json":
        data, where = _read_json(text, filename)
    elif suffix in (".yaml", ".yml"):
        data, where = _read_yaml(text, filename)
    else:
        return parse_policy(text, filename=filename)
    return _from_mapping(data, filename=filename, text=text, where=where)


def parse_policy(text: str, *, filename: str = "<string>") -> PolicySet:
    """Parse the DSL: ``agent "NAME" { can "ACTION" with constraints { … } }``."""
    rules = parse_dsl(text, filename)
    return _build(rules, filename=filename, text=text)


def policy_from_mapping(data: Any, *, filename: str = "<mapping>", text: str | None = None) -> PolicySet:
    """YAML/JSON shape: ``{"agents": {"NAME": {"code_execution": {…}, "tool_use": {…}}}}``.

    Errors name the key path (``agents.NAME.code_execution.KEY``); positions are known only when
    the mapping was read from a file by :func:`load_policy`.
    """
    return _from_mapping(data, filename=filename, text=text, where={})


# Where each key of a YAML/JSON document starts (line, column; 1-based), by key path. The root
# path () is where the document starts. Only the four levels a policy has are recorded.
_Where = dict[tuple[str, ...], tuple[int, int]]
_DEPTH = 4  # agents → NAME → ACTION → CONSTRAINT


def _from_mapping(data: Any, *, filename: str, text: str | None, where: _Where) -> PolicySet:
    def fail(message: str, *path: Any) -> PolicyError:
        line, column = where.get(tuple(str(p) for p in path), (0, 0))
        return PolicyError(f"{_key_path(path)}: {message}" if path else message, filename=filename, line=line,
                           column=column)

    if not isinstance(data, dict):
        raise fail('expected a mapping with an "agents" mapping of agent name → actions')
    for key in data:
        if key != "agents":
            raise fail(f"unknown top-level key {key!r}{_nearest(str(key), ['agents']) or ' (expected agents)'}", key)
    if "agents" not in data:
        raise fail('expected a mapping with an "agents" mapping of agent name → actions')
    if not isinstance(data["agents"], dict):
        raise fail("expected a mapping of agent name → actions", "agents")
    rules: list[RawRule] = []
    for agent, actions in data["agents"].items():
        if not isinstance(actions, dict) or not actions:
            raise fail("expected a mapping of action → constraints", "agents", agent)
        for action, constraints in actions.items():
            if constraints is None:
                constraints = {}
            if not isinstance(constraints, dict):
                raise fail("expected a mapping of constraints", "agents", agent, action)
            line, column = where.get(("agents", str(agent), str(action)), (0, 0))
            rules.append(RawRule(
                str(agent), Located(str(action), line, column),
                {str(k): Located(v, *where.get(("agents", str(agent), str(action), str(k)), (0, 0)))
                 for k, v in constraints.items()},
                line, column,
            ))
    source = text if text is not None else json.dumps(data, sort_keys=True)
    return _build(rules, filename=filename, text=source, key_paths=True)


def _read_json(text: str, filename: str) -> tuple[Any, _Where]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyError(f"not valid JSON: {exc.msg}", filename=filename, line=exc.lineno,
                          column=exc.colno) from exc
    except (ValueError, RecursionError) as exc:
        raise PolicyError(f"not valid JSON: {exc}", filename=filename) from exc
    return data, _json_keys(text, filename)


def _json_keys(text: str, filename: str) -> _Where:
    """Where each key starts, read from text ``json.loads`` has accepted; a key given twice in one
    object is an error (``json`` would keep the last one silently)."""
    decoder, where = json.JSONDecoder(), {}

    def skip(i: int) -> int:
        while i < len(text) and text[i] in " \t\n\r":
            i += 1
        return i

    def value(i: int, path: tuple[str, ...]) -> int:
        i = skip(i)
        if text[i] != "{" or len(path) >= _DEPTH:
            return int(decoder.raw_decode(text, i)[1])
        i = skip(i + 1)
        seen: set[str] = set()
        while text[i] != "}":
            key, end = decoder.raw_decode(text, i)
            line, column = _line_column(text, i)
            if key in seen:
                raise PolicyError(f"{_key_path((*path, key))}: key {key!r} is given twice", filename=filename,
                                  line=line, column=column)
            seen.add(key)
            where[(*path, key)] = (line, column)
            i = skip(value(skip(end) + 1, (*path, key)))  # past the ':' and the value
            if text[i] == ",":
                i = skip(i + 1)
        return i + 1

    start = skip(0)
    where[()] = _line_column(text, start)
    value(start, ())
    return where


def _read_yaml(text: str, filename: str) -> tuple[Any, _Where]:
    try:
        import yaml
    except ImportError as exc:
        raise PolicyError("reading a YAML policy needs PyYAML (pip install pyyaml)", filename=filename) from exc
    loader: Any = None
    try:
        loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
        if node is None:
            return None, {(): (1, 1)}
        where = _yaml_keys(node, filename)
        return loader.construct_document(node), where
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        if mark is not None:
            line, column = mark.line + 1, mark.column + 1
        elif isinstance(getattr(exc, "position", None), int):  # ReaderError: a character YAML refuses
            line, column = _line_column(text, exc.position)  # type: ignore[attr-defined]
        else:
            line, column = 0, 0
        raise PolicyError(f"not valid YAML: {_yaml_problem(exc)}", filename=filename, line=line,
                          column=column) from exc
    except ValueError as exc:  # a scalar the safe constructor rejects, e.g. the date 2024-13-01
        raise PolicyError(f"not valid YAML: {exc}", filename=filename) from exc
    finally:
        if loader is not None:
            loader.dispose()


def _yaml_keys(root: Any, filename: str) -> _Where:
    """Where each key starts, from the composed YAML nodes; a key given twice in one mapping is an
    error (PyYAML would keep the last one silently)."""
    import yaml

    where: _Where = {(): (root.start_mark.line + 1, root.start_mark.column + 1)}

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if not isinstance(node, yaml.MappingNode) or len(path) >= _DEPTH:
            return
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                continue
            key, mark = key_node.value, key_node.start_mark
            if key in seen:
                raise PolicyError(f"{_key_path((*path, key))}: key {key!r} is given twice", filename=filename,
                                  line=mark.line + 1, column=mark.column + 1)
            seen.add(key)
            where[(*path, key)] = (mark.line + 1, mark.column + 1)
            walk(value_node, (*path, key))

    walk(root, ())
    return where


def _yaml_problem(exc: Exception) -> str:
    """PyYAML's message on one line, without its own position and source excerpt."""
    parts = [getattr(exc, "context", None), getattr(exc, "problem", None)]
    if any(parts):
        return ": ".join(str(p) for p in parts if p)
    if hasattr(exc, "character") and hasattr(exc, "reason"):
        character = exc.character
        shown = f"#x{character:04x}" if isinstance(character, int) else repr(character)
        return f"unacceptable character {shown}: {exc.reason}"
    return str(exc).splitlines()[0]


def _line_column(text: str, index: int | None) -> tuple[int, int]:
    """1-based line and column of ``text[index]`` (of the end of ``text`` when ``index`` is None)."""
    index = len(text) if index is None else index
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _key_path(parts: Any) -> str:
    """``agents.user_proxy.code_execution.allowed_imports[0]``; a key that is not a plain word is
    shown quoted: ``agents["my agent"]``."""
    out = ""
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(str(part)):
            out += ("." if out else "") + str(part)
        else:
            out += f"[{json.dumps(str(part), ensure_ascii=False)}]"
    return out


def _build(rules: list[RawRule], *, filename: str, text: str, key_paths: bool = False) -> PolicySet:
    """``key_paths``: the rules come from YAML/JSON, so errors start with the key path they are about."""
    by_agent: dict[str, dict[str, BaseModel]] = {}
    for rule in rules:
        action = rule.action.value
        path = ("agents", rule.agent, action) if key_paths else None
        model = ACTIONS.get(action)
        if model is None:
            raise PolicyError(_about(path, f"unknown action {action!r}{_nearest(action, ACTIONS)}; known actions: "
                                            f"{', '.join(ACTIONS)}"), filename=filename, line=rule.action.line,
                              column=rule.action.column)
        actions = by_agent.setdefault(rule.agent, {})
        if action in actions:
            raise PolicyError(f'agent "{rule.agent}" has two can "{action}" rules; merge them into one',
                              filename=filename, line=rule.line, column=rule.column)
        known = model.model_fields
        for key, located in rule.constraints.items():
            if key not in known:
                raise PolicyError(_about(path, f"unknown constraint {key!r} for {action}{_nearest(key, known)}", key),
                                  filename=filename, line=located.line, column=located.column)
        try:
            actions[action] = model.model_validate({k: v.value for k, v in rule.constraints.items()})
        except ValidationError as exc:
            error = exc.errors()[0]
            key = str(error["loc"][0]) if error["loc"] else ""
            where = rule.constraints.get(key)
            message = error["msg"].removeprefix("Value error, ")
            message = _about(path, message, *error["loc"]) if path else f"{key}: {message}"
            raise PolicyError(message, filename=filename, line=where.line if where else rule.line,
                              column=where.column if where else rule.column) from exc
    agents = {name: AgentPolicy(name=name, **actions) for name, actions in by_agent.items()}
    return PolicySet(
        agents=agents,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        source=filename if not filename.startswith("<") else None,
    )


def _about(path: tuple[str, ...] | None, message: str, *keys: Any) -> str:
    """A YAML/JSON error starts with the key path it is about; a DSL error has its position instead."""
    return f"{_key_path((*path, *keys))}: {message}" if path is not None else message


def _nearest(word: str, known: Any) -> str:
    match = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""
