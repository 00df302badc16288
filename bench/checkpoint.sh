#!/usr/bin/env bash
# Benchmark of per-test rollback: Restore-DevDbDatabase to a checkpoint against DROP DATABASE +
# CREATE DATABASE ... TEMPLATE and a fresh pg_restore, on pgbench data sets made on the spot. Installs
# what is missing (PostgreSQL 15, pwsh, xfsprogs with -Xfs), builds DevDb, then runs
# bench/checkpoint.ps1. Arguments go to it, e.g. -Scales 10,200 -Xfs -Runs 5.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

for argument in "$@"; do
    if [[ "${argument,,}" == -xfs ]] && ! command -v mkfs.xfs >/dev/null 2>&1; then
        apt_install xfsprogs
    fi
done
run_bench checkpoint "$@"
