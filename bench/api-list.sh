#!/usr/bin/env bash
# Benchmark: latency of GET /api/v1/databases on a DevDb API process holding many real databases,
# with GET /healthz as the baseline. Installs what is missing (PostgreSQL 15, pwsh), builds DevDb,
# then runs bench/api-list.ps1. Arguments go to it, e.g. -Databases 200 -Requests 500.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

run_bench api-list "$@"
