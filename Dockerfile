# syntax=docker/dockerfile:1
# The mybnb binary in a small image, for deploy/k8s and for `docker run`:
#   docker build -t mybnb:0.1.0 .
#   docker run --rm -p 8080:8080 mybnb:0.1.0          # all services, SQLite in the container
# Needs BuildKit (the default builder of current Docker) for the cache mounts.

# Build: Rust on Debian bookworm (the workspace needs Rust >= 1.94; rust:1 is the newest).
FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
# The cache mounts keep downloaded crates and compiled dependencies between builds, so a
# change to mybnb's own code rebuilds only that.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p mybnb \
 && install -D -m 0755 target/release/mybnb /out/mybnb

# Run: Debian slim, CA certificates (TLS to SMTP, NATS, PostgreSQL), an unprivileged user
# with a fixed UID/GID (deploy/k8s runs as 10001 and checks runAsNonRoot).
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 mybnb \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/mybnb --no-create-home \
      --shell /usr/sbin/nologin mybnb \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/mybnb
COPY --from=builder /out/mybnb /usr/local/bin/mybnb
USER 10001:10001
WORKDIR /var/lib/mybnb
# Reachable from outside the container, data in the user's directory; MYBNB_* variables
# (deploy/k8s/configmap.yaml) override both.
ENV MYBNB_LISTEN=0.0.0.0:8080 \
    MYBNB_DATA_DIR=/var/lib/mybnb
EXPOSE 8080
ENTRYPOINT ["mybnb"]
CMD ["serve"]
