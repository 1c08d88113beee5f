# Haven's web, worker and beat image: slim, non-root, the same pinned dependencies as CI.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.lock ./
RUN python -m venv /venv && /venv/bin/pip install --require-hashes -r requirements.lock
COPY . .
# Static files and translations are built into the image. Settings need production
# values to import; these are throwaway ones that exist only during this step.
RUN /venv/bin/python manage.py compilemessages --ignore=/venv -v 0 \
    && env DEBUG=false \
       SECRET_KEY="$(/venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
       FIELD_ENCRYPTION_KEY="$(/venv/bin/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
       DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
       ALLOWED_HOSTS=build SITE_URL=https://build EMAIL_HOST=localhost \
       /venv/bin/python manage.py collectstatic --noinput -v 0

FROM python:3.11-slim
ENV PATH=/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DEBUG=false HAVEN_VAR_DIR=/tmp/haven
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin haven
COPY --from=build /venv /venv
COPY --from=build /app /app
WORKDIR /app
USER haven
EXPOSE 8000
CMD ["gunicorn", "helpdesk.wsgi:application", "--config", "gunicorn.conf.py"]
