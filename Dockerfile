# The PEN Portal image: one image for web (gunicorn), worker and beat (celery) and the
# one-shot migrate job; docker-compose.yml says which runs what. Configuration comes only
# from the environment at run time (see .env.example): nothing secret is baked in.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PEN_ENV=production \
    PEN_VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles \
    PORT=8000

WORKDIR /app

# An unprivileged user owns nothing but the writable folders.
RUN groupadd --system --gid 10001 pen \
    && useradd --system --uid 10001 --gid pen --home-dir /app --no-create-home --shell /usr/sbin/nologin pen

# The pinned dependencies first, so that a code change reuses this layer
# (pyproject.toml installs the dependencies only: the code runs from /app).
COPY pyproject.toml ./
RUN pip install .

COPY . .

# Static files are collected into the image and served by WhiteNoise. Settings refuse to
# load in production without their variables, so this one step gets placeholders: they
# exist only for this command, are no secret, and are not in the image's environment.
RUN SECRET_KEY=collectstatic-placeholder-not-a-secret-used-only-at-build-time \
    ALLOWED_HOSTS=localhost \
    SITE_URL=https://localhost \
    DATABASE_URL=postgres://build@localhost:5432/build \
    REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --no-input \
    && mkdir -p /app/var/private-media \
    && chown -R pen:pen /app/var

USER pen

EXPOSE 8000

# The web service; docker-compose.yml overrides the command for migrate, worker and beat.
CMD ["gunicorn", "pen_portal.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--timeout", "60"]
