#!/usr/bin/env bash
# Every DevDb test: installs what the tests need (PostgreSQL 15, pwsh, Pester, s3rver, Helm, Debian's docker.io and
# debootstrap) when missing, starts the container rig's private Docker engine and builds its images (cached in
# /var/cache/devdb-rig), builds the solution, runs the xunit and Pester suites, stops the engine, and ends with
# one line that sums them all:
#   N passed, N failed, N skipped
# Exits non-zero when a test failed or was skipped, a runner crashed, or no test ran.
# Results: artifacts/test-results/ (TRX, Pester JSON, runners' exit codes).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

# The xunit projects; each one's results go to artifacts/test-results/<name>.trx.
# DevDb.ContainerRig.Tests runs DevDb's pods as real containers (the API-server double stays the control plane).
XUNIT_PROJECTS=(tests/DevDb.Core.Tests tests/DevDb.Api.Tests tests/DevDb.Kubernetes.Tests tests/DevDb.ContainerRig.Tests)
# The conformance scenarios (tests/DevDb.Conformance.Tests), one suite per configuration of the contract:
# embedded engine; HTTP -> API -> embedded engine; Kubernetes engine -> API-server double with pods as real
# containers (the rig); HTTP -> API -> that Kubernetes engine.
CONFORMANCE_CONFIGURATIONS=(embedded http-embedded kubernetes http-kubernetes)
# The Pester suites run twice: against the embedded engine and against a real DevDb.Api process.
PESTER_MODES=(Local Server)
RESULTS="$REPO_ROOT/artifacts/test-results"
# A test that hangs must fail its suite, not stall CI until its deadline: a test host silent this long is
# stopped, the test it was running is named in the log, and the suite counts as failed.
HANG_TIMEOUT=(--blame-hang-timeout 10m --blame-hang-dump-type none)

ensure_postgres
ensure_dotnet
ensure_pwsh
ensure_pester
ensure_s3rver
ensure_helm
ensure_rig_packages
build_solution
# One test run at a time per machine: the rig's Docker engine, its socket and cache are shared.
exec 9>"${DEVDB_TEST_LOCK:-/run/devdb-test.lock}"
flock -n 9 || { log "Another test run holds ${DEVDB_TEST_LOCK:-/run/devdb-test.lock}: waiting for it"; flock 9; }
# The container rig: its own Docker engine (stopped on exit, whatever happens), then its images.
trap stop_rig_docker EXIT
start_rig_docker
rig_started=$SECONDS
build_rig_images
log "Rig images ready in $((SECONDS - rig_started)) s"

# Stale results must never count: start from an empty folder.
rm -rf "$RESULTS"
mkdir -p "$RESULTS"
suites=()

for project in "${XUNIT_PROJECTS[@]}"; do
    name="$(basename "$project")"
    suites+=("$name")
    log "xunit: $name"
    status=0
    dotnet test "$project" -c Release --no-build --nologo "${HANG_TIMEOUT[@]}" \
        --logger "trx;LogFileName=$name.trx" --results-directory "$RESULTS" || status=$?
    echo "$status" >"$RESULTS/$name.exitcode"
done

for configuration in "${CONFORMANCE_CONFIGURATIONS[@]}"; do
    name="conformance-$configuration"
    suites+=("$name")
    log "xunit: DevDb.Conformance.Tests ($configuration)"
    status=0
    dotnet test tests/DevDb.Conformance.Tests -c Release --no-build --nologo "${HANG_TIMEOUT[@]}" --filter "Configuration=$configuration" \
        --logger "trx;LogFileName=$name.trx" --results-directory "$RESULTS" || status=$?
    echo "$status" >"$RESULTS/$name.exitcode"
done

for mode in "${PESTER_MODES[@]}"; do
    name="pester-${mode,,}"
    suites+=("$name")
    log "Pester ($mode mode): tests/pester"
    status=0
    dotnet pwsh -NoProfile -NonInteractive -File tests/pester/run.ps1 -Mode "$mode" -ResultFile "$RESULTS/$name.json" || status=$?
    echo "$status" >"$RESULTS/$name.exitcode"
done

stop_rig_docker
trap - EXIT

log "Summary"
status=0
dotnet pwsh -NoProfile -NonInteractive -File scripts/summarize-tests.ps1 -ResultsDirectory "$RESULTS" "${suites[@]}" || status=$?
exit "$status"
