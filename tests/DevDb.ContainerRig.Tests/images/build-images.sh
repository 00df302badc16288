#!/usr/bin/env bash
# Builds, without any registry, the images the container rig runs (tests/DevDb.ContainerRig.Tests):
#   postgres:15                                 stand-in for the official image: Debian bookworm (debootstrap
#                                               --variant=minbase) + Debian's postgresql-15 and locales, user and
#                                               group postgres at uid/gid 999, the binaries on PATH, the official
#                                               image's folder modes, STOPSIGNAL SIGINT and LANG en_US.utf8.
#   mcr.microsoft.com/dotnet/sdk:10.0           stand-in: the same base + this machine's /usr/share/dotnet + an
#                                               offline NuGet folder with exactly what DevDb.Api restores.
#   mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled
#                                               stand-in: a minimal root file system (no shell, no package manager)
#                                               with the .NET and ASP.NET Core runtimes, their libraries, CA
#                                               certificates and the non-root user 1654 ("app").
#   devdb-rig/postgres-sigterm:15              postgres:15 with STOPSIGNAL SIGTERM (a Postgres image that does not
#                                               ask for a fast shutdown, as many self-built ones do).
#   devdb/api:rig                               built from src/DevDb.Api/Dockerfile itself, FROM the stand-ins above.
# The stand-ins carry the names the Dockerfile and the pods use, but are NOT the upstream images: they are made
# here from Debian packages and this machine's .NET. Each is rebuilt only when its inputs change (a label holds
# their hash); the API image is rebuilt on every run (Docker's layer cache keeps the restore step).
#
# Needs: root, a running Docker engine at DOCKER_HOST (scripts/lib.sh start_rig_docker), debootstrap, and the
# Debian mirror this machine's apt uses (read from /etc/apt, never named here). Work files: $RIG_CACHE/build.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
RIG_CACHE="${RIG_CACHE:?RIG_CACHE (the rig cache folder) must be set}"
: "${DOCKER_HOST:?DOCKER_HOST must point at the rig Docker engine}"
DOCKER="${DOCKER:-/usr/bin/docker}"
BUILD="$RIG_CACHE/build"
SUITE=bookworm
PG_MAJOR=15
mkdir -p "$BUILD"

log() { printf '==> rig images: %s\n' "$*" >&2; }

# The first Debian mirror of this machine's apt sources (deb822 or one-line format).
debian_mirror() {
    local uri
    uri="$(sed -n -E 's/^URIs:[[:space:]]*([^[:space:]]+).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | grep -v -e security -e nodesource | head -n 1 || true)"
    [[ -n "$uri" ]] || uri="$(sed -n -E 's/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+)[[:space:]]+'"$SUITE"'[[:space:]].*/\2/p' \
        /etc/apt/sources.list 2>/dev/null | head -n 1 || true)"
    [[ -n "$uri" ]] || { echo "no Debian mirror found in /etc/apt" >&2; return 1; }
    printf '%s\n' "$uri"
}

# True when image $1 exists with label devdb.rig.inputs=$2.
image_current() {
    [[ "$("$DOCKER" image inspect -f '{{ index .Config.Labels "devdb.rig.inputs" }}' "$1" 2>/dev/null || true)" == "$2" ]]
}

# Imports the folder $1 as image $2 with label inputs $3 and further --change instructions.
import_rootfs() {
    local folder="$1" image="$2" inputs="$3"
    shift 3
    local changes=(--change "LABEL devdb.rig.inputs=$inputs" --change "LABEL devdb.rig.stand-in=true")
    local change
    for change in "$@"; do changes+=(--change "$change"); done
    tar --numeric-owner -C "$folder" -c . | "$DOCKER" import "${changes[@]}" - "$image" >/dev/null
}

in_chroot() {
    local root="$1"
    shift
    chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C "$@"
}

SELF_HASH="$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)"

# ---- the Debian base: debootstrap --variant=minbase, kept as a tar in the cache -------------------------------
BASE_TAR="$BUILD/base-$SUITE-$SELF_HASH.tar"
make_base() {
    [[ -f "$BASE_TAR" ]] && return 0
    log "debootstrap --variant=minbase $SUITE (about a minute)"
    local root="$BUILD/base-root"
    rm -rf "$root" "$BUILD"/base-*.tar
    debootstrap --variant=minbase "$SUITE" "$root" "$(debian_mirror)" >"$BUILD/debootstrap.log" 2>&1 \
        || { tail -n 30 "$BUILD/debootstrap.log" >&2; return 1; }
    rm -rf "$root/var/cache/apt/archives/"*.deb
    tar --numeric-owner -C "$root" -cf "$BASE_TAR" .
    rm -rf "$root"
}

# A fresh copy of the base in $1, ready for apt inside the chroot (resolv.conf, /proc).
unpack_base() {
    rm -rf "$1"
    mkdir -p "$1"
    tar --numeric-owner -C "$1" -xf "$BASE_TAR"
    rm -f "$1/etc/resolv.conf"
    cp /etc/resolv.conf "$1/etc/resolv.conf"
}

apt_in_chroot() {
    local root="$1"
    shift
    in_chroot "$root" apt-get update -q >"$BUILD/apt.log" 2>&1 || { tail -n 30 "$BUILD/apt.log" >&2; return 1; }
    in_chroot "$root" apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 "$@" >>"$BUILD/apt.log" 2>&1 \
        || { tail -n 30 "$BUILD/apt.log" >&2; return 1; }
    in_chroot "$root" apt-get clean
    rm -rf "$root/var/lib/apt/lists/"*
    rm -f "$root/etc/resolv.conf"
    : >"$root/etc/resolv.conf"
}

# ---- postgres:15 ------------------------------------------------------------------------------------------------
build_postgres() {
    local inputs="$SELF_HASH-pg$PG_MAJOR"
    image_current "postgres:$PG_MAJOR" "$inputs" && return 0
    make_base
    log "postgres:$PG_MAJOR stand-in (Debian postgresql-$PG_MAJOR, about a minute)"
    local root="$BUILD/postgres-root"
    unpack_base "$root"
    # As the official image: the user and group first, at 999, so the packages do not pick other ids.
    in_chroot "$root" groupadd -r --gid=999 postgres
    in_chroot "$root" useradd -r -g postgres --uid=999 --home-dir=/var/lib/postgresql --shell=/bin/bash postgres
    mkdir -p "$root/var/lib/postgresql"
    chown 999:999 "$root/var/lib/postgresql"
    apt_in_chroot "$root" postgresql-common locales
    # No cluster of the package's own (the official image does the same).
    sed -ri 's/#(create_main_cluster) .*$/\1 = false/' "$root/etc/postgresql-common/createcluster.conf"
    rm -f "$root/etc/resolv.conf"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    apt_in_chroot "$root" "postgresql-$PG_MAJOR"
    in_chroot "$root" localedef -i en_US -c -f UTF-8 -A /usr/share/locale/locale.alias en_US.UTF-8
    # The official image's folders and modes. /var/run is an absolute symlink to /run inside the root file
    # system: go through the chroot, never through the host path (which would change this machine's /run).
    in_chroot "$root" sh -e -c 'mkdir -p /var/run/postgresql /var/lib/postgresql/data /docker-entrypoint-initdb.d
        chown postgres:postgres /var/run/postgresql /var/lib/postgresql/data
        chmod 3777 /var/run/postgresql
        chmod 1777 /var/lib/postgresql/data'
    import_rootfs "$root" "devdb-rig/postgres-rootfs:$PG_MAJOR" "$inputs" \
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/postgresql/$PG_MAJOR/bin" \
        "ENV PG_MAJOR=$PG_MAJOR" "ENV LANG=en_US.utf8" "ENV PGDATA=/var/lib/postgresql/data" \
        "EXPOSE 5432" 'CMD ["postgres"]'
    rm -rf "$root"
    # docker import takes no STOPSIGNAL: a one-line build adds the official image's.
    printf 'FROM devdb-rig/postgres-rootfs:%s\nSTOPSIGNAL SIGINT\n' "$PG_MAJOR" \
        | "$DOCKER" build --network none -q -t "postgres:$PG_MAJOR" - >/dev/null
    "$DOCKER" rmi "devdb-rig/postgres-rootfs:$PG_MAJOR" >/dev/null
}

build_postgres_sigterm() {
    local inputs="$SELF_HASH-sigterm-$("$DOCKER" image inspect -f '{{.Id}}' "postgres:$PG_MAJOR" | cut -c8-23)"
    image_current "devdb-rig/postgres-sigterm:$PG_MAJOR" "$inputs" && return 0
    log "devdb-rig/postgres-sigterm:$PG_MAJOR"
    printf 'FROM postgres:%s\nSTOPSIGNAL SIGTERM\nLABEL devdb.rig.inputs=%s\n' "$PG_MAJOR" "$inputs" \
        | "$DOCKER" build --network none -q -t "devdb-rig/postgres-sigterm:$PG_MAJOR" - >/dev/null
}

# ---- mcr.microsoft.com/dotnet/sdk:10.0 --------------------------------------------------------------------------
DOTNET_ROOT_HOST="${DOTNET_ROOT_HOST:-$(dirname "$(readlink -f "$(command -v dotnet)")")}"
build_sdk() {
    local packages_hash
    packages_hash="$(cat "$REPO_ROOT/Directory.Packages.props" "$REPO_ROOT/src/DevDb.Api/DevDb.Api.csproj" \
        "$REPO_ROOT/src/DevDb.Core/DevDb.Core.csproj" | sha256sum | cut -c1-12)"
    local inputs="$SELF_HASH-sdk-$("$DOTNET_ROOT_HOST/dotnet" --version)-$packages_hash"
    image_current "mcr.microsoft.com/dotnet/sdk:10.0" "$inputs" && return 0
    make_base
    log "mcr.microsoft.com/dotnet/sdk:10.0 stand-in ($DOTNET_ROOT_HOST + offline NuGet folder)"
    local root="$BUILD/sdk-root"
    unpack_base "$root"
    apt_in_chroot "$root" ca-certificates libicu72 libssl3 zlib1g libstdc++6 libgcc-s1
    mkdir -p "$root/usr/share/dotnet"
    cp -a "$DOTNET_ROOT_HOST/." "$root/usr/share/dotnet/"
    ln -sf /usr/share/dotnet/dotnet "$root/usr/bin/dotnet"
    # Exactly the packages DevDb.Api's restore needs (NuGet fetches them on this machine), as the image's only source.
    local offline="$root/opt/nuget-offline"
    mkdir -p "$offline"
    # (From a copy of the project files, so the repository's obj/ folders are left alone.)
    local projects="$BUILD/restore-projects"
    rm -rf "$projects"
    mkdir -p "$projects/src/DevDb.Api" "$projects/src/DevDb.Core"
    cp "$REPO_ROOT/Directory.Build.props" "$REPO_ROOT/Directory.Packages.props" "$projects/"
    cp "$REPO_ROOT/src/DevDb.Api/DevDb.Api.csproj" "$projects/src/DevDb.Api/"
    cp "$REPO_ROOT/src/DevDb.Core/DevDb.Core.csproj" "$projects/src/DevDb.Core/"
    dotnet restore "$projects/src/DevDb.Api/DevDb.Api.csproj" --packages "$offline" --verbosity quiet >/dev/null
    rm -rf "$projects"
    mkdir -p "$root/root/.nuget/NuGet"
    cat >"$root/root/.nuget/NuGet/NuGet.Config" <<'EOF'
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="offline" value="/opt/nuget-offline" />
  </packageSources>
</configuration>
EOF
    import_rootfs "$root" "mcr.microsoft.com/dotnet/sdk:10.0" "$inputs" \
        "ENV DOTNET_ROOT=/usr/share/dotnet" "ENV DOTNET_NOLOGO=1" "ENV DOTNET_CLI_TELEMETRY_OPTOUT=1" \
        "ENV DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1" "ENV DOTNET_RUNNING_IN_CONTAINER=true" \
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" 'CMD ["/bin/bash"]'
    rm -rf "$root"
}

# ---- mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled --------------------------------------------------------
build_runtime() {
    local inputs="$SELF_HASH-aspnet-$(ls "$DOTNET_ROOT_HOST/shared/Microsoft.AspNetCore.App" | sort | tail -n 1)"
    image_current "mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled" "$inputs" && return 0
    make_base
    log "mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled stand-in (minimal root file system)"
    local donor="$BUILD/runtime-donor" root="$BUILD/runtime-root"
    unpack_base "$donor"
    apt_in_chroot "$donor" ca-certificates libssl3 zlib1g libstdc++6 libgcc-s1
    rm -rf "$root"
    mkdir -p "$root"/{etc/ssl/certs,tmp,usr/bin,usr/share/dotnet/shared,lib64,usr/lib/x86_64-linux-gnu,app,home/app}
    chmod 1777 "$root/tmp"
    cp -a "$DOTNET_ROOT_HOST/dotnet" "$DOTNET_ROOT_HOST/host" "$DOTNET_ROOT_HOST/LICENSE.txt" "$root/usr/share/dotnet/"
    cp -a "$DOTNET_ROOT_HOST/shared/Microsoft.NETCore.App" "$DOTNET_ROOT_HOST/shared/Microsoft.AspNetCore.App" "$root/usr/share/dotnet/shared/"
    ln -s /usr/share/dotnet/dotnet "$root/usr/bin/dotnet"
    # The C and C++ runtimes, OpenSSL and zlib the runtime loads; nothing else (no shell, no coreutils, no apt).
    local library
    for library in ld-linux-x86-64.so.2 libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 libgcc_s.so.1 \
            libstdc++.so.6 libz.so.1 libssl.so.3 libcrypto.so.3; do
        cp -L "$donor/usr/lib/x86_64-linux-gnu/$library" "$root/usr/lib/x86_64-linux-gnu/$library"
    done
    ln -s /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$root/lib64/ld-linux-x86-64.so.2"
    ln -s usr/lib "$root/lib"
    cp -L "$donor/etc/ssl/certs/ca-certificates.crt" "$root/etc/ssl/certs/ca-certificates.crt"
    printf 'root:x:0:0:root:/root:/usr/sbin/nologin\napp:x:1654:1654::/home/app:/usr/sbin/nologin\n' >"$root/etc/passwd"
    printf 'root:x:0:\napp:x:1654:\n' >"$root/etc/group"
    chown 1654:1654 "$root/home/app"
    import_rootfs "$root" "mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled" "$inputs" \
        "ENV APP_UID=1654" "ENV ASPNETCORE_HTTP_PORTS=8080" "ENV DOTNET_RUNNING_IN_CONTAINER=true" \
        "ENV DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=true" "ENV PATH=/usr/bin" "USER 1654"
    rm -rf "$root" "$donor"
}

# ---- devdb/api:rig, from the repository's Dockerfile ------------------------------------------------------------
build_api() {
    log "devdb/api:rig from src/DevDb.Api/Dockerfile"
    # The classic builder with no network: everything comes from the stand-ins (the SDK's offline NuGet folder).
    DOCKER_BUILDKIT=0 "$DOCKER" build --network none --pull=false -q -f "$REPO_ROOT/src/DevDb.Api/Dockerfile" \
        -t devdb/api:rig "$REPO_ROOT" >"$BUILD/api-build.log" 2>&1 || { cat "$BUILD/api-build.log" >&2; return 1; }
    "$DOCKER" image prune -f >/dev/null
}

build_postgres
build_postgres_sigterm
build_sdk
build_runtime
build_api
log "ready: $("$DOCKER" images --format '{{.Repository}}:{{.Tag}}' | sort | tr '\n' ' ')"
