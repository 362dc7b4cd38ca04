# Vigil's container image: the static vigil binary on an empty base with
# CA certificates and the users it runs as. One image serves both roles:
#
#   node agent (DaemonSet):  vigil run     runs as root with the
#                                          capabilities the chart lists
#                                          (eBPF, fanotify, other users'
#                                          /proc); reads the host under /host
#   central service:         vigil server  runs as nonroot (65532)
#
# With a registry:   docker build -t vigil .
# Without one:       make image   (builds the binary on the host as
#                    `make build` does, then only this file's runtime
#                    stage: BuildKit skips the Go toolchain stage, which
#                    would have to be pulled)

ARG GO_IMAGE=golang:1.26-bookworm
# build: compile inside the Go image; prebuilt: take .image/ from make image.
ARG BINARY_FROM=build

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
# The flags of `make build`: static, no cgo, trimmed paths.
RUN CGO_ENABLED=0 go build -trimpath -tags grpcnotrace \
	-ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
	-o /out/usr/bin/vigil ./cmd/vigil \
	&& ./deploy/docker/rootfs.sh /out

FROM scratch AS prebuilt
COPY .image/ /out/

FROM ${BINARY_FROM} AS binary

FROM scratch AS runtime
COPY --from=binary /out/ /
# The DaemonSet mounts the host's /proc, cgroup tree, /etc and runtime
# sockets under /host (docs/deploy.md); vigil server reads no host path.
ENV VIGIL_HOST_ROOT=/host
# nonroot; the agent's pod sets runAsUser: 0, the server's keeps this.
USER 65532:65532
ENTRYPOINT ["/usr/bin/vigil"]
CMD ["--help"]
