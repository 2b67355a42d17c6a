"""Scores of an evaluation, computed from facts alone (no database), so that anyone holding the
exported facts and the indicator set can recompute every score and rank exactly.

An indicator's `formula` is an arithmetic expression over fact codes (`+ - * /`, parentheses, numbers),
e.g. ``given_value / listed_value``. A division by zero, or a missing fact, makes the indicator not
applicable (None) for that unit: it is left out of the unit's weighted score rather than counted as 0.

A unit with no activity in the cycle (every fact in `ACTIVITY` zero or missing) is not rated: it is
listed without a score or rank, so that idle members neither fill the bottom of the table nor drag the
median. Each applicable value of a rated unit is scored 0–100 by min–max across the rated units, inverted where lower is
better; when every unit has the same value each scores 100. The weighted score is Σ weight × score ÷
Σ weight over the unit's applicable indicators. Scores are rounded to 2 places half-up once, after
the weighting; ranks are dense by weighted score (descending), ties sharing a rank.
"""
import ast
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, DivisionByZero, InvalidOperation

HUNDRED = Decimal(100)
ACTIVITY = ("listed_value", "received_value", "given_value", "steps_total")
CENT = Decimal("0.01")
_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
        ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b}


class FormulaError(ValueError):
    """A formula that is not an arithmetic expression over fact codes."""


@dataclass(frozen=True)
class IndicatorSpec:
    code: str
    formula: str
    higher_is_better: bool
    weight: Decimal


@dataclass(frozen=True)
class UnitScore:
    unit: str
    values: dict  # indicator code -> Decimal | None
    scores: dict  # indicator code -> Decimal | None (0–100, unrounded)
    weighted: Decimal | None  # rounded to 2 places
    rank: int | None


def parse(formula):
    """The expression tree of a formula; raises FormulaError for anything but arithmetic on names."""
    try:
        tree = ast.parse(formula, mode="eval")
    except SyntaxError as exc:
        raise FormulaError(str(exc)) from None
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.USub, ast.Name, ast.Load,
                                 ast.Constant, *_OPS)):
            raise FormulaError(f"not allowed in a formula: {type(node).__name__}")
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
            raise FormulaError("only numbers may appear as constants")
    return tree


def fact_codes(formula):
    """The fact codes a formula reads."""
    return sorted({n.id for n in ast.walk(parse(formula)) if isinstance(n, ast.Name)})


def evaluate(formula, facts):
    """The formula's value for one unit's facts (a dict code -> Decimal), or None if not applicable."""
    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Name):
            value = facts.get(node.id)
            if value is None:
                raise KeyError(node.id)
            return Decimal(value)
        if isinstance(node, ast.Constant):
            return Decimal(str(node.value))
        if isinstance(node, ast.UnaryOp):
            return -walk(node.operand)
        return _OPS[type(node.op)](walk(node.left), walk(node.right))

    try:
        return walk(parse(formula))
    except (KeyError, DivisionByZero, InvalidOperation, ZeroDivisionError):
        return None


def is_active(facts):
    return any(facts.get(code) for code in ACTIVITY)


def score(facts_by_unit, indicators):
    """UnitScore per unit (in rank order) from `facts_by_unit` {unit: {fact: Decimal}}."""
    values = {u: {i.code: evaluate(i.formula, f) if is_active(f) else None for i in indicators}
              for u, f in facts_by_unit.items()}
    scores = {u: {} for u in values}
    for ind in indicators:
        present = [v[ind.code] for v in values.values() if v[ind.code] is not None]
        low, high = (min(present), max(present)) if present else (None, None)
        for unit, v in values.items():
            value = v[ind.code]
            if value is None:
                scores[unit][ind.code] = None
            elif high == low:
                scores[unit][ind.code] = HUNDRED
            else:
                share = (value - low) / (high - low)
                scores[unit][ind.code] = HUNDRED * (share if ind.higher_is_better else 1 - share)
    weighted = {}
    for unit in values:
        applicable = [(i.weight, scores[unit][i.code]) for i in indicators if scores[unit][i.code] is not None]
        total = sum((w for w, _ in applicable), Decimal(0))
        weighted[unit] = (sum((w * s for w, s in applicable), Decimal(0)) / total).quantize(
            CENT, ROUND_HALF_UP) if total else None
    ranked = sorted((w, u) for u, w in weighted.items() if w is not None)
    ordered = sorted({w for w, _ in ranked}, reverse=True)
    rank_of = {w: n for n, w in enumerate(ordered, start=1)}
    result = [UnitScore(unit=u, values=values[u], scores=scores[u], weighted=weighted[u],
                        rank=rank_of.get(weighted[u])) for u in values]
    return sorted(result, key=lambda s: (s.rank is None, s.rank or 0, s.unit))
