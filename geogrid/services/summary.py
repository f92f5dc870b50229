"""What the database holds (数据概况), for the demo and ``geogrid status``."""

from geogrid.domain.codes import AreaLevel
from geogrid.store import areas as area_store
from geogrid.store import layers as layer_store
from geogrid.store import people as people_store
from geogrid.store.engine import Bind, session_scope


def database_summary(bind: Bind) -> dict[str, int]:
    """Counts of current areas per level, features, people and assignments."""
    with session_scope(bind) as session:
        levels = area_store.count_levels(session)
        counts = {level.value: levels.get(level.value, 0) for level in AreaLevel}
        for layer in layer_store.FEATURE_MODELS:
            counts[layer] = layer_store.count_features(session, layer)
        counts["people"], counts["assignments"] = people_store.count_people(session)
    return counts
