# creditnet API / CLI image.  Build: docker build -t creditnet .   (or: docker compose up --build)
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CREDITNET_DATA_DIR=/data
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels \
 && useradd --system --uid 10001 --create-home --home-dir /home/creditnet creditnet \
 && mkdir -p /data && chown creditnet:creditnet /data
# /data exists and is owned by the app user, so a fresh named volume mounted there is writable.
VOLUME ["/data"]
USER creditnet
WORKDIR /home/creditnet
EXPOSE 8000
ENTRYPOINT ["creditnet"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
