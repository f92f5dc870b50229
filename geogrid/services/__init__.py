"""Use cases (业务服务): load from store, call engines, write back in one transaction."""
