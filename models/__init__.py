"""Plain data shared by every package: what a page and a component become."""
