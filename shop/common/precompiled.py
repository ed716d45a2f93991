"""Querysets compiled to SQL once per process, run with each request's values.

Django compiles a queryset to SQL every time it is evaluated. For the queries every basket
request runs (the basket, its lines with seven tables joined, a picture, a voucher flag and
their attributes annotated, the site's offers) compiling cost several times running them.
A Precompiled query is an ordinary queryset, built once with marker values where the
request's values go and compiled once; each run executes that SQL with the request's values
in the markers' places and makes the model instances as Django's ModelIterable does
(select_related objects, deferred fields, annotations, field converters). The queryset stays
the one place that says what is read; tests hold the two ways equal.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import get_related_populators


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    positions: tuple[tuple[int, ...], ...]  # where each marker's value goes
    db: str
    compiler: Any
    model: type
    start: int
    end: int
    init_list: list[str]
    populators: list
    annotations: dict[str, int]
    converters: dict


def _marker_positions(sql: str, params, markers: tuple) -> list[tuple[int, ...]]:
    """Where each marker's value goes among the compiled query's parameters."""
    positions = []
    for marker in markers:
        found = tuple(
            i for i, value in enumerate(params) if type(value) is type(marker) and value == marker
        )
        if not found:
            raise ImproperlyConfigured(f"marker {marker!r} is not a parameter of {sql}")
        positions.append(found)
    return positions


class Precompiled:
    """`build(*markers)` returns the queryset; each marker must be a value the query's
    parameters hold nowhere else (e.g. -918273645 for an id)."""

    def __init__(self, build: Callable[..., QuerySet], *markers):
        self.build = build
        self.markers = markers
        self._compiled: _Compiled | None = None
        self._lock = threading.Lock()

    def compiled(self) -> _Compiled:
        if self._compiled is None:
            with self._lock:
                if self._compiled is None:
                    self._compiled = self._compile()
        return self._compiled

    def _compile(self) -> _Compiled:
        queryset = self.build(*self.markers)
        if queryset._prefetch_related_lookups or queryset._iterable_class.__name__ != (
            "ModelIterable"
        ):
            raise ImproperlyConfigured("precompiled querysets make model instances only")
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        positions = _marker_positions(sql, params, self.markers)
        select, klass_info = compiler.select, compiler.klass_info
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        fields = [column[0] for column in select[0 : compiler.col_count]]
        return _Compiled(
            sql=sql,
            params=tuple(params),
            positions=tuple(positions),
            db=queryset.db,
            compiler=compiler,
            model=klass_info["model"],
            start=start,
            end=end,
            init_list=[column[0].target.attname for column in select[start:end]],
            populators=get_related_populators(klass_info, select, queryset.db),
            annotations=dict(compiler.annotation_col_map or {}),
            converters=compiler.get_converters(fields),
        )

    def run(self, *values, known: dict[str, Any] | None = None) -> list:
        """The instances for these values (one per marker, in order). `known`: related
        objects the caller already holds, by field name (as a related manager passes the
        instance it belongs to), set on each instance rather than read again."""
        c = self.compiled()
        params = list(c.params)
        for positions, value in zip(c.positions, values, strict=True):
            for i in positions:
                params[i] = value
        with connections[c.db].cursor() as cursor:
            cursor.execute(c.sql, params)
            rows = cursor.fetchall()
        if c.converters:
            rows = c.compiler.apply_converters((list(row) for row in rows), c.converters)
        fields = [(c.model._meta.get_field(name), obj) for name, obj in (known or {}).items()]
        objects = []
        for row in rows:
            obj = c.model.from_db(c.db, c.init_list, row[c.start : c.end])
            for populator in c.populators:
                populator.populate(row, obj)
            for name, position in c.annotations.items():
                setattr(obj, name, row[position])
            for field, related in fields:
                field.set_cached_value(obj, related)
            objects.append(obj)
        return objects


class PrecompiledRows:
    """A ``values_list()`` queryset compiled to SQL once, as Precompiled; each run gives its
    rows as tuples (the fields' converters applied), for reads that need plain values rather
    than model instances (making an instance runs its class's __init__ and signals)."""

    def __init__(self, build: Callable[..., QuerySet], *markers):
        self.build = build
        self.markers = markers
        self._compiled: tuple[str, tuple, tuple, str, Any, dict] | None = None
        self._lock = threading.Lock()

    def compiled(self) -> tuple[str, tuple, tuple, str, Any, dict]:
        if self._compiled is None:
            with self._lock:
                if self._compiled is None:
                    self._compiled = self._compile()
        return self._compiled

    def _compile(self) -> tuple[str, tuple, tuple, str, Any, dict]:
        queryset = self.build(*self.markers)
        if queryset._iterable_class.__name__ != "ValuesListIterable":
            raise ImproperlyConfigured("precompiled rows come from values_list() querysets")
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        positions = _marker_positions(sql, params, self.markers)
        fields = [column[0] for column in compiler.select[0 : compiler.col_count]]
        converters = compiler.get_converters(fields)
        return sql, tuple(params), tuple(positions), queryset.db, compiler, converters

    def run(self, *values) -> list[tuple]:
        sql, params, positions, db, compiler, converters = self.compiled()
        bound = list(params)
        for places, value in zip(positions, values, strict=True):
            for i in places:
                bound[i] = value
        with connections[db].cursor() as cursor:
            cursor.execute(sql, bound)
            rows = cursor.fetchall()
        if converters:
            return [tuple(row) for row in compiler.apply_converters(rows, converters)]
        return rows
