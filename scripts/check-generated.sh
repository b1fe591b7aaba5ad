#!/usr/bin/env bash
# Checks Puente's wire protocol definitions (proto/):
#   1. installs the pinned code generators from the Go module proxy (skipped when the same
#      versions are already installed in the tool directory);
#   2. runs `buf lint` (STANDARD and COMMENTS rules, see proto/buf.yaml);
#   3. regenerates the Go code into a temporary copy of proto/ and fails on any difference from
#      the checked-in code, including a generated file whose .proto is gone.
# Usage: scripts/check-generated.sh            (from anywhere in the repository)
#        scripts/check-generated.sh --write    (regenerate the checked-in code in place)
# Env:   PUENTE_TOOLS  directory for the generator binaries (default: $(go env GOPATH)/puente-tools)
set -euo pipefail
cd "$(dirname "$0")/.."

BUF_VERSION=v1.75.0
PROTOC_GEN_GO_VERSION=v1.36.12
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2

tools=${PUENTE_TOOLS:-$(go env GOPATH)/puente-tools}
mkdir -p "$tools"
export PATH="$tools:$PATH"

# install NAME PACKAGE VERSION WANT: installs PACKAGE@VERSION unless `NAME --version` prints WANT.
install() {
  local name=$1 pkg=$2 version=$3 want=$4
  if [ -x "$tools/$name" ] && [ "$("$tools/$name" --version 2>&1 | tr -d '\n')" = "$want" ]; then
    return
  fi
  echo "installing $pkg@$version"
  GOFLAGS= GOBIN="$tools" go install "$pkg@$version"
  local got
  got=$("$tools/$name" --version 2>&1 | tr -d '\n')
  if [ "$got" != "$want" ]; then
    echo "check-generated: $name reports version '$got', want '$want'" >&2
    exit 1
  fi
}
install buf github.com/bufbuild/buf/cmd/buf "$BUF_VERSION" "${BUF_VERSION#v}"
install protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go "$PROTOC_GEN_GO_VERSION" \
  "protoc-gen-go $PROTOC_GEN_GO_VERSION"
install protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc "$PROTOC_GEN_GO_GRPC_VERSION" \
  "protoc-gen-go-grpc ${PROTOC_GEN_GO_GRPC_VERSION#v}"

echo "buf lint (proto/)"
(cd proto && buf lint)

if [ "${1:-}" = "--write" ]; then
  find proto -name '*.pb.go' -delete
  (cd proto && buf generate)
  echo "regenerated proto/"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -R proto "$work/proto"
find "$work/proto" -name '*.pb.go' -delete
(cd "$work/proto" && buf generate)
if ! diff -r proto "$work/proto"; then
  echo "check-generated: the generated code in proto/ differs from the .proto files;" >&2
  echo "run scripts/check-generated.sh --write and commit the result" >&2
  exit 1
fi
echo "generated code in proto/ is up to date"
