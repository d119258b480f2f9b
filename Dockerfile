# One image for every baocao service in docker-compose.yml; the command picks the role
# (worker, warehouse, notify, init, create-topics). Checked by tests/project/test_dockerfile.py;
# never built on the development machines (no Docker engine there).

# Build stage: turn the source and every dependency into wheels, so the runtime stage
# needs neither the source tree nor build tools.
FROM python:3.11.13-slim-bookworm AS build
# A C compiler for the one dependency without an arm64 wheel on PyPI, faust-streaming (its
# Cython speedups; docs/operations.md, Pins). Unused on x86_64, where every dependency is
# a wheel; this stage is thrown away, so the runtime image has no compiler.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Every dependency at the version the tests ran with (constraints.txt, as `make` uses it).
COPY pyproject.toml README.md constraints.txt ./
COPY contract ./contract
COPY producers ./producers
COPY streams ./streams
COPY sinks ./sinks
COPY warehouse ./warehouse
COPY baocao ./baocao
COPY dashboards ./dashboards
RUN pip wheel --no-cache-dir --constraint constraints.txt --wheel-dir /wheels .

FROM python:3.11.13-slim-bookworm
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels baocao \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --home-dir /var/lib/baocao baocao \
    && install -d -o baocao -g baocao /var/lib/baocao
# Non-root; the working directory holds var/ (defaults) and is a volume in compose.
USER baocao
WORKDIR /var/lib/baocao
ENTRYPOINT ["baocao"]
CMD ["--help"]
