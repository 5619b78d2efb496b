"""IR objects built as ``model_construct`` builds them, at a fraction of its cost.

The analyser makes every operation itself, with the right types, so it skips pydantic's validation
(``model_construct``). ``model_construct`` still walks every field of the class, its aliases and
defaults, on each call: a third of the analysis of a two-line snippet. Here that walk is done once
per class; a call copies the defaults and sets the given values, in the class's field order, as
``model_construct`` does. A class this cannot copy faithfully (aliases, a post-init hook), or a
call that leaves out a required field or one with a default factory, or names no field, goes through
``model_construct`` itself (tests/analysis/test_build.py holds the two to the same result).
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["construct"]

M = TypeVar("M", bound=BaseModel)

# The slots every pydantic model has, set through their descriptors: object.__setattr__ would look
# each one up on the class first (a third of this function's time).
_SLOTS = BaseModel.__dict__
_set_dict = _SLOTS["__dict__"].__set__
_set_fields_set = _SLOTS["__pydantic_fields_set__"].__set__
_set_extra = _SLOTS["__pydantic_extra__"].__set__
_set_private = _SLOTS["__pydantic_private__"].__set__
_PLANS: dict[type, tuple[dict[str, Any], frozenset[str], frozenset[str]] | None] = {}


def _plan(cls: type[BaseModel]) -> tuple[dict[str, Any], frozenset[str], frozenset[str]] | None:
    """(defaults in field order, required names, all names), or None when only model_construct will do."""
    if cls.__pydantic_post_init__ or cls.__pydantic_root_model__ or cls.model_config.get("extra") == "allow":
        return None
    defaults: dict[str, Any] = {}
    required = set()
    for name, field in cls.__pydantic_fields__.items():
        if field.alias is not None or field.validation_alias is not None:
            return None
        if field.is_required() or field.default_factory is not None:
            required.add(name)  # a default factory runs in model_construct: here the value must be given
        defaults[name] = field.default  # a required field's slot keeps the order; it is always given
    return defaults, frozenset(required), frozenset(defaults)


def construct(cls: type[M], values: dict[str, Any]) -> M:
    """``cls.model_construct(**values)``: the same object, field values in the same order."""
    try:
        plan = _PLANS[cls]
    except KeyError:
        plan = _PLANS[cls] = _plan(cls)
    if plan is None:
        return cls.model_construct(**values)
    defaults, required, names = plan
    given = values.keys()
    if not (required <= given <= names):
        return cls.model_construct(**values)
    model = cls.__new__(cls)
    _set_dict(model, {**defaults, **values})
    _set_fields_set(model, set(given))
    _set_extra(model, None)
    _set_private(model, None)
    return model
