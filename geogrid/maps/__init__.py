"""Interactive maps (地图): folium pages that work offline, with a privacy whitelist."""
