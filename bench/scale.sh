#!/usr/bin/env bash
# Benchmark at scale: clone time (New-DevDbDatabase) against pg_restore, CREATE DATABASE ... TEMPLATE
# and the physical floor, image build time against pg_restore -j1, and memory of an idle database,
# on pgbench data sets made on the spot. Installs what is missing (PostgreSQL 15, pwsh, xfsprogs
# with -Xfs), builds DevDb, then runs bench/scale.ps1. Arguments go to it, e.g. -Scales 10,50 -Xfs.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

for argument in "$@"; do
    if [[ "${argument,,}" == -xfs ]] && ! command -v mkfs.xfs >/dev/null 2>&1; then
        apt_install xfsprogs
    fi
done
run_bench scale "$@"
