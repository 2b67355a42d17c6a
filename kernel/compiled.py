"""Querysets compiled once per process: for a hot query whose shape never changes, only its values.

Building and compiling a queryset through the ORM costs more than the database takes to run a small query
(about 0.5 ms a query on the 2-core bench machine). `Compiled(build, stand_ins, others)` compiles
`build(*stand_ins)` once per database vendor, and `build(*others)` to check that the arguments reach the SQL
only as parameters (the same SQL, and every other parameter the same); `rows(*args)` runs that SQL with the
real arguments in the stand-ins' places and returns the rows as the queryset (a `values_list`) would, the
database's values converted by the same converters. PostgreSQL prepares the statement (planned once per
connection: kernel.prepared).
"""
from django.db import DEFAULT_DB_ALIAS, connections

from kernel.prepared import prepared_cursor


class NotCompilable(Exception):
    """The arguments shape more of the query than its parameters."""


def _slots(params, args):
    """For each parameter: (index of the argument, as sent: the value or its str, as SQLite gets dates), or None."""
    slots = []
    for p in params:
        found = next(((i, False) for i, a in enumerate(args) if type(p) is type(a) and p == a), None) or next(
            ((i, True) for i, a in enumerate(args) if isinstance(p, str) and p == str(a)), None)
        slots.append(found)
    return slots


class _Plan:
    def __init__(self, build, stand_ins, others, using):
        compiler = build(*stand_ins).query.get_compiler(using=using)
        self.sql, params = compiler.as_sql()
        other_sql, other = build(*others).query.get_compiler(using=using).as_sql()
        self.slots = _slots(params, stand_ins)
        if other_sql != self.sql or _slots(other, others) != self.slots or any(
                slot is None and a != b for slot, a, b in zip(self.slots, params, other, strict=True)):
            raise NotCompilable(self.sql[:200])
        self.params = list(params)
        self.converters = list(compiler.get_converters([s[0] for s in compiler.select]).items())


class Compiled:
    def __init__(self, build, stand_ins, others):
        if len(set(stand_ins)) != len(stand_ins) or set(stand_ins) & set(others):
            raise ValueError("stand-ins must be distinct values that no real argument takes")
        self.build, self.stand_ins, self.others = build, tuple(stand_ins), tuple(others)
        self.plans = {}

    def _plan(self, using):
        vendor = connections[using].vendor
        plan = self.plans.get(vendor)
        if plan is None:
            plan = self.plans[vendor] = _Plan(self.build, self.stand_ins, self.others, using)
        return plan

    def statement(self, *args, using=DEFAULT_DB_ALIAS):
        """(SQL, params) with the arguments, for a caller that sends it with other statements; then `convert`
        its rows."""
        plan = self._plan(using)
        return plan.sql, [p if slot is None else str(args[slot[0]]) if slot[1] else args[slot[0]]
                          for slot, p in zip(plan.slots, plan.params, strict=True)]

    def rows(self, *args, using=DEFAULT_DB_ALIAS):
        sql, params = self.statement(*args, using=using)
        with (prepared_cursor(using) if connections[using].vendor == "postgresql"
              else connections[using].cursor()) as cursor:
            cursor.execute(sql, params)
            return self.convert(cursor.fetchall(), using=using)

    def convert(self, rows, using=DEFAULT_DB_ALIAS):
        """The database's rows as the queryset gives them (its converters applied)."""
        connection, plan = connections[using], self._plan(using)
        if plan.converters:
            rows = [list(row) for row in rows]
            for row in rows:
                for pos, (converters, expression) in plan.converters:
                    for convert in converters:
                        row[pos] = convert(row[pos], expression, connection)
            rows = [tuple(row) for row in rows]
        return rows
