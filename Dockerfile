# syntax=docker/dockerfile:1
#
# AutoPulse as a container: a static binary on a distroless image, running
# as a non-root user. The image needs an external PostgreSQL (DATABASE_URL);
# the embedded cluster of `make run` is for laptops. compose.yaml wires it
# up with Postgres, the one-shot migration, the API and the workers.
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t autopulse .

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so source edits reuse the download layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
# The same flags as `make build`: static, reproducible paths, stripped.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/autopulse ./cmd/autopulse
# The data directory (file blobs when S3 is not configured) must belong to
# the runtime user, and the runtime image has no shell to create it.
RUN mkdir -p /out/data

# static-debian12 has CA certificates and /etc/passwd with the nonroot
# user (65532), and nothing else: no shell, no package manager. Time zones
# are compiled into the binary (time/tzdata).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/autopulse /autopulse
COPY --from=build --chown=65532:65532 /out/data /data
# In a container the listeners must face the container network; publish
# only 8080. The metrics port is for the scraper on the private network.
ENV AUTOPULSE_ENV=production \
    AUTOPULSE_DATA_DIR=/data \
    AUTOPULSE_LISTEN=0.0.0.0:8080 \
    AUTOPULSE_METRICS_LISTEN=0.0.0.0:9090
USER nonroot:nonroot
EXPOSE 8080 9090
# SIGTERM drains in-flight requests and jobs within
# AUTOPULSE_SHUTDOWN_TIMEOUT (25s); give the container longer than that to
# stop (docker stop -t 30, compose stop_grace_period, ECS stopTimeout).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/autopulse"]
CMD ["serve"]
