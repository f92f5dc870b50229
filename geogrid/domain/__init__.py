"""Plain domain types (领域类型): area codes, levels and role schemes; no I/O."""
