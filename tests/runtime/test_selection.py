"""``flowc.runtime.selection``: what a flow file's source says it runs, read with ``ast``."""

from __future__ import annotations

import inspect
import textwrap

from flowc.runtime import selection
from flowc.runtime.selection import EntryCall, read_shape

PARENT_AND_CHILDREN = """
from prefect import flow

@flow
def child(x): return x

@flow
def other(): return 1

def helper():
    return other()

@flow
def parent():
    child(1)
    return helper()
"""


def shape_of(source: str) -> selection.FileShape:
    shape = read_shape(textwrap.dedent(source))
    assert shape is not None
    return shape


def choose(source: str, flows: list[str]) -> selection.Choice[str]:
    """The rules over flows named by their function names (each bound to its own name)."""
    return selection.choose(shape_of(source), flows, {n: n for n in flows}, {n: n for n in flows})


def test_main_calls_are_found_through_the_files_own_functions_once() -> None:
    shape = shape_of(
        """
        import asyncio
        def main():
            go(1, "a", flag=True, when=now())
            main()
        async def amain():
            await go.with_options(name="x")(2)
        if "__main__" == __name__:
            main()
            asyncio.run(amain())
        """
    )
    calls = [(call.name, call.line) for call in shape.main_calls]
    assert calls == [("main", 9), ("go", 4), ("now", 4), ("main", 5), ("amain", 10), ("go", 7)]
    go = shape.first_main_call("go")
    assert go == EntryCall("go", 4, (1, "a"), {"flag": True}, ("when=now()",))
    assert shape.main_names()[:2] == ["main", "go"]
    assert [call.positional for call in shape.main_calls if call.name == "go"] == [(1, "a"), (2,)]


def test_module_level_calls_are_not_main_calls() -> None:
    assert shape_of("go(1)\nif __name__ != '__main__':\n    go(2)\n").main_calls == ()


def test_positional_arguments_after_an_unknown_one_are_unknown_too() -> None:
    shape = shape_of("if __name__ == '__main__':\n    go(x, 2, *rest, k=3, **more)\n")
    assert shape.main_calls == (EntryCall("go", 2, (), {"k": 3}, ("x", "2", "*rest", "**more")),)


def test_a_file_that_does_not_parse_has_no_shape() -> None:
    assert read_shape("def broken(:\n") is None


def test_the_main_block_decides() -> None:
    choice = choose(
        PARENT_AND_CHILDREN + "\nif __name__ == '__main__':\n    child(x=5)\n",
        [
            "child",
            "other",
            "parent",
        ],
    )
    assert choice.flows == ["child"] and choice.rule == "__main__"
    assert choice.call is not None and choice.call.keywords == {"x": 5}


def test_else_the_flow_no_other_flow_calls_even_through_a_helper() -> None:
    choice = choose(PARENT_AND_CHILDREN, ["child", "other", "parent"])
    assert choice.flows == ["parent"] and choice.rule == "root" and choice.call is None


def test_several_uncalled_flows_stay_ambiguous() -> None:
    choice = choose(
        "from prefect import flow\n@flow\ndef a(): ...\n@flow\ndef b(): ...\n", ["a", "b"]
    )
    assert choice.flows == ["a", "b"]


def test_a_main_block_calling_several_flows_falls_back_to_the_root_among_them() -> None:
    source = PARENT_AND_CHILDREN + "\nif __name__ == '__main__':\n    parent()\n    child(2)\n"
    choice = choose(source, ["child", "other", "parent"])
    assert choice.flows == ["parent"] and choice.rule == "__main__"
    assert choice.call is not None and choice.call.line == 19


def test_a_flow_bound_to_another_name_is_matched_by_identity() -> None:
    source = "if __name__ == '__main__':\n    alias(3)\n"
    flows = ["f", "g"]
    choice = selection.choose(shape_of(source), flows, {"f": "f", "alias": "f", "g": "g"}, {})
    assert choice.flows == ["f"] and choice.call is not None and choice.call.positional == (3,)


def test_without_a_shape_nothing_is_narrowed() -> None:
    choice = selection.choose(None, ["a", "b"], {}, {})
    assert choice.flows == ["a", "b"] and choice.call is None


def test_static_choice_names_the_flow_function_and_its_arguments() -> None:
    source = PARENT_AND_CHILDREN + "\nif __name__ == '__main__':\n    child(7)\n"
    assert selection.static_choice(source) == ("child", {"x": 7})
    assert selection.static_choice(PARENT_AND_CHILDREN) == ("parent", {})
    two = "import prefect\n@prefect.flow\ndef a(): ...\n@prefect.flow(name='b')\ndef b(): ...\n"
    assert selection.static_choice(two) is None  # ambiguous: the loader lists them
    assert selection.static_choice("from prefect import flow\n@flow\ndef a(): ...\n") is None


def test_the_choice_note_names_the_arguments_used_and_those_left_out() -> None:
    def report(title: str, copies: int = 1, when: str = "now") -> None: ...

    call = EntryCall("report", 12, ("ab",), {"copies": 2}, ("when=today()",))
    signature = inspect.signature(report)
    assert selection.main_arguments(signature, call) == (
        {"title": "ab", "copies": 2},
        ["when=today()"],
    )
    assert selection.choice_note("f.py", "report", signature, call, ["copies"]) == (
        "f.py:12: running flow 'report' as the __main__ block calls it with title='ab'; "
        "not evaluated (defaults used): when=today() — run the block itself with --main"
    )


def test_deep_or_long_arguments_do_not_break_the_reading() -> None:
    deep = "[" * 150 + "x" + "]" * 150
    shape = shape_of(f"if __name__ == '__main__':\n    go({deep}, k={'f(' + '1,' * 50 + ')'})\n")
    call = shape.first_main_call("go")
    assert call is not None and [text.endswith("…") for text in call.opaque] == [True, True]
    assert read_shape("x = " + "(" * 5000 + ")" * 5000) is None  # the loader reports it


def test_with_options_in_the_main_block_keeps_its_literal_options() -> None:
    shape = shape_of(
        "if __name__ == '__main__':\n"
        "    go.with_options(name='nightly', retries=2)(3)\n"
        "    go.with_options(task_runner=make())(4)\n"
    )
    first, second = [call for call in shape.main_calls if call.name == "go"]
    assert first.options == {"name": "nightly", "retries": 2} and first.positional == (3,)
    assert second.options is None and second.positional == (4,)
