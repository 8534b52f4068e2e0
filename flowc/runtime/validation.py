"""Flow parameters checked and coerced against the signature's annotations, with pydantic.

Imported only when a flow with parameters is called, so ``import flowc`` stays fast.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from flowc.exceptions import ParameterTypeError

if TYPE_CHECKING:
    from flowc.runtime.flows import Flow

__all__ = ["validate_parameters"]


def validate_parameters(flow: Flow[Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """``parameters`` coerced to their annotations; ``ParameterTypeError`` names each bad one."""
    import pydantic

    annotated = {
        name: param
        for name, param in flow.signature.parameters.items()
        if param.annotation is not inspect.Parameter.empty
        and param.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        and name in parameters
    }
    if not annotated:
        return parameters
    if flow._validator is None:
        fields = {name: (param.annotation, ...) for name, param in annotated.items()}
        config = pydantic.ConfigDict(arbitrary_types_allowed=True)
        try:
            flow._validator = pydantic.create_model(  # type: ignore[call-overload]
                f"{flow.name}-parameters", __config__=config, **fields
            )
        except Exception:
            flow._validator = False  # annotations pydantic cannot use: accept values as given
    if flow._validator is False:
        return parameters
    try:
        model = flow._validator.model_validate({name: parameters[name] for name in annotated})
    except pydantic.ValidationError as exc:
        # Prefect's wording (ParameterTypeError.from_validation_error): one line per problem.
        problems = [
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        ]
        raise ParameterTypeError(
            "Flow run received invalid parameters:\n - " + "\n - ".join(problems)
        ) from None
    validated = dict(parameters)
    for name in annotated:
        validated[name] = getattr(model, name)
    return validated
