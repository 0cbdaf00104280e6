#!/usr/bin/env bash
# Installs the local development stack (README.md "What runs": each component and how it
# starts). Idempotent: every step is skipped
# when its result is already present, so it is safe to run before each `up`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

TOOLS_BIN="$ROOT/.tools/bin"
VENV="$ROOT/.tools/venv"
LOCALSTRIPE_VERSION="1.15.10"
# The Temporal CLI (and the dev server in it) is built from dev/temporal-cli: v1.5.1, the newest tag
# whose go.mod has no `replace`, with the SQLite driver that no longer wedges (dev/temporal-cli/tools.go).
TEMPORAL_CLI_SQLITE="v1.44.3"

step() { printf '%-12s %s\n' "$1" "$2"; }

# Root needs no sudo; anyone else does, and apt-get refuses without it.
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

apt_packages=()
if ! command -v pg_ctlcluster >/dev/null 2>&1; then apt_packages+=(postgresql); fi
if ! command -v redis-server >/dev/null 2>&1; then apt_packages+=(redis-server); fi
# The local CA (openssl) of the TLS tests and the Temporal cluster; slim images lack the CLI.
if ! command -v openssl >/dev/null 2>&1; then apt_packages+=(openssl); fi
# Debian splits venv's pip bootstrap into python3-venv; only needed to create the venv.
if [[ ! -x "$VENV/bin/python" ]] && ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  apt_packages+=(python3-venv)
fi
# The browser of the web client's end-to-end test (playwright-core drives Debian's Chromium; it downloads none).
if [[ ! -x /usr/bin/chromium ]]; then apt_packages+=(chromium chromium-driver); fi
# Maven (and the JDK it brings) fetches Temporal's Java test server for the workflow tests (below).
if ! command -v mvn >/dev/null 2>&1; then apt_packages+=(maven); fi
if ((${#apt_packages[@]})); then
  step apt "installing ${apt_packages[*]}"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_packages[@]}" >/dev/null
else
  step apt "skip (nothing needed from apt)"
fi

need_go() {
  if ! command -v go >/dev/null 2>&1; then
    echo "go is required to build $1 (install Go 1.23+ and re-run)" >&2
    exit 1
  fi
}

mkdir -p "$TOOLS_BIN"
if [[ -x "$TOOLS_BIN/temporal" ]] && go version -m "$TOOLS_BIN/temporal" 2>/dev/null | grep -q "modernc.org/sqlite[[:space:]]*$TEMPORAL_CLI_SQLITE"; then
  step temporal "skip (.tools/bin/temporal present, SQLite driver $TEMPORAL_CLI_SQLITE)"
else
  need_go temporal
  step temporal "go build temporalio/cli v1.5.1 from dev/temporal-cli (takes a few minutes)"
  (cd "$ROOT/dev/temporal-cli" && go build -trimpath -o "$TOOLS_BIN/temporal.new" github.com/temporalio/cli/cmd/temporal)
  mv -f "$TOOLS_BIN/temporal.new" "$TOOLS_BIN/temporal"
fi

# The Temporal server the CLI embeds, built as its own binary for a real cluster (`npm run up -- --cluster`,
# `npm run test:production`), with its schema tool and the Postgres schema files its module ships.
TEMPORAL_SERVER_VERSION="v1.29.1"
SCHEMA_DIR="$ROOT/.tools/temporal-schema/postgresql/v12"
for tool in server:temporal-server tools/sql:temporal-sql-tool; do
  package="${tool%%:*}"
  binary="${tool##*:}"
  if [[ -x "$TOOLS_BIN/$binary" ]]; then
    step "$binary" "skip (.tools/bin/$binary present)"
    continue
  fi
  need_go "$binary"
  step "$binary" "go install go.temporal.io/server/cmd/$package@$TEMPORAL_SERVER_VERSION (first build: several minutes on 2 cores)"
  # go install names the binary after its directory (server, sql): build aside, then give it a clear name.
  build_dir="$(mktemp -d)"
  GOBIN="$build_dir" go install "go.temporal.io/server/cmd/$package@$TEMPORAL_SERVER_VERSION"
  mv "$build_dir/$(basename "$package")" "$TOOLS_BIN/$binary"
  rm -rf "$build_dir"
done
if [[ -d "$SCHEMA_DIR/temporal/versioned" && -d "$SCHEMA_DIR/visibility/versioned" ]]; then
  step schema "skip (.tools/temporal-schema present)"
else
  step schema "copying the Postgres schema of go.temporal.io/server@$TEMPORAL_SERVER_VERSION"
  module_dir="$(go env GOMODCACHE)/go.temporal.io/server@$TEMPORAL_SERVER_VERSION"
  if [[ ! -d "$module_dir/schema/postgresql/v12" ]]; then
    GOFLAGS=-mod=mod go mod download "go.temporal.io/server@$TEMPORAL_SERVER_VERSION"
  fi
  mkdir -p "$(dirname "$SCHEMA_DIR")"
  rm -rf "$SCHEMA_DIR"
  cp -r "$module_dir/schema/postgresql/v12" "$SCHEMA_DIR"
  # The module cache is read-only; the copy should not be.
  chmod -R u+w "$SCHEMA_DIR"
fi

if [[ -x "$TOOLS_BIN/local-kms" ]]; then
  step local-kms "skip (.tools/bin/local-kms present)"
else
  need_go local-kms
  # Its tags lack the `v` prefix, so Go cannot resolve them as versions.
  step local-kms "go install nsmithuk/local-kms@latest"
  GOBIN="$TOOLS_BIN" go install github.com/nsmithuk/local-kms@latest
fi

if [[ -x "$VENV/bin/localstripe" ]]; then
  step localstripe "skip (.tools/venv has localstripe)"
else
  if [[ ! -x "$VENV/bin/python" ]]; then
    step venv "creating .tools/venv"
    python3 -m venv "$VENV"
  fi
  step localstripe "pip install localstripe==$LOCALSTRIPE_VERSION"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "localstripe==$LOCALSTRIPE_VERSION"
fi

# The Kubernetes schemas the manifests in deploy/k8s are checked against offline (npm run check:manifests):
# kubernetes-validate bundles them, one set per Kubernetes release.
KUBERNETES_VALIDATE_VERSION="1.37.0"
if [[ -x "$VENV/bin/kubernetes-validate" ]] && "$VENV/bin/kubernetes-validate" --version 2>/dev/null | grep -qF "$KUBERNETES_VALIDATE_VERSION"; then
  step k8s-schemas "skip (.tools/venv has kubernetes-validate $KUBERNETES_VALIDATE_VERSION)"
else
  # The venv exists by now: the localstripe step above made it.
  step k8s-schemas "pip install kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
fi

# schemathesis holds the running API to its OpenAPI document (test/integration/schemathesis.test.ts).
SCHEMATHESIS_VERSION="4.32.5"
if [[ -x "$VENV/bin/schemathesis" ]] && [[ "$("$VENV/bin/schemathesis" --version 2>/dev/null)" == "schemathesis, version $SCHEMATHESIS_VERSION" ]]; then
  step schemathesis "skip (.tools/venv has schemathesis $SCHEMATHESIS_VERSION)"
else
  step schemathesis "pip install schemathesis==$SCHEMATHESIS_VERSION"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# Temporal's time-skipping test server, which the workflow tests (test/workflows) run through
# dev/temporal-test-server/run.sh: the SDK would download a native build of it, Maven Central serves
# the same server as jars. Redone when the pom changes; then one start records the JVM's class-data
# archive, so later starts listen within the 5 s the SDK allows on a loaded machine.
TEST_SERVER_HOME="$ROOT/.tools/temporal-test-server"
TEST_SERVER_POM="$ROOT/dev/temporal-test-server/pom.xml"
if [[ -f "$TEST_SERVER_HOME/classes.jsa" ]] && cmp -s "$TEST_SERVER_POM" "$TEST_SERVER_HOME/pom.xml"; then
  step test-server "skip (.tools/temporal-test-server matches dev/temporal-test-server/pom.xml)"
else
  step test-server "mvn dependency:copy-dependencies (Temporal's Java test server)"
  rm -rf "$TEST_SERVER_HOME"
  mvn -q -B -f "$TEST_SERVER_POM" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$TEST_SERVER_HOME/lib"
  port=$((20000 + RANDOM % 10000))
  TEMPORAL_TEST_SERVER_RECORD=1 "$ROOT/dev/temporal-test-server/run.sh" "$port" >"$TEST_SERVER_HOME/record.log" 2>&1 &
  server=$!
  for _ in $(seq 1 600); do
    if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    sleep 0.1
  done
  # The archive is written as the JVM exits.
  kill -TERM "$server"
  wait "$server" || true
  if [[ ! -f "$TEST_SERVER_HOME/classes.jsa" ]]; then
    echo "Temporal's test server did not start (port $port): see $TEST_SERVER_HOME/record.log" >&2
    exit 1
  fi
  cp "$TEST_SERVER_POM" "$TEST_SERVER_HOME/pom.xml"
fi

# -nt is false when node_modules is newer, so a fresh `npm ci` is never repeated.
if [[ ! -d node_modules || package-lock.json -nt node_modules ]]; then
  step npm "npm ci"
  npm ci --no-audit --no-fund
  # npm ci does not always touch the directory itself; mark it as up to date.
  touch node_modules
else
  step npm "skip (node_modules up to date)"
fi
