"""Newest-first pages of a store's table with a ``seq`` cursor, as SQL for SQLite or PostgreSQL: the
lists of jobs, vocabularies and EHR sends (a page's NextToken is its last row's ``seq``)."""

from __future__ import annotations

from typing import Any, NamedTuple


class Dialect(NamedTuple):
    mark: str       # a parameter's placeholder
    contains: str   # ``name`` holds the parameter, case-insensitively (a plain substring, no LIKE wildcards)


SQLITE = Dialect("?", "instr(lower(name), lower(?)) > 0")
POSTGRES = Dialect("%s", "strpos(lower(name), lower(%s)) > 0")


def newest_first(table: str, dialect: Dialect, *, equals: dict[str, Any], name_contains: str | None = None,
                 before_seq: int | None = None, limit: int) -> tuple[str, list]:
    """The query and its arguments for ``limit`` rows of ``table``, ``seq`` descending: those whose
    columns in ``equals`` have those values (a None value: any), whose name holds ``name_contains``
    (when given) and, from the cursor ``before_seq``, whose ``seq`` is below it."""
    where, args = [], []
    for column, value in equals.items():
        if value is not None:
            where.append(f"{column} = {dialect.mark}")
            args.append(value)
    if name_contains:
        where.append(dialect.contains)
        args.append(name_contains)
    if before_seq is not None:
        where.append(f"seq < {dialect.mark}")
        args.append(before_seq)
    sql = f"SELECT * FROM {table}" + (" WHERE " + " AND ".join(where) if where else "")
    return f"{sql} ORDER BY seq DESC LIMIT {dialect.mark}", [*args, limit]
