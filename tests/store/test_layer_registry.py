"""The layer registry and the stored tables agree: a field added to one is in the other."""

import pytest

from geogrid.domain.layers import LAYERS, Layer
from geogrid.store.layers import FEATURE_MODELS


@pytest.mark.parametrize("layer", LAYERS.values(), ids=lambda layer: layer.key)
def test_every_registered_field_is_a_stored_column(layer: Layer) -> None:
    table = FEATURE_MODELS[layer.key].__table__
    fields = {name for name, _ in layer.columns} | set(layer.searched)
    fields |= {*layer.text, *layer.integers, *layer.numbers, *layer.staff_fields}

    assert fields <= set(table.columns.keys())


def test_the_registry_and_the_store_hold_the_same_layers() -> None:
    assert set(FEATURE_MODELS) == set(LAYERS)
