"""A flow's parameters for ``flowc run``: ``--param`` texts and ``__main__`` arguments, checked.

The one rule for a ``--param`` value lives here, for every command: JSON when the text parses
as JSON, else the text, and a ``str`` parameter keeps ``123`` as text. ``flowc graph`` and the
other compile-side commands apply it without a signature (the CLI's ``flowc.cli.targets``);
``flowc run`` applies it per parameter of the flow it chose, here.
"""

from __future__ import annotations

import inspect
import json
from typing import TYPE_CHECKING, Any

from flowc.exceptions import ParameterTypeError
from flowc.runtime import selection
from flowc.runtime.modules import FlowcUsageError

if TYPE_CHECKING:
    from flowc.runtime.flows import Flow

__all__ = ["check_params", "param_value"]


def _wants_text(parameter: inspect.Parameter | None) -> bool:
    return parameter is not None and parameter.annotation in (str, "str")


def param_value(text: str, parameter: inspect.Parameter | None = None) -> Any:
    """JSON when the text parses as JSON, else the text; a ``str`` parameter keeps ``123`` text."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # the CLI refuses deep nesting before it gets here
        return text
    if _wants_text(parameter) and not isinstance(value, str):
        return text
    return value


def check_params(
    flow: Flow[Any],
    given: dict[str, str],
    entry: selection.EntryCall | None = None,
) -> dict[str, Any]:
    """The parameters to call ``flow`` with: ``--param`` values over the ``__main__`` call's.

    Names are checked here (a name the flow does not take, a required one missing: exit 2, as
    Prefect refuses such a call before any flow run exists). Values are validated by the
    flow call itself: a value of the wrong type gives a Failed flow run, as in Prefect.
    """
    signature = flow.signature.parameters
    by_name = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.values())
    named = [p.name for p in signature.values() if p.kind in by_name]
    for name in given:
        if name not in named and not takes_any:
            known = f"its parameters: {', '.join(named)}" if named else "it takes no parameters"
            raise FlowcUsageError(f"flow {flow.name!r} has no parameter {name!r} ({known})")
    from_main, unknown = selection.main_arguments(flow.signature, entry)
    values = {**from_main, **{n: param_value(t, signature.get(n)) for n, t in given.items()}}
    for p in signature.values():
        if p.kind in by_name and p.default is inspect.Parameter.empty and p.name not in values:
            hint = ""
            if unknown:
                hint = (
                    f" (the __main__ block passes {', '.join(unknown)}, which flowc does not "
                    "evaluate without running it; or run the block with --main)"
                )
            raise FlowcUsageError(
                f"flow {flow.name!r} needs parameter {p.name!r}: pass --param {p.name}=VALUE" + hint
            )
    try:
        flow.bind((), values)
    except ParameterTypeError as exc:
        raise FlowcUsageError(f"bad --param: {exc}") from None
    return values
