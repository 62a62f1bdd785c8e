"""Checks every public construct applies to its props, so bad input fails at synth with the
construct and the prop named, instead of a raw ``TypeError`` from deep inside jsii or, worse, a
template that does something else (a ``str`` given where a list is expected is a ``Sequence[str]``
to a type checker and would be iterated character by character).

Each helper returns the value in the form the construct uses (a ``list`` for a sequence), and
raises ``TypeError`` for a value of the wrong type and ``ValueError`` for a value of the right type
that is out of range or contradicts another prop. Messages start with ``"<Construct>: <prop>"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def _type_name(value: object) -> str:
    return type(value).__name__


def string_list(owner: str, prop: str, value: object, *, unique: bool = False, allow_empty: bool = True) -> list[str]:
    """A list or tuple of non-empty strings; a single ``str`` is refused (not split into characters)."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{owner}: {prop} must be a list of strings, not a single string; got {value!r} (write [{value!r}])")
    if not isinstance(value, Sequence):
        raise TypeError(f"{owner}: {prop} must be a list of strings; got {_type_name(value)} {value!r}")
    items = list(value)
    for item in items:
        if not isinstance(item, str) or not item:
            raise TypeError(f"{owner}: {prop} must hold non-empty strings only; got {item!r} in {items!r}")
    if not allow_empty and not items:
        raise ValueError(f"{owner}: {prop} must not be empty")
    if unique:
        duplicates = sorted({item for item in items if items.count(item) > 1})
        if duplicates:
            raise ValueError(f"{owner}: {prop} lists {', '.join(map(repr, duplicates))} more than once")
    return items


def sequence(owner: str, prop: str, value: object, *, allow_empty: bool = True) -> list[Any]:
    """A list or tuple, its items left to the caller's own checks; a single ``str`` is refused (not
    split into characters), and so is anything that is not a sequence."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{owner}: {prop} must be a list, not a single string; got {value!r} (write [{value!r}])")
    if not isinstance(value, Sequence):
        raise TypeError(f"{owner}: {prop} must be a list; got {_type_name(value)} {value!r}")
    if not allow_empty and not value:
        raise ValueError(f"{owner}: {prop} must not be empty")
    return list(value)


def instance_list(owner: str, prop: str, value: object, kind: type[T] | tuple[type, ...], *, allow_empty: bool = True) -> list[T]:
    """A list or tuple of ``kind`` objects (a single object, or a ``str``, is refused)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"{owner}: {prop} must be a list; got {_type_name(value)} {value!r}")
    items = list(value)
    for item in items:
        if not _matches(item, kind):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise TypeError(f"{owner}: {prop} must hold {names} objects only; got {_type_name(item)} {item!r}")
    if not allow_empty and not items:
        raise ValueError(f"{owner}: {prop} must not be empty")
    return items  # type: ignore[return-value]


def string_map(owner: str, prop: str, value: object) -> dict[str, str]:
    """A mapping of strings to strings (``None`` is the caller's business)."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{owner}: {prop} must be a mapping of strings to strings; got {_type_name(value)} {value!r}")
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise TypeError(f"{owner}: {prop} must map strings to strings; got {key!r}: {item!r}")
    return dict(value)


def integer(owner: str, prop: str, value: object, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """An ``int`` (not a ``bool``, not a numeric string) within ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{owner}: {prop} must be an int; got {_type_name(value)} {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{owner}: {prop} must be at least {minimum}; got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{owner}: {prop} must be at most {maximum}; got {value}")
    return value


def boolean(owner: str, prop: str, value: object) -> bool:
    """A ``bool`` (not ``"false"``, which is truthy, nor 0/1)."""
    if not isinstance(value, bool):
        raise TypeError(f"{owner}: {prop} must be True or False; got {_type_name(value)} {value!r}")
    return value


def text(owner: str, prop: str, value: object, *, allow_empty: bool = False) -> str:
    """A ``str``; empty only when ``allow_empty``."""
    if not isinstance(value, str):
        raise TypeError(f"{owner}: {prop} must be a string; got {_type_name(value)} {value!r}")
    if not allow_empty and not value.strip():
        raise ValueError(f"{owner}: {prop} must not be empty")
    return value


_PRIMITIVES = (str, bytes, bool, int, float, list, tuple, dict, set)


def _matches(value: object, kind: type | tuple[type, ...]) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    for one in kinds:
        if getattr(one, "_is_protocol", False):
            # A jsii interface (kms.IKey, sns.ITopic...) is a Protocol that isinstance cannot check:
            # refuse what is surely wrong (an ARN string where the construct wants the object).
            if not isinstance(value, _PRIMITIVES) and value is not None:
                return True
        elif isinstance(value, one):
            return True
    return False


def instance(owner: str, prop: str, value: object, kind: type[T] | tuple[type, ...]) -> T:
    """An object of ``kind`` (for CDK props: ``cdk.Duration``, ``cdk.Size``, enums...). For a jsii
    interface such as ``kms.IKey`` only primitives are refused (a key ARN given as a ``str``, say):
    use ``kms.Key.from_key_arn`` for those."""
    if not _matches(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise TypeError(f"{owner}: {prop} must be a {names}; got {_type_name(value)} {value!r}")
    return value  # type: ignore[return-value]


def not_both(owner: str, first: str, first_value: object, second: str, second_value: object, why: str) -> None:
    """Refuse two props that contradict each other (an existing resource and a setting of the one
    the construct would create, for example): ``why`` says what the second would not do."""
    if first_value is not None and second_value is not None and second_value is not False:
        raise ValueError(f"{owner}: pass {first} or {second}, not both ({why})")


def no_effect(owner: str, prop: str, value: Any, default: Any, *, unless: str) -> None:
    """Refuse a prop set to something other than its default where it would have no effect."""
    if value != default:
        raise ValueError(f"{owner}: {prop}={value!r} has no effect {unless}; leave it out")
