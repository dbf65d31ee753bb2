"""Template tags through which other apps' pages show incidents without importing this app."""
