"""Which flow ``flowc run FILE`` runs when the file has several, decided from its source.

A flow file usually says what it runs: its ``if __name__ == "__main__":`` block calls one flow
(often with arguments), or one flow calls the others as subflows. This module reads that from
the source with the stdlib :mod:`ast` (the runtime never imports libcst) and never runs the
``__main__`` block. The rules, in order:

1. the flow the ``__main__`` block calls (directly, or through functions of the file it calls,
   such as ``asyncio.run(main())``); its first call's literal arguments become parameters;
2. else, among the file's flows, the one no other flow of the file calls;
3. else the choice is ambiguous: the caller lists the flows.

Names are the module-level names the source uses; :func:`resolve` maps them to the flows the
imported module binds to them.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

__all__ = [
    "Choice",
    "EntryCall",
    "FileShape",
    "choice_note",
    "choose",
    "main_arguments",
    "read_shape",
    "static_choice",
]

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class EntryCall:
    """A call of a module-level name in the ``__main__`` block (or a function it calls)."""

    name: str
    line: int
    #: literal arguments: positional ones by index (as ``"#0"``), keyword ones by name.
    positional: tuple[Any, ...] = ()
    keywords: dict[str, Any] = field(default_factory=dict)
    #: source text of arguments that are not literals (flowc cannot know them without running).
    opaque: tuple[str, ...] = ()
    #: ``name.with_options(...)(...)``: the options when all are literals, else None.
    options: dict[str, Any] | None = None


@dataclass(frozen=True)
class FileShape:
    """What the source says about its flows' callers."""

    #: calls the ``__main__`` block makes of module-level names, in source order.
    main_calls: tuple[EntryCall, ...]
    #: module-level name -> module-level names its function body uses (functions only).
    uses: dict[str, frozenset[str]]
    #: the file has an ``if __name__ == "__main__":`` block (``--main`` would run it).
    has_main: bool = False
    #: top-level functions decorated ``@flow``/``@x.flow(...)`` -> their parameter names.
    flow_defs: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def main_names(self) -> list[str]:
        """Distinct names the ``__main__`` block calls, in order of their first call."""
        return list(dict.fromkeys(call.name for call in self.main_calls))

    def first_main_call(self, name: str) -> EntryCall | None:
        return next((call for call in self.main_calls if call.name == name), None)

    def reaches(self, source: str, flows: Iterable[str]) -> set[str]:
        """The flow names the function ``source`` uses, directly or through non-flow functions."""
        targets = set(flows)
        found: set[str] = set()
        seen = {source}
        stack = list(self.uses.get(source, ()))
        while stack:
            name = stack.pop()
            if name in seen:
                continue
            seen.add(name)
            if name in targets:
                found.add(name)
            else:
                stack.extend(self.uses.get(name, ()))
        return found


@dataclass(frozen=True)
class Choice(Generic[K]):
    """The flows left after the rules: one when decided; the ``__main__`` call that applies."""

    flows: list[K]
    #: the first ``__main__`` call of the chosen flow (its literal arguments are parameters).
    call: EntryCall | None
    #: which rule decided: ``"__main__"``, ``"root"`` (no other flow calls it), or ``"only"``.
    rule: str


def choose(
    shape: FileShape | None,
    candidates: Sequence[K],
    bound: Mapping[str, K],
    body: Mapping[K, str],
) -> Choice[K]:
    """Apply the module's rules to ``candidates`` (flows, in source order).

    ``bound`` maps each module-level name to the flow bound to it (the ``__main__`` block may
    call a flow by any of its names, an imported one too); ``body`` maps a flow to the name of
    the function whose body is its code.
    """
    if shape is None:
        return Choice(list(candidates), None, "only")
    called = list(dict.fromkeys(bound[name] for name in shape.main_names() if name in bound))
    pool, rule = (called, "__main__") if called else (list(candidates), "only")
    if len(pool) > 1:
        names_of: dict[K, set[str]] = {}
        for name, flow in bound.items():
            names_of.setdefault(flow, set()).add(name)
        all_flow_names = set(bound)
        calls = {
            flow: shape.reaches(body[flow], all_flow_names) if flow in body else set()
            for flow in pool
        }
        roots = [
            flow
            for flow in pool
            if not any(calls[other] & names_of.get(flow, set()) for other in pool if other != flow)
        ]
        if len(roots) == 1:
            pool, rule = roots, "root" if rule == "only" else rule
        elif roots:
            pool = roots
    call = None
    if len(pool) == 1:
        call = next((item for item in shape.main_calls if bound.get(item.name) == pool[0]), None)
    return Choice(pool, call, rule)


def main_arguments(
    signature: inspect.Signature, entry: EntryCall | None
) -> tuple[dict[str, Any], list[str]]:
    """The ``__main__`` call's literal arguments by parameter name, and what it passes besides.

    Arguments flowc cannot know without running the block (an expression, ``*args``) are
    left to the flow's defaults; they are returned as source text for messages.
    """
    if entry is None:
        return {}, []
    positional = [
        p.name
        for p in signature.parameters.values()
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    values: dict[str, Any] = {}
    unknown = list(entry.opaque)
    for index, value in enumerate(entry.positional):
        if index < len(positional):
            values[positional[index]] = value
        else:
            unknown.append(repr(value))
    values.update(entry.keywords)
    return values, unknown


def choice_note(
    path: object, label: str, signature: inspect.Signature, entry: EntryCall, given: Iterable[str]
) -> str:
    """The line ``flowc run`` says when the ``__main__`` block decided the flow or its arguments."""
    from_main, unknown = main_arguments(signature, entry)
    overridden = set(given)
    used = {name: value for name, value in from_main.items() if name not in overridden}
    line = f"{path}:{entry.line}: running flow {label!r} as the __main__ block calls it"
    if used:
        line += " with " + ", ".join(f"{name}={value!r}" for name, value in used.items())
    if unknown:
        line += (
            f"; not evaluated (defaults used): {', '.join(unknown)} — run the block itself "
            "with --main"
        )
    return line


def read_shape(source: str, filename: str = "<flow file>") -> FileShape | None:
    """The file's shape, or None when it does not parse (loading it reports the error)."""
    try:
        tree = ast.parse(source, filename)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # loading the file reports what is wrong with it
    functions = _module_functions(tree)
    uses = {name: frozenset(_names_used(node)) for name, node in functions.items()}
    calls: list[EntryCall] = []
    guards = [statement for statement in tree.body if _is_main_guard(statement)]
    for guard in guards:
        assert isinstance(guard, ast.If)
        calls.extend(_calls_in(guard.body, functions, frozenset()))
    flow_defs = {
        name: tuple(arg.arg for arg in [*node.args.posonlyargs, *node.args.args])
        for name, node in functions.items()
        if any(_decorator_name(decorator) == "flow" for decorator in node.decorator_list)
    }
    return FileShape(tuple(calls), uses, bool(guards), flow_defs)


def static_choice(source: str) -> tuple[str, dict[str, Any]] | None:
    """Before the file is imported: the flow function the rules pick, and its main arguments.

    ``flowc run`` compiles that flow's plan (the compiler needs a name when the file has
    several flows); the run itself decides again on the imported module, which also sees
    flows the source alone cannot (imported ones, ``with_options`` copies).
    """
    shape = read_shape(source)
    if shape is None or len(shape.flow_defs) < 2:
        return None
    names = list(shape.flow_defs)
    choice = choose(shape, names, {name: name for name in names}, {name: name for name in names})
    if len(choice.flows) != 1:
        return None
    flow = choice.flows[0]
    arguments: dict[str, Any] = {}
    if choice.call is not None:
        arguments.update(zip(shape.flow_defs[flow], choice.call.positional, strict=False))
        arguments.update(choice.call.keywords)
    return flow, arguments


def _decorator_name(node: ast.expr) -> str | None:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    return None


def _module_functions(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions[node.name] = node
    return functions


def _is_main_guard(node: ast.stmt) -> bool:
    """``if __name__ == "__main__":`` (either order of the comparison)."""
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    test = node.test
    if len(test.ops) != 1 or not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, *test.comparators]
    has_name = any(isinstance(side, ast.Name) and side.id == "__name__" for side in sides)
    has_main = any(isinstance(side, ast.Constant) and side.value == "__main__" for side in sides)
    return has_name and has_main


def _names_used(function: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[str]:
    """Names a function's body loads: the module-level ones among them are what it may call."""
    for statement in function.body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                yield node.id


def _called_name(call: ast.Call) -> str | None:
    """``name(...)`` or ``name.with_options(...)(...)``: the module-level name called."""
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if (
        isinstance(func, ast.Call)
        and isinstance(func.func, ast.Attribute)
        and func.func.attr == "with_options"
        and isinstance(func.func.value, ast.Name)
    ):
        return func.func.value.id
    return None


def _calls_in(
    statements: list[ast.stmt],
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef],
    followed: frozenset[str],
) -> Iterator[EntryCall]:
    """Calls in ``statements``, following calls of the file's own functions (once each)."""
    for statement in statements:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        calls = [node for node in ast.walk(statement) if isinstance(node, ast.Call)]
        for call in sorted(calls, key=lambda node: (node.lineno, node.col_offset)):
            name = _called_name(call)
            if name is None:
                continue
            yield _entry_call(name, call)
            if name in functions and name not in followed:
                yield from _calls_in(functions[name].body, functions, followed | {name})


def _entry_call(name: str, call: ast.Call) -> EntryCall:
    positional: list[Any] = []
    keywords: dict[str, Any] = {}
    opaque: list[str] = []
    literal_so_far = True
    for argument in call.args:
        value = _literal(argument)
        if value is _NOT_LITERAL or not literal_so_far:
            literal_so_far = False  # later positions cannot be placed without this one
            opaque.append(_text(argument))
        else:
            positional.append(value)
    for keyword in call.keywords:
        if keyword.arg is None:
            opaque.append(f"**{_text(keyword.value)}")
            continue
        if keyword.arg == "return_state":
            continue
        value = _literal(keyword.value)
        if value is _NOT_LITERAL:
            opaque.append(f"{keyword.arg}={_text(keyword.value)}")
        else:
            keywords[keyword.arg] = value
    options = _with_options(call)
    return EntryCall(name, call.lineno, tuple(positional), keywords, tuple(opaque), options)


def _with_options(call: ast.Call) -> dict[str, Any] | None:
    """The literal keyword arguments of ``x.with_options(...)`` in ``x.with_options(...)(...)``."""
    if not isinstance(call.func, ast.Call):
        return None
    options: dict[str, Any] = {}
    for keyword in call.func.keywords:
        value = _literal(keyword.value)
        if keyword.arg is None or value is _NOT_LITERAL:
            return None
        options[keyword.arg] = value
    return options if not call.func.args else None


_NOT_LITERAL = object()
_MAX_TEXT = 60


def _text(node: ast.expr) -> str:
    """An argument's source text for a message, shortened; never fails on a deep expression."""
    try:
        text = ast.unparse(node)
    except (RecursionError, ValueError):
        return "…"
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def _literal(node: ast.expr) -> Any:
    if isinstance(node, ast.Starred):
        return _NOT_LITERAL
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NOT_LITERAL
