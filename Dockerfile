# Image of the service, used by compose.yaml. Runs as an unprivileged user.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PICCOLO_CONF=piccolo_conf
WORKDIR /app
COPY pyproject.toml README.md piccolo_conf.py ./
COPY plateforme ./plateforme
COPY sites ./sites
COPY rdv ./rdv
RUN pip install --no-cache-dir . && useradd --system --home /app rdv && chown -R rdv /app
USER rdv
EXPOSE 8000
CMD ["python", "-m", "plateforme", "serve", "--host", "0.0.0.0", "--port", "8000"]
