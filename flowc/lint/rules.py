"""The lint rules: each reads the compiler's facts and carries its own VALID/INVALID examples.

Examples are whole files; in an INVALID one, ``# expect: FCnnn`` ends each line the rule must
report. The same examples become the tests (``tests/lint/test_rules.py``) and the doc pages
(``python -m flowc.lint.docs`` writes ``docs/rules/FCnnn.md``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from flowc.lint.model import Finding

if TYPE_CHECKING:
    from flowc.lint.engine import Facts

__all__ = ["RULES", "Rule", "by_code", "known_code"]

DOCS_URL = "https://flowc.dev/rules/{code}"
_HEAD = (
    "from prefect import flow, task\nfrom prefect.futures import wait\n\n\n"
    "@task\ndef add(x, y=1):\n    return x + y\n\n\n"
)


class Rule:
    """A rule: a code, a kebab-case name, a one-line summary, examples, and ``check``."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    explanation: ClassVar[str] = ""
    fixable: ClassVar[bool] = False
    VALID: ClassVar[list[str]] = []
    INVALID: ClassVar[list[str]] = []

    @classmethod
    def url(cls) -> str:
        return DOCS_URL.format(code=cls.code)

    def finding(self, path: str, line: int, col: int, message: str, **data: object) -> Finding:
        return Finding(self.code, message, path, line, col, data=dict(data))

    def notes(self, facts: Facts, kind: str) -> list[Finding]:
        return [
            self.finding(n.path, n.line, n.col, n.message) for n in facts.notes if n.kind == kind
        ]

    def check(self, facts: Facts) -> list[Finding]:
        raise NotImplementedError


class UnresolvedTerminalFuture(Rule):
    code = "FC001"
    name = "unresolved-terminal-future"
    summary = "A future from .submit()/.map() is not resolved on every path out of its function"
    fixable = True
    explanation = """\
Prefect resolves a future's upstreams when the future is resolved, so only *terminal*
futures need resolving: return them (a list, tuple, dict or set of them counts), call
`.result()` or `.wait()`, pass them to `wait()`, consume them with an `as_completed` loop
that runs to the end, or pass them on to a task or subflow whose own run is resolved (a
direct call, a resolved future, `wait_for=`). The rule follows each path to the function's
exits: a future resolved in one branch only, overwritten by the next iteration of a loop, or
left behind by an early `break` or `return` is reported at the call that created it. Helper
functions are followed into. Upstreams of a reported future are not reported again.
The fix (`--fix`) inserts `wait([...])` before each exit where the futures are pending."""
    VALID = [
        _HEAD + "@flow\ndef ok():\n    a = add.submit(1)\n    b = add.submit(a)\n    return b\n",
        _HEAD + "@flow\ndef mapped(xs: list[int]):\n    add.map(xs).wait()\n",
        _HEAD + "@flow\ndef collected(xs: list[int]):\n    futures = []\n    for x in xs:\n"
        "        futures.append(add.submit(x))\n    wait(futures)\n",
    ]
    INVALID = [
        _HEAD + "@flow\ndef leak():\n    add.submit(1)  # expect: FC001\n",
        _HEAD + "@flow\ndef one_branch(flag: bool):\n    f = add.submit(1)  # expect: FC001\n"
        "    if flag:\n        f.result()\n",
        _HEAD + "@flow\ndef overwritten(xs: list[int]):\n    for x in xs:\n"
        "        f = add.submit(x)  # expect: FC001\n    return f.result()\n",
    ]

    def check(self, facts: Facts) -> list[Finding]:
        out = []
        for entry in facts.unresolved:
            task = entry["task"]
            if entry["lost"]:
                why = (
                    "is overwritten in a loop before it is resolved: collect the futures "
                    "in a list and wait() for them"
                )
            elif entry["partial"]:
                why = (
                    "is not resolved on every path: return it, call .result() or .wait(), "
                    "or pass it to wait() on each path"
                )
            else:
                why = (
                    "is never resolved: return it, call .result() or .wait(), or pass it to wait()"
                )
            out.append(
                self.finding(
                    entry["path"],
                    entry["line"],
                    entry["col"],
                    f"future of {task!r} {why}",
                    function=entry["function"],
                    fixable=entry["fixable"],
                    exits=[list(e) for e in entry["exits"]],
                )
            )
        return out


class FutureUsedAsValue(Rule):
    code = "FC002"
    name = "future-used-as-value"
    summary = "A future is used where its value was meant"
    explanation = """\
A `PrefectFuture` is not the task's result: it is always true in a condition, it cannot be
added or compared, and `print`/f-strings show the future object. Call `.result()` first."""
    VALID = [
        _HEAD + "@flow\ndef ok():\n    f = add.submit(1)\n    if f.result() > 1:\n"
        "        print(f.result())\n"
    ]
    INVALID = [
        _HEAD + "@flow\ndef cond():\n    f = add.submit(1)\n    if f:  # expect: FC002\n"
        "        pass\n    return f\n",
        _HEAD
        + "@flow\ndef arith():\n    f = add.submit(1)\n    return f, f + 1  # expect: FC002\n",
        _HEAD + "@flow\ndef shown():\n    f = add.submit(1)\n"
        "    print(f'got {f}')  # expect: FC002\n    return f\n",
    ]

    def check(self, facts: Facts) -> list[Finding]:
        return self.notes(facts, "value-use")


class MapArguments(Rule):
    code = "FC003"
    name = "map-arguments"
    summary = ".map() without an iterable, over iterables of different lengths, or over a str/dict"
    explanation = """\
`.map()` runs the task once per element of its iterable arguments: with none it raises
`MappingMissingIterable`; iterables of different lengths fail; a string is not iterated and
a dict maps over its keys only. Wrap constant arguments in `unmapped()`."""
    VALID = [_HEAD + "@flow\ndef ok():\n    return add.map([1, 2], y=[3, 4])\n"]
    INVALID = [
        _HEAD + "@flow\ndef lengths():\n    return add.map([1, 2, 3], y=[1, 2])  # expect: FC003\n",
        _HEAD + "@flow\ndef none():\n    return add.map(1)  # expect: FC003\n",
        _HEAD + "@flow\ndef text():\n    return add.map('abc')  # expect: FC003\n",
    ]

    def check(self, facts: Facts) -> list[Finding]:
        return self.notes(facts, "map-arguments")


class TaskCallSignature(Rule):
    code = "FC004"
    name = "task-call-signature"
    summary = "A task or flow is called with arguments its signature does not accept"
    explanation = """\
Calls, `.submit()` and `.map()` bind their arguments to the task's parameters: an unknown
keyword, a missing required argument or too many positional ones fail at run time. A task
parameter named `wait_for` or `return_state` is shadowed by Prefect's own keywords."""
    VALID = [_HEAD + "@flow\ndef ok():\n    return add.submit(1, y=2)\n"]
    INVALID = [
        _HEAD + "@flow\ndef kw():\n    return add.submit(1, z=2)  # expect: FC004\n",
        _HEAD + "@flow\ndef missing():\n    return add()  # expect: FC004\n",
        "from prefect import task\n\n\n@task\ndef step(x, wait_for=None):  # expect: FC004\n"
        "    return x\n",
    ]

    def check(self, facts: Facts) -> list[Finding]:
        from flowc.compiler.discovery import parameters_of
        from flowc.compiler.values import TaskRef

        out = self.notes(facts, "signature")
        module = facts.module
        if module is None:
            return out
        for value in module.symbols.values():
            if not isinstance(value, TaskRef) or value.task.func is None:
                continue
            func = value.task.func
            if func.module is not module:
                continue
            for param in parameters_of(func):
                if param.name in ("wait_for", "return_state"):
                    line, col = module.position(func.node, func.top)
                    out.append(
                        self.finding(
                            module.path,
                            line,
                            col,
                            f"task {value.task.name!r} has a parameter named {param.name!r}, "
                            "which Prefect reserves: rename it",
                        )
                    )
        return out


class SharedStateInTask(Rule):
    code = "FC005"
    name = "shared-state-in-task"
    summary = "A task assigns to a global or mutates a module-level mutable object"
    explanation = """\
Tasks of a flow run concurrently (the default task runner is a thread pool; on processes,
Dask or Ray each worker has its own copy): a task that changes module state races with
other runs or silently changes nothing. Return values instead and combine them in the flow."""
    VALID = [
        _HEAD + "@task\ndef collect(x):\n    seen = []\n    seen.append(x)\n"
        "    return seen\n\n\n@flow\ndef ok():\n    return collect(1)\n"
    ]
    INVALID = [
        "from prefect import flow, task\n\nSEEN = []\n\n\n@task\ndef record(x):\n"
        "    SEEN.append(x)  # expect: FC005\n\n\n@flow\ndef bad():\n    return record(1)\n",
        "from prefect import flow, task\n\nTOTAL = 0\n\n\n@task\ndef bump(x):\n"
        "    global TOTAL\n    TOTAL += x  # expect: FC005\n\n\n@flow\ndef bad():\n"
        "    return bump(1)\n",
    ]

    def check(self, facts: Facts) -> list[Finding]:
        from flowc.lint.shared import shared_state

        if facts.module is None:
            return []
        return [
            self.finding(facts.path, line, col, message)
            for line, col, message in shared_state(facts.module)
        ]


class SubmitThenResult(Rule):
    code = "FC006"
    name = "submit-then-result"
    summary = "x.submit(...).result() in a loop: the runs happen one at a time"
    explanation = """\
Resolving each future right after submitting it waits for the task before the next one is
submitted: the loop is sequential. Submit all (or `.map()`), then resolve the futures."""
    VALID = [
        _HEAD + "@flow\ndef ok(xs: list[int]):\n    return [f.result() for f in add.map(xs)]\n"
    ]
    INVALID = [
        _HEAD + "@flow\ndef slow(xs: list[int]):\n    out = []\n    for x in xs:\n"
        "        out.append(add.submit(x).result())  # expect: FC006\n    return out\n"
    ]

    def check(self, facts: Facts) -> list[Finding]:
        return self.notes(facts, "submit-result-in-loop")


RULES: list[type[Rule]] = [
    UnresolvedTerminalFuture,
    FutureUsedAsValue,
    MapArguments,
    TaskCallSignature,
    SharedStateInTask,
    SubmitThenResult,
]
_BY_CODE = {r.code: r for r in RULES}
#: Codes the linter emits that are not rules: a file it cannot parse or read.
OTHER_CODES = {
    "E999": "syntax error, or a file that cannot be decoded",
    "E902": "a path that cannot be read (missing, not a regular file, too large)",
}


def by_code(code: str) -> type[Rule] | None:
    return _BY_CODE.get(code.upper())


def known_code(code: str) -> bool:
    code = code.upper()
    return code in _BY_CODE or code in OTHER_CODES
