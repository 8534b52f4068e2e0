"""Expressions of a flow body: the abstract value each one has before the run.

Constants fold (arithmetic, comparisons, ``len``/``range`` of known values), containers keep
their elements one by one, comprehensions are :mod:`flowc.compiler.comprehensions`, and a
value computed from a task's result is a new object with no lineage (only the result and its
direct members are linked to the run, as the runtime and Prefect link them by identity). Calls
are :mod:`flowc.compiler.calls`.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any, cast

import libcst as cst

from flowc.compiler.comprehensions import Comprehensions
from flowc.compiler.state import Frame, _join, _small
from flowc.compiler.values import (
    UNKNOWN,
    Canon,
    Const,
    DictVal,
    Future,
    ModuleRef,
    Opaque,
    Result,
    Seq,
    Union,
    Value,
    elements,
    member_of,
)

if TYPE_CHECKING:
    from flowc.compiler.interpret import Interpreter

__all__ = ["Expressions"]

_BINOPS: dict[type, Any] = {
    cst.Add: operator.add,
    cst.Subtract: operator.sub,
    cst.Multiply: operator.mul,
    cst.Divide: operator.truediv,
    cst.FloorDivide: operator.floordiv,
    cst.Modulo: operator.mod,
    cst.Power: operator.pow,
    cst.BitAnd: operator.and_,
    cst.BitOr: operator.or_,
    cst.BitXor: operator.xor,
    cst.LeftShift: operator.lshift,
    cst.RightShift: operator.rshift,
}
_CMPOPS: dict[type, Any] = {
    cst.Equal: operator.eq,
    cst.NotEqual: operator.ne,
    cst.LessThan: operator.lt,
    cst.LessThanEqual: operator.le,
    cst.GreaterThan: operator.gt,
    cst.GreaterThanEqual: operator.ge,
    cst.In: lambda a, b: a in b,
    cst.NotIn: lambda a, b: a not in b,
    cst.Is: operator.is_,
    cst.IsNot: operator.is_not,
}
_NAMES = {"True": Const(True), "False": Const(False), "None": Const(None)}


class Expressions(Comprehensions):
    """Evaluates expressions (``e_<libcst class name>`` handlers) to abstract values."""

    def ev(self, node: cst.BaseExpression, frame: Frame) -> Value:
        self.spend(node, frame)
        handler = getattr(self, "e_" + type(node).__name__, None)
        return handler(node, frame) if handler is not None else UNKNOWN

    def e_Name(self, node: cst.Name, frame: Frame) -> Value:
        name = node.value
        if name in frame.env:
            return frame.env[name]
        if frame.closure is not None and name in frame.closure:
            return frame.closure[name]
        found = frame.func.module.symbols.get(name)
        if found is not None:
            return found
        if name in _NAMES:
            return _NAMES[name]
        return Canon(f"builtins.{name}")

    def e_Integer(self, node: cst.Integer, frame: Frame) -> Value:
        return Const(node.evaluated_value)

    e_Float = e_Imaginary = e_Integer

    def e_SimpleString(self, node: cst.SimpleString, frame: Frame) -> Value:
        return Const(node.evaluated_value)

    e_ConcatenatedString = e_SimpleString

    def e_FormattedString(self, node: cst.FormattedString, frame: Frame) -> Value:
        values = [
            self.ev(p.expression, frame)
            for p in node.parts
            if isinstance(p, cst.FormattedStringExpression)
        ]
        for value in values:
            self.resolve(value, "value", node, frame)
            self.use(value, "in an f-string", node, frame)
        return UNKNOWN  # a new string: no lineage

    def e_Tuple(self, node: cst.Tuple, frame: Frame) -> Value:
        return self.sequence(node.elements, "tuple", frame)

    def e_List(self, node: cst.List, frame: Frame) -> Value:
        return self.sequence(node.elements, "list", frame)

    def e_Set(self, node: cst.Set, frame: Frame) -> Value:
        return self.sequence(node.elements, "set", frame)

    def sequence(self, nodes: Any, kind: str, frame: Frame) -> Value:
        items: list[Value] = []
        extra: list[Value] = []
        for element in nodes:
            value = self.ev(element.value, frame)
            if isinstance(element, cst.StarredElement):
                known = elements(value)
                if known is None:
                    extra.append(self.element(value))
                    continue
                items.extend(known)
            else:
                items.append(value)
        if extra:
            return Opaque(tuple(items + extra))
        if all(isinstance(v, Const) for v in items) and kind != "set":
            consts = [v.value for v in items if isinstance(v, Const)]
            return Const(consts if kind == "list" else tuple(consts))
        return Seq(tuple(items), kind)

    def e_Dict(self, node: cst.Dict, frame: Frame) -> Value:
        items: list[tuple[Value, Value]] = []
        for element in node.elements:
            if isinstance(element, cst.DictElement):
                items.append((self.ev(element.key, frame), self.ev(element.value, frame)))
            else:
                value = self.ev(element.value, frame)
                if isinstance(value, DictVal):
                    items.extend(value.items)
                else:
                    items.append((UNKNOWN, value))
        return DictVal(tuple(items))

    def e_Attribute(self, node: cst.Attribute, frame: Frame) -> Value:
        base = self.ev(node.value, frame)
        attr = node.attr.value
        if isinstance(base, ModuleRef):
            return base.module.symbols.get(attr, UNKNOWN)
        if isinstance(base, Canon):
            return Canon(f"{base.name}.{attr}")
        if isinstance(base, Const) and attr in ("real", "imag"):
            return Const(getattr(base.value, attr, None))
        return member_of(base) if isinstance(base, Result) else UNKNOWN

    def e_Subscript(self, node: cst.Subscript, frame: Frame) -> Value:
        base = self.ev(node.value, frame)
        if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Slice):
            got = self.slice(base, node.slice[0].slice, frame)
            if got is not None:
                return got
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            # a slice is a new container holding the same members
            return Opaque(self.members(base)) if self.members(base) else UNKNOWN
        index = self.ev(node.slice[0].slice.value, frame)
        if isinstance(index, Const):
            if isinstance(base, (Seq, Const)) and isinstance(index.value, int):
                items = elements(base)
                if items is not None and -len(items) <= index.value < len(items):
                    return items[index.value]
            if isinstance(base, DictVal):
                for key, value in reversed(base.items):
                    if key == index:
                        return value
            if isinstance(base, Const):
                try:
                    got = base.value[index.value]
                    return Const(got) if _small(got) else UNKNOWN
                except Exception:
                    return UNKNOWN
        if self.members(base):
            return Union(self.members(base)[:16])
        return member_of(base) if isinstance(base, Result) else UNKNOWN

    def slice(self, base: Value, part: cst.Slice, frame: Frame) -> Value | None:
        """``seq[a:b:c]`` of a sequence known element by element, with constant bounds."""
        items = elements(base) if isinstance(base, (Seq, Const)) else None
        if items is None:
            return None
        bounds: list[int | None] = []
        for bound in (part.lower, part.upper, part.step):
            value = self.ev(bound, frame) if bound is not None else Const(None)
            if not isinstance(value, Const) or not isinstance(value.value, (int, type(None))):
                return None
            bounds.append(value.value)
        try:
            chosen = items[slice(*bounds)]
        except ValueError:
            return None
        if isinstance(base, Const):
            got = base.value[slice(*bounds)]
            return Const(got) if _small(got) else None
        return Seq(tuple(chosen), base.kind if isinstance(base, Seq) else "list")

    def e_BinaryOperation(self, node: cst.BinaryOperation, frame: Frame) -> Value:
        left = self.ev(node.left, frame)
        right = self.ev(node.right, frame)
        return self.binop(type(node.operator).__name__, left, right, node, frame)

    def binop(self, op: str, left: Value, right: Value, node: cst.CSTNode, frame: Frame) -> Value:
        if isinstance(left, Const) and isinstance(right, Const):
            fn = _BINOPS.get(getattr(cst, op, type(None)))
            if fn is not None and _small(left.value) and _small(right.value):
                if op == "Power" and isinstance(right.value, int) and abs(right.value) > 64:
                    return UNKNOWN
                if op in ("Multiply", "LeftShift") and (
                    isinstance(right.value, int)
                    and abs(right.value) > 10_000
                    or isinstance(left.value, int)
                    and abs(left.value) > 10_000
                    and not isinstance(right.value, (int, float))
                ):
                    return UNKNOWN
                try:
                    result = fn(left.value, right.value)
                except Exception:
                    return UNKNOWN
                return Const(result) if _small(result) else UNKNOWN
        if (
            op == "Add"
            and isinstance(left, (Seq, Const, Opaque))
            and isinstance(right, (Seq, Const, Opaque))
        ):
            a, b = elements(left), elements(right)
            if a is not None and b is not None and not isinstance(left, Opaque):
                self.spend(node, frame, len(a) + len(b))
                return Seq(tuple(a + b))
            return Opaque((*self.members(left), *self.members(right)))
        for value in (left, right):
            if isinstance(value, Future):
                self.resolve(value, "value", node, frame)
                self.use(value, "in arithmetic", node, frame)
        return UNKNOWN  # a new object: no lineage

    def e_UnaryOperation(self, node: cst.UnaryOperation, frame: Frame) -> Value:
        value = self.ev(node.expression, frame)
        if isinstance(value, Const) and _small(value.value):
            fn: Any = {
                "Not": operator.not_,
                "Minus": operator.neg,
                "Plus": operator.pos,
                "BitInvert": operator.invert,
            }.get(type(node.operator).__name__)
            try:
                return Const(fn(value.value)) if fn else UNKNOWN
            except Exception:
                return UNKNOWN
        if isinstance(node.operator, cst.Not):
            truth = self.truth(value)
            if truth is not None:
                return Const(not truth)
        return UNKNOWN

    def e_BooleanOperation(self, node: cst.BooleanOperation, frame: Frame) -> Value:
        left = self.ev(node.left, frame)
        truth = self.truth(left)
        is_and = isinstance(node.operator, cst.And)
        if truth is not None:
            if truth != is_and:
                return left
            return self.ev(node.right, frame)
        return _join(left, self.ev(node.right, frame))

    def e_Comparison(self, node: cst.Comparison, frame: Frame) -> Value:
        left = self.ev(node.left, frame)
        values = [left]
        result: bool | None = True
        for target in node.comparisons:
            right = self.ev(target.comparator, frame)
            values.append(right)
            fn = _CMPOPS.get(type(target.operator))
            if not isinstance(target.operator, (cst.Is, cst.IsNot, cst.In, cst.NotIn)):
                for value in (left, right):
                    self.use(value, "in a comparison", node, frame)
            if (
                result
                and isinstance(target.operator, (cst.Is, cst.IsNot))
                and isinstance(left, Future)
                and right == Const(None)
            ):  # a future is never None
                result = isinstance(target.operator, cst.IsNot)
            elif result and isinstance(left, Const) and isinstance(right, Const) and fn:
                try:
                    result = bool(fn(left.value, right.value))
                except Exception:
                    result = None
            else:
                result = None if result else result
            left = right
        if result is not None:
            return Const(result)
        return UNKNOWN

    def e_IfExp(self, node: cst.IfExp, frame: Frame) -> Value:
        truth = self.truth(self.ev(node.test, frame))
        if truth is True:
            return self.ev(node.body, frame)
        if truth is False:
            return self.ev(node.orelse, frame)
        saved = self.conditional
        self.conditional = True
        try:
            return _join(self.ev(node.body, frame), self.ev(node.orelse, frame))
        finally:
            self.conditional = saved

    def e_Await(self, node: cst.Await, frame: Frame) -> Value:
        return self.ev(node.expression, frame)

    def e_NamedExpr(self, node: cst.NamedExpr, frame: Frame) -> Value:
        value = self.ev(node.value, frame)
        self.bind(node.target, value, frame)
        return value

    def e_Lambda(self, node: cst.Lambda, frame: Frame) -> Value:
        return UNKNOWN

    # ------------------------------------------------------------------ calls
    def e_Call(self, node: cst.Call, frame: Frame) -> Value:
        from flowc.compiler.calls import call

        return call(cast("Interpreter", self), node, frame)
