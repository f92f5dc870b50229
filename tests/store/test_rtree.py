"""The packed R-tree: valid for SQLite, and it finds what a scan of the boxes finds."""

import numpy as np
import pytest
from sqlalchemy import Connection, create_engine

from geogrid.store import rtree

INDEX = "idx_t_geom"


def _boxes(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x0, y0 = rng.uniform(107.0, 107.2, n), rng.uniform(35.0, 35.2, n)
    # Half points (buildings as points, addresses), half footprints.
    w, h = rng.uniform(0, 0.002, n) * (np.arange(n) % 2), rng.uniform(0, 0.002, n)
    return np.column_stack([x0, x0 + w, y0, y0 + h * (np.arange(n) % 2)])


def _found(connection: Connection, q: tuple[float, float, float, float]) -> set[int]:
    return {
        row[0]
        for row in connection.exec_driver_sql(
            f"SELECT pkid FROM {INDEX} WHERE xmin <= ? AND xmax >= ? AND ymin <= ? AND ymax >= ?",
            (q[1], q[0], q[3], q[2]),
        )
    }


@pytest.mark.parametrize("n", [0, 1, 51, 52, 2_601, 5_000])
def test_a_packed_tree_is_valid_and_finds_every_box(n: int) -> None:
    boxes = _boxes(n)
    ids = np.arange(10, 10 + n, dtype=np.int64)
    with create_engine("sqlite://").begin() as connection:
        rtree.load(connection, INDEX, ids, boxes)
        assert (
            connection.exec_driver_sql(f"SELECT rtreecheck('{INDEX}')").scalar() == "ok"
        )
        assert connection.exec_driver_sql(f"SELECT count(*) FROM {INDEX}").scalar() == n
        windows = _boxes(200, seed=2) + np.array([-0.001, 0.004, -0.001, 0.004])
        for q in windows:
            hit = (boxes[:, 0] <= q[1]) & (boxes[:, 1] >= q[0])
            hit &= (boxes[:, 2] <= q[3]) & (boxes[:, 3] >= q[2])
            near = (boxes[:, 0] <= q[1] + 1e-5) & (boxes[:, 1] >= q[0] - 1e-5)
            near &= (boxes[:, 2] <= q[3] + 1e-5) & (boxes[:, 3] >= q[2] - 1e-5)
            got = _found(connection, tuple(q))
            # Bounds are stored as float32 rounded outwards, as SQLite does:
            # never a box missed, at most one that touches the query's edge.
            assert set(ids[hit].tolist()) <= got <= set(ids[near].tolist())


def test_rows_added_and_removed_after_a_packed_load_keep_the_tree_valid() -> None:
    boxes = _boxes(3_000)
    with create_engine("sqlite://").begin() as connection:
        rtree.load(connection, INDEX, np.arange(3_000, dtype=np.int64), boxes)
        extra = _boxes(500, seed=3)
        connection.exec_driver_sql(
            f"INSERT INTO {INDEX} VALUES (?, ?, ?, ?, ?)",
            [(5_000 + i, *map(float, b)) for i, b in enumerate(extra)],
        )
        connection.exec_driver_sql(f"DELETE FROM {INDEX} WHERE pkid < 1000")

        assert (
            connection.exec_driver_sql(f"SELECT rtreecheck('{INDEX}')").scalar() == "ok"
        )
        assert (
            connection.exec_driver_sql(f"SELECT count(*) FROM {INDEX}").scalar()
            == 2_500
        )
        x0, x1, y0, y1 = (float(v) for v in extra[0])
        assert 5_000 in _found(connection, (x0, x1, y0, y1))
