"""Argument annotations that change how a future in an argument is treated.

``unmapped`` keeps an iterable static in ``.map``; ``allow_failure`` lets a downstream run even
if that upstream failed (it receives the exception); ``quote`` hides a value from resolution;
``opaque`` resolves a future (or state) but never looks inside the value it gives.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

__all__ = ["BaseAnnotation", "allow_failure", "opaque", "quote", "unmapped"]

T = TypeVar("T")


class BaseAnnotation(Generic[T]):
    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value

    def unwrap(self) -> T:
        return self.value

    def rewrap(self, value: Any) -> BaseAnnotation[Any]:
        return type(self)(value)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.value == other.value  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), id(self.value)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.value,))


class unmapped(BaseAnnotation[T]):
    """Pass the same value to every run of ``.map`` instead of iterating over it."""

    __slots__ = ()

    def __getitem__(self, _index: Any) -> T:
        return self.value


class allow_failure(BaseAnnotation[T]):
    """Run the downstream task even if this upstream fails; it receives the exception."""

    __slots__ = ()


class quote(BaseAnnotation[T]):
    """Pass the value as it is: no futures inside it are resolved and no edges recorded."""

    __slots__ = ()


class opaque(BaseAnnotation[T]):
    """Resolve this future (or state) to its result, but do not search that value for more.

    For large results (big dicts, data frames) the search for nested futures costs more than
    the task; ``opaque(future)`` still records the upstream edge and waits for it.
    """

    __slots__ = ()
