# stepseven: the collector (OTLP 4317/4318, query API 4319) and, as a second service, the dashboard (8501).
# Build: docker build -t stepseven .      Run: docker compose up   (see docker-compose.yml)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml setup.py README.md ./
COPY stepseven ./stepseven
COPY collector ./collector
COPY store ./store
COPY api ./api
COPY analyzer ./analyzer
COPY dashboard ./dashboard
COPY sample_traces ./sample_traces
# gcc only while installing: it compiles the per-span decoders (setup.py), then leaves the image.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && pip install . \
    && apt-get purge -y gcc libc6-dev && apt-get autoremove -y && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 stepseven && mkdir /data && chown stepseven /data

USER stepseven
# Inside a container the ports must listen beyond loopback; the compose file publishes them on the
# host's loopback only, unless you change that on purpose.
ENV STEPSEVEN_HOST=0.0.0.0 \
    STEPSEVEN_DB=/data/stepseven.duckdb
VOLUME ["/data"]
EXPOSE 4317 4318 4319 8501

HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:4319/healthz', timeout=4)"

ENTRYPOINT ["stepseven"]
CMD ["serve", "--no-ui"]
