"""Template tags every page shares (base.html loads them)."""
