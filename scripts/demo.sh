#!/usr/bin/env bash
# The local demo: installs what it needs (PostgreSQL 15, pwsh) when missing, builds DevDb, then
# runs scripts/demo.ps1: project 'shop' from samples/shop.dump, database 'demo', a query against it.
# Safe to run again: it reuses the project and resets the database.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

ensure_postgres
ensure_dotnet
ensure_pwsh
build_solution

exec dotnet pwsh -NoProfile -File scripts/demo.ps1 "$@"
