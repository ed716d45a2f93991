"""Rows a management command writes, captured once per test process and put back per test.

`demo_catalogue` (load_catalogue) and `demo_personalization` (load_personalization) are
asked for by some two hundred tests; running the loaders each time cost ~1.7 s a test. The
first test that asks runs the real command once, in a transaction that is then rolled
back, and keeps what it changed, table by table, as PostgreSQL COPY text: the rows it added
and the primary keys of the rows it changed or removed. Each test then gets those rows back
with COPY in one savepoint, checks every foreign key at once, and moves each restored
table's sequence past its highest id. If the test's own data is in the way (a unique value
or an id already taken, a foreign key that no longer holds), the savepoint is rolled back
and the real command runs instead, so a test always sees what the command would have made.

What the command does outside the database is not replayed: tasks it would publish on
commit (none: the restored outbox rows stay for the drain, as after a broker outage) and
cache entries (each test starts with an empty cache anyway).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from django.db import IntegrityError, connection, transaction


@dataclass
class TableChange:
    table: str
    pk_column: str | None
    added: list[str] = field(default_factory=list)  # COPY text lines
    removed_pks: list[str] = field(default_factory=list)  # primary keys, as text
    sequence: str | None = None


@dataclass
class Snapshot:
    name: str
    changes: list[TableChange]
    uses: int = 0
    fallbacks: int = 0


def _tables(cursor) -> list[str]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    return [row[0] for row in cursor.fetchall()]


def _pk(cursor, table: str) -> tuple[str | None, int | None, str | None]:
    """The single-column primary key of `table`, its position among the COPY columns and
    the sequence behind it (None where there is no such key)."""
    cursor.execute(
        """
        SELECT a.attname,
               (SELECT COUNT(*) FROM pg_attribute b
                 WHERE b.attrelid = a.attrelid AND b.attnum > 0 AND NOT b.attisdropped
                   AND b.attgenerated = '' AND b.attnum < a.attnum)
          FROM pg_index i JOIN pg_attribute a
            ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
         WHERE i.indrelid = %s::regclass AND i.indisprimary AND i.indnatts = 1
        """,
        [f'"{table}"'],
    )
    row = cursor.fetchone()
    if row is None:
        return None, None, None
    cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [f'"{table}"', row[0]])
    return row[0], row[1], cursor.fetchone()[0]


def _content(raw_cursor, table: str) -> list[str]:
    with raw_cursor.copy(f'COPY "{table}" TO STDOUT') as copy:
        data = b"".join(bytes(chunk) for chunk in copy).decode()
    return data.splitlines()


def _state(cursor, raw_cursor) -> dict[str, list[str]]:
    return {table: _content(raw_cursor, table) for table in _tables(cursor)}


def capture(stages: list[tuple[str, Callable[[], None]]]) -> dict[str, Snapshot]:
    """Run each stage's command in turn, in one transaction rolled back at the end, and
    return what each changed on top of the ones before it (a later stage's snapshot is
    restored after the earlier ones). Needs database access (django_db_blocker)."""
    snapshots = {}
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        was = _state(cursor, raw)
        for name, run in stages:
            run()
            now = _state(cursor, raw)
            snapshots[name] = Snapshot(name=name, changes=_changes(cursor, name, was, now))
            was = now
        transaction.set_rollback(True)
    return snapshots


def _changes(cursor, name: str, was: dict[str, list[str]], now: dict[str, list[str]]):
    changes = []
    for table, lines in now.items():
        old = was.get(table, [])
        if lines == old:
            continue
        old_set, new_set = set(old), set(lines)
        pk_column, pk_index, sequence = _pk(cursor, table)
        removed = [line for line in old if line not in new_set]
        if removed and pk_index is None:
            raise RuntimeError(f"{name}: {table} changed rows and has no single primary key")
        changes.append(
            TableChange(
                table=table,
                pk_column=pk_column,
                added=[line for line in lines if line not in old_set],
                removed_pks=[line.split("\t")[pk_index] for line in removed],
                sequence=sequence,
            )
        )
    return changes


def restore(snapshot: Snapshot, fallback: Callable[[], None]) -> None:
    """Put the snapshot's rows back, or run `fallback` (the real command) if they do not fit."""
    snapshot.uses += 1
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor
            for change in snapshot.changes:
                if change.removed_pks:
                    cursor.execute(
                        f'DELETE FROM "{change.table}" WHERE "{change.pk_column}"::text = ANY(%s)',
                        [change.removed_pks],
                    )
                if change.added:
                    with raw.copy(f'COPY "{change.table}" FROM STDIN') as copy:
                        copy.write("\n".join(change.added) + "\n")
                if change.sequence and change.added:
                    cursor.execute(
                        f"""SELECT setval(%s, GREATEST(
                                (SELECT MAX("{change.pk_column}") FROM "{change.table}"),
                                (SELECT last_value FROM {change.sequence})))""",
                        [change.sequence],
                    )
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # foreign keys checked here
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    except (IntegrityError, psycopg.IntegrityError):
        snapshot.fallbacks += 1
        fallback()
