"""How the portal writes dates for people, one module per language (settings
FORMAT_MODULE_PATH); a language without its own module falls back to Django's."""
