"""A checksum of every table, to show that a request changed nothing."""

import hashlib
from collections.abc import Sequence

from sqlalchemy import Engine, func, inspect, select

from geoalchemy2 import Geometry

from geogrid.store.models import Base


def table_checksums(bind: Engine) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent hash of the rows, per table.

    Every table of the ORM metadata that exists in the database is read;
    geometries are compared as WKB (``ST_AsBinary``), so a moved vertex shows.
    Rows are hashed one by one and the sorted hashes hashed again, so neither
    the backend's row order nor a rewrite in place with equal values counts.
    """
    sums: dict[str, tuple[int, str]] = {}
    with bind.connect() as conn:
        present = set(inspect(conn).get_table_names())
        for table in Base.metadata.sorted_tables:
            if table.name not in present:
                continue
            columns = [
                func.ST_AsBinary(c) if isinstance(c.type, Geometry) else c
                for c in table.columns
            ]
            rows = sorted(_row_hash(row) for row in conn.execute(select(*columns)))
            digest = hashlib.sha256("".join(rows).encode()).hexdigest()
            sums[table.name] = (len(rows), digest)
    return sums


def _row_hash(row: Sequence[object]) -> str:
    values = [bytes(v).hex() if isinstance(v, bytes | memoryview) else v for v in row]
    return hashlib.sha256(repr(values).encode()).hexdigest()
