#!/usr/bin/env bash
# Benchmark: the cost of one idle-detection pass (sampling every running database's client sessions)
# with many real databases on the local runtime, against an expiry-only pass in the same run, and the
# memory of those idle servers. Installs what is missing (PostgreSQL 15, pwsh), builds DevDb, then runs
# bench/idle.ps1. Arguments go to it, e.g. -Databases 200 -Runs 9.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

run_bench idle "$@"
