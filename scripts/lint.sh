#!/usr/bin/env bash
# The linter of the gate (scripts/test.sh, make lint): golangci-lint with
# .golangci.yml, pinned to one version so that every machine reports the
# same issues. It installs that version when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

version=v2.15.0
export PATH="$PATH:/usr/local/go/bin"
bin=$(go env GOBIN)
[ -n "$bin" ] || bin="$(go env GOPATH)/bin"
lint="$bin/golangci-lint"
if ! "$lint" version 2>/dev/null | grep -q "version ${version#v} "; then
	echo "installing golangci-lint $version into $bin"
	# pkg@version builds outside this module: go.mod and go.sum stay as
	# they are.
	GOFLAGS=-mod=mod go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$version"
fi
"$lint" run ./...
