# syntax=docker/dockerfile:1
# tekser as a container image (issue #18): a Rust build stage and a small Debian runtime.
#
#   docker build -t tekser:0.1.0 --build-arg TEKSER_GIT_COMMIT=$(git rev-parse HEAD) .
#   docker run --rm -p 8080:8080 tekser:0.1.0
#
# Not built on the project's machine (no Docker daemon, no registry there): this file was checked
# by reading it against the binary's needs (README "Deployment" says what was and was not tested).

# ---- build -------------------------------------------------------------------------------------
FROM rust:1-bookworm AS build
WORKDIR /src
# The whole context (.dockerignore keeps target/, .git and the fuzz outputs out). Everything the
# binary embeds is in it: the NCA trust set (trust/kz-nca-prod, include_bytes! in
# src/pki/builtin.rs), the demo roots (fixtures/pki), the page (web/) and docs/openapi.yaml; and
# Cargo.toml names benches/ explicitly, so the manifest does not load without them.
COPY . .
# `GET /version` reports it (src/http/ops.rs reads it with option_env! at build time). Left unset
# when empty, so that /version says null rather than "".
ARG TEKSER_GIT_COMMIT=""
# `dist` = release + fat LTO (Cargo.toml; ~24 % more requests per second, BENCHMARKS.md).
# aws-lc-sys compiles its C with the cc crate: this image's gcc is enough (no cmake, no bindgen).
# The cache mounts keep the registry and target/ between builds (BuildKit), so the binary is
# copied out of target/ in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    if [ -z "$TEKSER_GIT_COMMIT" ]; then unset TEKSER_GIT_COMMIT; fi; \
    cargo build --profile dist --locked --bin tekser \
    && install -D -m 0755 target/dist/tekser /out/tekser

# ---- runtime -----------------------------------------------------------------------------------
# `ldd tekser` on bookworm: libgcc_s.so.1, libm.so.6, libc.so.6 only (glibc 2.36, the same as the
# build stage's). debian:bookworm-slim rather than distroless: the Kubernetes preStop hook runs
# `sleep` (deploy/k8s/deployment.yaml).
FROM debian:bookworm-slim
# tekser itself needs no CA bundle today (it serves TLS from files it is given, fetches OCSP
# and CRLs over plain http: that data is signed, https fetching is refused, and speaks to Redis
# without TLS: rediss:// is refused). ca-certificates is kept for operators' own tools in the
# image (a debugging curl to an https endpoint) and costs ~0.5 MB.
# Unpinned on purpose (hadolint DL3008): ca-certificates should be bookworm's current one.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 tekser \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin tekser
COPY --from=build /out/tekser /usr/local/bin/tekser
# Numeric, so that Kubernetes' runAsNonRoot can check it without reading /etc/passwd. tekser
# writes no files: the root filesystem can be mounted read-only.
USER 10001:10001
EXPOSE 8080
# tekser runs as PID 1: it installs its own SIGTERM/SIGINT handler (stop accepting, drain for
# shutdown_grace_ms, exit 0) and starts no child processes, so no init process is needed.
STOPSIGNAL SIGTERM
# No HEALTHCHECK: the image has no HTTP client, and orchestrators probe /healthz and /readyz
# themselves (deploy/k8s/deployment.yaml). The default trust set is the NCA's production roots,
# built into the binary; mount a config file for anything else:
#   docker run -v $PWD/tekser.toml:/etc/tekser/tekser.toml:ro tekser:0.1.0 serve --config /etc/tekser/tekser.toml
ENTRYPOINT ["tekser"]
CMD ["serve", "--listen", "0.0.0.0:8080"]
