"""The web service (网络服务): FastAPI app, routers, schemas and error mapping."""
