"""The schema is defined once: on a real PostgreSQL server it creates the same tables and views as on DuckDB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from store import schema
from store.duckdb_store import DuckDBStore
from store.postgres_store import store_url
from tests.conftest import fresh_database


@pytest.fixture
def postgres(pg_cluster: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(store_url(fresh_database(pg_cluster)))
    yield engine
    engine.dispose()


def _duckdb_relations(path: Path) -> dict[str, list[str]]:
    """Every table and view of a fresh DuckDB store, with its columns in order."""
    store = DuckDBStore(path)
    try:
        names = [str(r[0]) for r in store.read("SELECT table_name FROM information_schema.tables ORDER BY 1")]
        return {name: [str(c[0]) for c in store.read(f"DESCRIBE {name}")] for name in names}
    finally:
        store.close()


def test_the_tables_and_views_exist_on_postgresql_with_the_same_columns(postgres: sa.Engine, tmp_path: Path) -> None:
    with postgres.begin() as connection:
        schema.metadata.create_all(connection)
        for statement in schema.fresh_statements("postgresql"):
            connection.execute(sa.text(statement))
    inspector = sa.inspect(postgres)
    views = sorted(inspector.get_view_names())
    tables = sorted(inspector.get_table_names())
    duck = _duckdb_relations(tmp_path / "d.duckdb")
    assert sorted(duck) == sorted(tables + views)
    assert {"sessions", "steps", "llm_calls", "tool_calls", "findings", "redactions", "spans"} <= set(views)
    for relation in tables + views:
        pg = [c["name"] for c in inspector.get_columns(relation)]
        assert pg == duck[relation], relation
    with postgres.connect() as connection:
        for view in views:
            connection.execute(sa.text(f"SELECT * FROM {view} LIMIT 1")).fetchall()
