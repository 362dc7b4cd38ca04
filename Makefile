# Vigil build targets. `make test` is what CI runs (through scripts/test.sh).
GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: build generate vmlinux check-generated lint test fuzz bench man clean image

## build: the static vigil binary (no cgo, no clang needed)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -tags grpcnotrace -ldflags '$(LDFLAGS)' -o vigil ./cmd/vigil

## generate: rebuild the eBPF objects, their Go bindings and the Go types of
## the wire records the layout tests check (needs clang)
generate:
	$(GO) generate ./internal/sensor/... ./internal/enforce/... ./internal/decode/...

## vmlinux: regenerate bpf/vmlinux.h from the running kernel's BTF, then the objects
vmlinux:
	bpftool btf dump file /sys/kernel/btf/vmlinux format c > bpf/vmlinux.h
	$(MAKE) generate

## check-generated: fail if the committed eBPF objects differ from a fresh build
check-generated: generate
	git diff --exit-code -- internal/sensor/ internal/enforce/ internal/decode/ || \
		{ echo "committed eBPF objects are stale: run 'make generate' and commit"; exit 1; }

## lint: golangci-lint with .golangci.yml, at the version the gate pins
## (installed when missing)
lint:
	./scripts/lint.sh

## test: everything CI runs
test:
	./scripts/test.sh

## fuzz: run every fuzz target under FUZZDIRS for FUZZTIME (default 30s) each; FUZZING.md records the last runs
FUZZTIME ?= 30s
FUZZDIRS ?= internal bench
FUZZFLAGS ?=
fuzz:
	@for t in $$(grep -rl --include='*_test.go' '^func Fuzz' $(FUZZDIRS) | grep -v '/testdata/'); do \
		dir=$$(dirname $$t); \
		for f in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$t | cut -d' ' -f2); do \
			echo "== $$f ($$dir)"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $(FUZZFLAGS) ./$$dir || exit 1; \
		done; \
	done

## bench: the full benchmark (bench/run; QUICK=1 for a smoke run), report in bench/results/
bench:
	./bench/run

## man: a manual page per command, generated from the command tree, in man/
man:
	$(GO) run ./cmd/vigil gendocs man

## image: the container image $(IMAGE) with no registry at hand: the
## binary is built here as by `make build`, then only the Dockerfile's
## runtime stage runs (BuildKit skips the Go toolchain stage, which would
## have to be pulled). With a registry, `docker build .` does it all.
IMAGE  ?= vigil:$(VERSION)
DOCKER ?= $(shell [ -x /usr/bin/docker ] && echo /usr/bin/docker || echo docker)
image: build
	rm -rf .image && mkdir -p .image/usr/bin && cp vigil .image/usr/bin/vigil && ./deploy/docker/rootfs.sh .image
	DOCKER_BUILDKIT=1 $(DOCKER) build --build-arg BINARY_FROM=prebuilt --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) -t $(IMAGE) .
	rm -rf .image

clean:
	rm -rf vigil man .image
