"""Comprehensions of a flow body: unrolled like loops over what is known before the run.

A comprehension over a known iterable is walked element by element (one run per element for
a call in it), its ``if`` tests folded when they can be; past the unrolling budget, or over a
range too long to list, the rest is walked once and counted by arithmetic; over an unknown
iterable its sites are dynamic. An ``if`` decided only at run time makes what the element
resolves resolved on some paths only (the linter's FC001 reads that).
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from flowc.compiler.state import UNROLL_BUDGET, Frame, State
from flowc.compiler.values import UNKNOWN, DictVal, Opaque, Seq, Sized, Value, elements, length

__all__ = ["Comprehensions"]


class Comprehensions(State):
    """Evaluates ``[...]``, ``{...}`` and generator comprehensions (``e_*Comp`` handlers)."""

    def e_ListComp(self, node: cst.ListComp, frame: Frame) -> Value:
        return self.comprehension(node, node.for_in, lambda: self.ev(node.elt, frame), frame)

    e_SetComp = e_GeneratorExp = e_ListComp

    def e_DictComp(self, node: cst.DictComp, frame: Frame) -> Value:
        def item() -> Value:
            return Seq((self.ev(node.key, frame), self.ev(node.value, frame)), "tuple")

        got = self.comprehension(node, node.for_in, item, frame)
        if isinstance(got, Seq):
            return DictVal(
                tuple(
                    (p.items[0], p.items[1])
                    for p in got.items  # type: ignore
                    if isinstance(p, Seq)
                )
            )
        return got

    def comprehension(self, node: cst.CSTNode, comp: cst.CompFor, item: Any, frame: Frame) -> Value:
        outer = frame.env
        frame.env = dict(outer)
        out: list[Value] = []
        sized: list[int] = []
        self.track.comprehensions += 1
        try:
            known = self.comp_for(comp, item, frame, out, sized)
        finally:
            frame.env = outer
            self.track.comprehensions -= 1
        if known:
            return Seq(tuple(out))
        members = tuple(dict.fromkeys(out))[:64]
        if sized:  # one element per element of a uniform map's futures: as many, alike
            return Sized(members, n=sized[0])
        return Opaque(members)

    def comp_for(
        self,
        comp: cst.CompFor,
        item: Any,
        frame: Frame,
        out: list[Value],
        sized: list[int] | None = None,
    ) -> bool:
        """Walk one ``for`` of a comprehension; ``sized`` gets the count of a plain one (no
        ``if``, no inner ``for``) over a :class:`Sized` collection, which it keeps."""
        iterable = self.ev(comp.iter, frame)
        items = elements(iterable)

        def body() -> bool:
            known = True
            for condition in comp.ifs:
                truth = self.truth(self.ev(condition.test, frame))
                if truth is False:
                    return True
                if truth is None:
                    known = False
            if known:
                return produce(known)
            # a test decided only at run time: what the element resolves, it resolves on
            # some paths only (the futures it skips stay pending)
            before = self.track.save()
            try:
                return produce(known)
            finally:
                self.track.load(self.track.merge([before, self.track.save()]))

        def produce(known: bool) -> bool:
            if comp.inner_for_in is not None:
                saved = self.conditional
                self.conditional = self.conditional or not known
                try:
                    return self.comp_for(comp.inner_for_in, item, frame, out) and known
                finally:
                    self.conditional = saved
            saved = self.conditional
            self.conditional = self.conditional or not known
            try:
                out.append(item())
            finally:
                self.conditional = saved
            return known

        if items is not None and self.mult == 1 and self.steps + len(items) <= UNROLL_BUDGET:
            all_known = True
            start = self.steps
            for done, element in enumerate(items):
                left = len(items) - done
                if done and self.steps + (self.steps - start) // done * left > UNROLL_BUDGET:
                    break  # as a loop does: the rest is counted by arithmetic, below
                self.spend(comp.iter, frame)
                self.bind(comp.target, element, frame)
                all_known = body() and all_known
            else:
                return all_known
            items = items[done:]
        count = len(items) if items is not None else length(iterable)
        if count is not None:  # known, but too many to follow one by one
            uniform = isinstance(iterable, Sized) and items is None
            self.bind(comp.target, self.element(iterable) if uniform else UNKNOWN, frame)
            if uniform and sized is not None and not comp.ifs and comp.inner_for_in is None:
                sized.append(count)
            with self.context(mult=count):
                body()
            return False
        self.bind(comp.target, self.element(iterable), frame)
        code = frame.func.module.code(comp.iter)
        with self.context(
            dynamic=f"in a comprehension over {code}, whose length is known only at run time"
        ):
            body()
        return False
