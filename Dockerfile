# glassbox in one container.  Banks pull base images from internal mirrors:
# pass --build-arg BASE=<mirror>/debian:12-slim (any Debian 12 image works).
ARG BASE=debian:12-slim

# ---- build stage: compile glassbox, install the dashboard's npm packages ----
FROM ${BASE} AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends gcc make pkg-config libc6-dev \
        libmicrohttpd-dev libcjson-dev libsqlite3-dev libopenblas-dev check \
        nodejs npm ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY core core
COPY explain explain
COPY storage storage
COPY api api
COPY server server
COPY web web
# npm reaches the registry (or the bank's mirror: --build-arg
# NPM_REGISTRY=...) over TLS; a bank's own CA bundle can be handed in as the
# build secret `ca_bundle` (podman/docker build --secret
# id=ca_bundle,src=/path/ca.pem): it is used for this step only and never
# stored in an image layer.
ARG NPM_REGISTRY=https://registry.npmjs.org/
RUN --mount=type=secret,id=ca_bundle \
    make -j"$(nproc)" build/glassbox \
 && if [ -f web/package-lock.json ]; then \
        cd web \
        && if [ -s /run/secrets/ca_bundle ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca_bundle; fi \
        && npm ci --omit=dev --no-audit --no-fund --registry "$NPM_REGISTRY"; \
    fi

# ---- runtime stage: the binary, the web assets, runtime libraries ----------
FROM ${BASE}
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends libmicrohttpd12 libcjson1 \
        libsqlite3-0 libopenblas0-pthread curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/glassbox --shell /usr/sbin/nologin glassbox \
 && mkdir -p /var/lib/glassbox && chown glassbox:glassbox /var/lib/glassbox
COPY --from=build /src/build/glassbox /usr/local/bin/glassbox
COPY --from=build /src/web /usr/share/glassbox/web
WORKDIR /usr/share/glassbox
USER glassbox
# Configuration is by GLASSBOX_* variables (docs/operations.md); inside the
# container the daemon listens on all interfaces: publish the port only where
# it should be reachable.
ENV GLASSBOX_BIND=0.0.0.0 \
    GLASSBOX_PORT=8080 \
    GLASSBOX_DATA_DIR=/var/lib/glassbox
VOLUME /var/lib/glassbox
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/api/v1/health || exit 1
ENTRYPOINT ["/usr/local/bin/glassbox", "serve"]
