"""The FastAPI application (应用) and its start-up."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from geogrid import __version__
from geogrid.api.errors import install_error_handlers
from geogrid.api.headers import SecurityHeaders, content_security_policy
from geogrid.api.limits import BodySizeLimit
from geogrid.api.routers import (
    areas,
    auth,
    coverage,
    features,
    lookup,
    maps,
    ogc,
    people,
    plans,
)
from geogrid.config import Settings, get_settings
from geogrid.maps.tiles import tiles_of
from geogrid.services.coverage import check_options
from geogrid.services.lookup import LookupService
from geogrid.services.snapshot_cache import snapshot_cache
from geogrid.store.engine import Bind, init_db, make_engine

SWAGGER_UI = StaticFiles(
    directory=str(resources.files("geogrid.api") / "static" / "swagger-ui")
)
"""Swagger UI from the npm registry (swagger-ui-dist, Apache-2.0), for /docs offline."""


def create_app(
    settings: Settings | None = None, *, bind: Bind | None = None
) -> FastAPI:
    """Build the app; ``bind`` lets tests hand in their own database."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = None
        if bind is None:
            engine = make_engine(
                settings.database_url, spatialite_path=settings.spatialite_path
            )
            init_db(engine)
        app.state.bind = bind if bind is not None else engine
        app.state.lookup = LookupService(
            app.state.bind,
            near_m=settings.lookup_near_m,
            # A served database shares its snapshot with the other workers
            # and the next start; a test's own bind keeps to itself.
            cache=snapshot_cache(settings.cache_dir, settings.database_url)
            if bind is None
            else None,
            index_on_miss=bind is None,
        )
        if bind is None:  # a served database: build what the first lookup needs
            app.state.lookup.warm_up()
        app.state.check_options = check_options(settings)
        app.state.settings = settings
        app.state.tiles = tiles_of(settings)
        yield
        if engine is not None:
            engine.dispose()

    app = FastAPI(
        title="geogrid",
        version=__version__,
        description="社区网格化管理服务 / community grid governance",
        lifespan=lifespan,
        docs_url=None,  # served below from the package: an intranet has no CDN
        redoc_url=None,
    )
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_body_bytes=settings.max_body_bytes)
    tiles = tiles_of(settings)
    app.add_middleware(SecurityHeaders, csp=content_security_policy(tiles))
    app.mount("/static/swagger-ui", SWAGGER_UI, name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui_html() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="geogrid API",
            swagger_js_url="/static/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/swagger-ui/favicon-32x32.png",
        )

    app.include_router(lookup.router)
    app.include_router(coverage.router)
    app.include_router(maps.router)
    app.include_router(auth.router)
    app.include_router(people.router)
    app.include_router(areas.router)
    for router in features.ROUTERS:
        app.include_router(router)
    app.include_router(ogc.router)
    app.include_router(plans.router)
    for kind in ("public", "staff", "coverage"):  # pages refer to static/ beside them
        app.mount(f"/maps/{kind}/static", maps.ASSETS, name=f"{kind}-map-assets")
    app.mount("/plans/{plan_id}/static", maps.ASSETS, name="plan-map-assets")
    return app
