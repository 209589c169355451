"""Validation: payloads coerced to the handler's type hints; outbound models serialised; replies
to ``call(..., response_model=...)`` validated."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, LiteralString, cast

from pydantic import BaseModel, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from ..events.context import payload_of
from ..payloads.adapters import encode, validator_for
from ..payloads.fail_fast import note_payload
from ..payloads.problems import (
    MAX_REPORTED_ERRORS,
    ProblemDetail,
    ProblemDetailError,
    error_count,
    is_problem,
    reported_errors,
    with_error_count,
)
from .stage import Stage

if TYPE_CHECKING:
    from ..events.route import Route

__all__ = ["ValidationStage", "payload_converter", "response_validator", "serialise"]

_PASSTHROUGH = frozenset({dict, str, bytes, type(None)})


class ValidationStage(Stage):
    """Coerces inbound payload arguments to the handler's annotations and serialises outbound data.

    One payload parameter is validated directly (errors as pydantic reports them); several are
    validated one by one and their errors merged, each location prefixed with the parameter name.
    Too many or too few arguments fail the same way (``unexpected_positional_argument``,
    ``missing_argument``); a merged error lists at most ``MAX_REPORTED_ERRORS`` errors per
    parameter (and of extra arguments) and counts the rest (``problems.error_count``). Reserved
    events (``connect``, ``disconnect``) drop what the handler does not accept instead. Outbound,
    models are dumped to JSON-able data and ``call`` replies are validated against
    ``response_model``.
    """

    def converter(self, route: Route) -> Callable[[tuple[Any, ...]], tuple[Any, ...]] | None:
        """The route's payload conversion (see ``payload_converter``), built once."""
        return payload_converter(route)

    def single(self, route: Route) -> Callable[[Any], Any] | None:
        """The validator of the route's one payload argument, when the handler takes exactly one
        required, annotated payload parameter (the compiler's cheaper shape), else ``None``."""
        params = route.params
        if len(params) != 1 or not params[0].required or route.var_positional or route.kind != "event":
            return None
        return validator_for(params[0].annotation)

    def contribute(self, route: Route, operation: Any) -> None:
        """AsyncAPI: the messages a handler accepts and the replies it returns, described by the
        same type adapters this stage validates with. A union payload or return type gives one
        message per member; several payload parameters one message of several arguments.
        """
        import inspect

        from ..asyncapi.schemas import is_nothing, union_members
        from ..asyncapi.spec import Arguments, MessageSpec

        params = route.params
        if len(params) == 1 and not route.var_positional:
            for member in union_members(params[0].annotation):
                operation.messages.append(MessageSpec(member, "validation"))
        elif params:
            required = sum(1 for p in params if p.required)
            names = tuple(p.name for p in params)
            payload = Arguments(names, tuple(p.annotation for p in params), required)
            operation.messages.append(MessageSpec(payload, "validation"))
        elif route.var_positional:
            operation.messages.append(MessageSpec(Any, "validation"))
        else:
            operation.messages.append(MessageSpec())
        returns = route.returns
        if route.kind != "event" or returns is inspect.Parameter.empty or is_nothing(returns):
            return
        for member in union_members(returns):
            if not is_nothing(member):
                operation.replies.append(MessageSpec(member, "serialization"))


def serialise(data: Any) -> Any:
    """Outbound payload to JSON-able data: models dumped (also inside lists and tuples); dicts,
    strings and bytes as given."""
    if isinstance(data, BaseModel):
        return data.__pydantic_serializer__.to_python(data, mode="json")  # dump_model, one frame less
    if type(data) in _PASSTHROUGH:
        return data
    return encode(data)


def payload_converter(route: Route) -> Callable[[tuple[Any, ...]], tuple[Any, ...]] | None:
    """The function that turns a route's raw payload arguments into the handler's values, built
    once per route; ``None`` when the handler takes any arguments as they come."""
    params = route.params
    if route.kind == "receive":  # a simple client's receive(): the payload against response_model
        model = route.model
        if model is None:
            return None

        check = response_validator(model)

        def validate_received(args: tuple[Any, ...]) -> tuple[Any, ...]:
            return (check(payload_of(args)),)

        return validate_received
    if not params and route.var_positional:
        return None
    validators = tuple(validator_for(p.annotation) for p in params)
    if len(params) == 1 and params[0].required and not route.var_positional and not route.lenient:
        validate = validators[0]
        if validate is None:

            def check_one(args: tuple[Any, ...]) -> tuple[Any, ...]:
                if len(args) != 1:
                    _arity_error(route, args)
                return args

            return check_one

        annotation = params[0].annotation

        def validate_one(args: tuple[Any, ...]) -> tuple[Any, ...]:
            if len(args) != 1:
                _arity_error(route, args)
            try:
                return (validate(args[0]),)
            except ValidationError as exc:
                note_payload(exc, annotation, args[0])
                raise

        return validate_one

    def convert(args: tuple[Any, ...]) -> tuple[Any, ...]:
        return _convert(route, validators, args)

    return convert


def response_validator(model: Any) -> Callable[[Any], Any]:
    """The function validating a ``call`` reply (or a received payload) against ``model``, built
    once per model.

    A problem-detail reply that ``model`` does not accept raises ``ProblemDetailError``.
    """
    validate = validator_for(model)
    if validate is None:
        return _as_received

    def check(value: Any) -> Any:
        try:
            return validate(value)
        except ValidationError:
            if is_problem(value):
                raise ProblemDetailError(ProblemDetail.model_validate(value)) from None
            raise

    return check


def _as_received(value: Any) -> Any:
    return value


def _convert(
    route: Route,
    validators: tuple[Callable[[Any], Any] | None, ...],
    args: tuple[Any, ...],
) -> tuple[Any, ...]:
    params = route.params
    n = len(params)
    given = len(args)
    errors: list[InitErrorDetails] = []
    values: list[Any] = []
    total = 0
    if given > n and not route.var_positional:
        if route.lenient:
            args = args[:n]
            given = n
        else:
            errors.extend(_extra_arguments(args, n))
            total += given - n
    for i, (param, validate) in enumerate(zip(params, validators, strict=True)):
        if i >= given:
            if not param.required:
                break  # the handler's defaults fill the rest
            if not route.lenient:
                errors.append({"type": "missing_argument", "loc": (param.name,), "input": args})
                total += 1
                continue
            raw = None
        else:
            raw = args[i]
        if validate is None:
            values.append(raw)
            continue
        try:
            values.append(validate(raw))
        except ValidationError as exc:
            note_payload(exc, param.annotation, raw)
            if n == 1 and not errors:
                raise
            errors.extend(_prefixed(param.name, exc))
            total += error_count(exc)
    if errors:
        raise _merged(route.event, errors, total)
    if given > n:
        values.extend(args[n:])
    return tuple(values)


def _merged(title: str, errors: list[InitErrorDetails], total: int) -> ValidationError:
    merged = ValidationError.from_exception_data(title, errors)
    return with_error_count(merged, total) if total != len(errors) else merged


def _extra_arguments(args: tuple[Any, ...], n: int) -> list[InitErrorDetails]:
    """The errors of the arguments past the ``n`` expected, the first ``MAX_REPORTED_ERRORS``."""
    return [
        {"type": "unexpected_positional_argument", "loc": (i,), "input": args[i]}
        for i in range(n, min(len(args), n + MAX_REPORTED_ERRORS))
    ]


def _prefixed(name: str, exc: ValidationError) -> list[InitErrorDetails]:
    """``exc``'s errors with ``name`` before each location; each keeps its type, message and input.

    Past ``MAX_REPORTED_ERRORS`` errors only the first are kept, without their inputs: reading
    them all would cost more than the validation that found them.
    """
    if exc.error_count() <= MAX_REPORTED_ERRORS:
        return [
            _relocated(name, err["type"], err["msg"], err["loc"], err["input"])
            for err in exc.errors(include_url=False, include_context=False)
        ]
    return [_relocated(name, err["type"], err["msg"], err["loc"], None) for err in reported_errors(exc)]


def _relocated(name: str, kind: str, msg: str, loc: Any, value: Any) -> InitErrorDetails:
    """An error as reported, under ``name``: the type and the message stay as pydantic wrote them
    (a custom error type included), the context is already part of the message."""
    error = PydanticCustomError(cast("LiteralString", kind), cast("LiteralString", msg))
    return {"type": error, "loc": (name, *loc), "input": value}


def _arity_error(route: Route, args: tuple[Any, ...]) -> None:
    name = route.params[0].name
    if not args:
        errors: list[InitErrorDetails] = [{"type": "missing_argument", "loc": (name,), "input": args}]
        raise ValidationError.from_exception_data(route.event, errors)
    raise _merged(route.event, _extra_arguments(args, 1), len(args) - 1)
