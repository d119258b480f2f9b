# Production image for the stream workers and the warehouse sink (see docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY contract ./contract
COPY producers ./producers
COPY streams ./streams
COPY sinks ./sinks
COPY baocao ./baocao
COPY dashboards ./dashboards
RUN pip install --no-cache-dir . && useradd --system baocao
USER baocao
ENTRYPOINT ["baocao"]
