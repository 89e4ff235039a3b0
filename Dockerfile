# creditnet API / CLI image.  Build: docker build -t creditnet .   (or: docker compose up --build)
#
# Dependencies come from requirements.lock (exact versions with hashes), so two builds of one
# commit install the same packages. After changing the dependencies in pyproject.toml, refresh it:
#   pip install pip-tools && pip-compile --strip-extras --generate-hashes --allow-unsafe \
#     --no-emit-index-url --no-emit-find-links --output-file=requirements.lock pyproject.toml
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
COPY requirements.lock /tmp/requirements.lock
RUN pip install --require-hashes --no-deps -r /tmp/requirements.lock && rm /tmp/requirements.lock
COPY --from=build /wheels /wheels
RUN pip install --no-deps /wheels/*.whl && rm -rf /wheels \
 && useradd --system --uid 10001 --create-home --home-dir /home/creditnet creditnet \
 && mkdir -p /data /bundles && chown creditnet:creditnet /data
# /data exists and is owned by the app user, so a fresh named volume mounted there is writable.
# /bundles is where docker-compose.yml mounts ./bundles (read-only) for `creditnet load`.
VOLUME ["/data"]
USER creditnet
WORKDIR /home/creditnet
EXPOSE 8000
ENTRYPOINT ["creditnet"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
