#!/usr/bin/env bash
# Benchmark: how long New-DevDbDatabase takes on the sample project, against createdb + pg_restore and
# CREATE DATABASE ... TEMPLATE on a scratch server. Installs what is missing (PostgreSQL 15, pwsh), builds DevDb,
# then runs bench/new-database.ps1. Arguments go to it, e.g. -Runs 15.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

run_bench new-database "$@"
