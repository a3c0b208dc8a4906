# Multi-stage build: compile with the Rust toolchain, run on a slim Debian with only CA certificates.
# The toolchain link-order.txt was made with (its symbols carry the compiler's hash; docs/ARCHITECTURE.md,
# "Code layout"): another one builds a correct binary that keeps more memory resident.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin tochen

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /var/lib/tochen tochen \
 && mkdir -p /var/lib/tochen/data && chown -R tochen /var/lib/tochen
COPY --from=build /src/target/release/tochen /usr/local/bin/tochen
USER tochen
WORKDIR /var/lib/tochen
# Metrics stay on the container's loopback: /metrics is not for the internet. To scrape it from another
# container, set TOCHEN_METRICS_BIND to an address on a private network only the scraper shares.
ENV TOCHEN_DATA_DIR=/var/lib/tochen/data \
    TOCHEN_BIND=0.0.0.0:8080 \
    TOCHEN_METRICS_BIND=127.0.0.1:9090 \
    TOCHEN_LOG_FORMAT=json
EXPOSE 8080
VOLUME ["/var/lib/tochen/data"]
ENTRYPOINT ["tochen"]
CMD ["run"]
