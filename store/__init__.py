"""The store: schema, the single writer, DuckDB, and the read side. Imports no sibling package."""
