# syntax=docker/dockerfile:1
# DreamSeed Analytics: one image for the batch jobs and the HTTP service.
#   docker build -t dreamseed-analytics:0.1.0 .
#   docker run --rm dreamseed-analytics:0.1.0                         # dreamseed --help
#   docker run --rm -e DATABASE_URL=postgresql://... dreamseed-analytics:0.1.0 dreamseed run compute-daily-kpis
#   docker run --rm -p 8000:8000 -e DATABASE_URL=... dreamseed-analytics:0.1.0 dreamseed serve --host 0.0.0.0 --port 8000
# Kubernetes runs it as uid 10001 with a read-only root filesystem (deploy/k8s/).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: install the package and its runtime dependencies (no test extras) into a venv -------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/dreamseed
ENV PATH=/opt/dreamseed/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
# A regular (non-editable) install: the venv is self-contained and /src is not copied onward.
RUN pip install pip==26.3 \
    && pip install . \
    && python -m compileall -q /opt/dreamseed/lib

# --- runtime --------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
# No system packages: the Hangul report font (Noto Sans KR) comes with the Python dependencies.
# An unprivileged user; DREAMSEED_HOME (local state: reports when S3_BUCKET is unset, the embedded
# database when DATABASE_URL is unset) is a directory it owns.
RUN groupadd --gid 10001 dreamseed \
    && useradd --uid 10001 --gid 10001 --home-dir /home/dreamseed --create-home \
       --shell /usr/sbin/nologin dreamseed \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/dreamseed
COPY --from=build /opt/dreamseed /opt/dreamseed
ENV PATH=/opt/dreamseed/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DREAMSEED_HOME=/var/lib/dreamseed
USER 10001:10001
WORKDIR /home/dreamseed
EXPOSE 8000
CMD ["dreamseed", "--help"]
