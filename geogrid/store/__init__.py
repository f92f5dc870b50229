"""Storage (存储): SQLAlchemy 2 + GeoAlchemy2 on SpatiaLite and PostGIS; the only package that talks SQL."""
