#!/usr/bin/env bash
# DevDb end to end on a REAL Kubernetes cluster: installs the chart and runs the Pester cluster suite
# (tests/e2e/Cluster.Tests.ps1) through Connect-DevDb -Kubernetes against it.
#
# IT HAS NEVER RUN WHERE DEVDB IS BUILT: no cluster can run there (no kind, k3s or kube-apiserver, no image
# registry). It is written for users and operators; expect to adjust it to your cluster. scripts/test.sh does
# not run it.
#
# Needs: kubectl and helm (3 or 4) on PATH with a kubeconfig context; a cluster with a CSI driver that supports
# snapshots, the snapshot.storage.k8s.io/v1 CRDs and controller and a VolumeSnapshotClass (kind: install the
# csi-driver-host-path example with its snapshotter); the DevDb API image where the cluster can pull it (kind:
# `kind load docker-image devdb/api:e2e`); a dump the cluster can fetch (an https:// URL, or s3:// with
# --s3-secret). Optional: Traefik 3.0+ for SNI routing (--traefik); psql 14+ on this machine for the login check.
#
# Usage:
#   scripts/e2e-cluster.sh --image devdb/api:e2e --source https://files.example.com/shop.dump \
#       [--context kind-kind] [--namespace devdb-e2e] [--storage-class csi-hostpath-sc] \
#       [--snapshot-class csi-hostpath-snapclass] [--s3-secret NAME --s3-region R [--s3-endpoint URL]] \
#       [--traefik --base-domain db.example.test --tls-secret NAME] [--postgres-version 16] [--keep]
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

context="" namespace="devdb-e2e" image="" source="" storage_class="" snapshot_class="" s3_secret="" s3_region=""
s3_endpoint="" traefik=false base_domain="" tls_secret="" postgres_version=16 keep=false
while [[ $# -gt 0 ]]; do
    case "$1" in
        --context) context="$2"; shift 2 ;;
        --namespace) namespace="$2"; shift 2 ;;
        --image) image="$2"; shift 2 ;;
        --source) source="$2"; shift 2 ;;
        --storage-class) storage_class="$2"; shift 2 ;;
        --snapshot-class) snapshot_class="$2"; shift 2 ;;
        --s3-secret) s3_secret="$2"; shift 2 ;;
        --s3-region) s3_region="$2"; shift 2 ;;
        --s3-endpoint) s3_endpoint="$2"; shift 2 ;;
        --traefik) traefik=true; shift ;;
        --base-domain) base_domain="$2"; shift 2 ;;
        --tls-secret) tls_secret="$2"; shift 2 ;;
        --postgres-version) postgres_version="$2"; shift 2 ;;
        --keep) keep=true; shift ;;
        *) die "unknown option $1 (see the usage at the top of $0)" ;;
    esac
done
[[ -n "$image" && -n "$source" ]] || die "--image and --source are required (see the usage at the top of $0)."
command -v kubectl >/dev/null || die "kubectl is not on PATH."
command -v helm >/dev/null || die "helm is not on PATH."
kube=(kubectl); [[ -n "$context" ]] && kube+=(--context "$context")
helmc=(helm); [[ -n "$context" ]] && helmc+=(--kube-context "$context")

log "Checking the cluster"
"${kube[@]}" version >/dev/null || die "The cluster does not answer (kubectl version failed)."
"${kube[@]}" get crd volumesnapshots.snapshot.storage.k8s.io >/dev/null 2>&1 \
    || die "No VolumeSnapshot CRD: install the external-snapshotter CRDs and controller and a CSI driver with snapshots."
[[ -n "$("${kube[@]}" get volumesnapshotclass -o name 2>/dev/null)" ]] || die "No VolumeSnapshotClass: create one for your CSI driver."
if $traefik; then
    [[ -n "$base_domain" && -n "$tls_secret" ]] || die "--traefik needs --base-domain and --tls-secret."
    # Traefik 3.0+ routes Postgres' STARTTLS by SNI; 2.x cannot.
    traefik_image="$("${kube[@]}" get deploy -A -l app.kubernetes.io/name=traefik -o jsonpath='{.items[0].spec.template.spec.containers[0].image}' 2>/dev/null || true)"
    traefik_major="$(sed -n -E 's/.*:v?([0-9]+)\..*/\1/p' <<<"$traefik_image")"
    [[ -n "$traefik_major" && "$traefik_major" -ge 3 ]] || die "SNI routing needs Traefik 3.0 or newer; found '${traefik_image:-no Traefik}'."
fi
if command -v psql >/dev/null; then
    psql_major="$(psql --version | sed -n -E 's/.* ([0-9]+)(\.[0-9]+)*.*/\1/p')"
    [[ "$psql_major" -ge 14 ]] || log "psql $psql_major sends no SNI: SNI routing needs libpq 14+ (the login check uses port-forward)."
fi

log "Installing the chart into $namespace (CRDs applied first, as an upgrade would)"
"${kube[@]}" apply --server-side --force-conflicts -f chart/devdb/crds/ >/dev/null
values=(--set "image.repository=${image%:*}" --set "image.tag=${image##*:}" --set "postgres.defaultVersion=$postgres_version"
    --set "loadBalancer.enabled=false")
[[ -n "$storage_class" ]] && values+=(--set "storage.storageClass=$storage_class")
[[ -n "$snapshot_class" ]] && values+=(--set "storage.volumeSnapshotClass=$snapshot_class")
[[ -n "$s3_secret" ]] && values+=(--set "s3.credentialsSecret=$s3_secret")
[[ -n "$s3_region" ]] && values+=(--set "s3.region=$s3_region")
[[ -n "$s3_endpoint" ]] && values+=(--set "s3.endpoint=$s3_endpoint")
$traefik && values+=(--set traefik.enabled=true --set "baseDomain=$base_domain" --set "tls.secretName=$tls_secret")
"${helmc[@]}" upgrade --install devdb chart/devdb -n "$namespace" --create-namespace --wait --timeout 5m "${values[@]}"
"${helmc[@]}" test devdb -n "$namespace" --timeout 2m

cleanup() {
    $keep && return 0
    log "Uninstalling (records first, so their objects go with them)"
    "${kube[@]}" delete devdbdatabases,devdbprojects --all -n "$namespace" --wait=true --timeout=5m >/dev/null 2>&1 || true
    "${helmc[@]}" uninstall devdb -n "$namespace" >/dev/null 2>&1 || true
    "${kube[@]}" delete namespace "$namespace" --wait=false >/dev/null 2>&1 || true
}
trap cleanup EXIT

ensure_dotnet
ensure_pwsh
ensure_pester
build_solution
log "Pester: tests/e2e/Cluster.Tests.ps1"
DEVDB_E2E_CONTEXT="$context" DEVDB_E2E_NAMESPACE="$namespace" DEVDB_E2E_SOURCE="$source" \
DEVDB_E2E_POSTGRES_VERSION="$postgres_version" \
    dotnet pwsh -NoProfile -NonInteractive -Command "
        \$packages = if (\$env:NUGET_PACKAGES) { \$env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
        Import-Module (Join-Path \$packages 'pester/5.7.1/tools/Pester.psd1') -RequiredVersion 5.7.1
        \$c = New-PesterConfiguration; \$c.Run.Path = 'tests/e2e/Cluster.Tests.ps1'; \$c.Run.Exit = \$true
        \$c.Output.RenderMode = 'Plaintext'; \$c.Output.Verbosity = 'Detailed'
        Invoke-Pester -Configuration \$c"
