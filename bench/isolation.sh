#!/usr/bin/env bash
# Benchmark: what isolation costs. Builds DevDb at a baseline commit (default: the last one before
# non-superuser logins, private sockets and per-database OS users) in a temporary git worktree,
# then times New-DevDbDatabase and measures the memory of a database's server with both builds,
# interleaved, in one run. Arguments go to bench/isolation.ps1 (e.g. -Runs 9); -BaselineRef <ref>
# picks another baseline.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

baseline_ref=6bb03db
args=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        -BaselineRef) baseline_ref="$2"; shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done

ensure_postgres
ensure_dotnet
ensure_pwsh
build_solution
baseline="$(mktemp -d /tmp/devdb-baseline-XXXXXX)"
trap 'git -C "$REPO_ROOT" worktree remove --force "$baseline" >/dev/null 2>&1 || rm -rf "$baseline"' EXIT
log "Building the baseline $baseline_ref in $baseline"
git -C "$REPO_ROOT" worktree add --detach "$baseline" "$baseline_ref" >/dev/null
(cd "$baseline" && dotnet build DevDb.sln -c Release --nologo -v quiet >/dev/null) || die "The baseline build failed."
cd "$REPO_ROOT"
dotnet pwsh -NoProfile -File bench/isolation.ps1 -BaselineModule "$baseline/DevDb.psd1" -BaselineLabel "$baseline_ref" "${args[@]}"
