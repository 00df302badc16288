#!/usr/bin/env bash
# Makes a Helm chart repository of chart/devdb in a folder: the packaged chart (devdb-<version>.tgz) and index.yaml.
# Serve that folder over https (any static web server or object store), then:
#   helm repo add devdb https://charts.example.com/devdb && helm install devdb devdb/devdb -n devdb --create-namespace
# Usage: scripts/package-chart.sh [OUTPUT_FOLDER] [REPOSITORY_URL]   (default: artifacts/chart-repo, no URL: relative links)
# Helm never upgrades the CRDs of chart/devdb/crds: before `helm upgrade`, apply them (README, "Upgrading").
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_helm
out="${1:-$REPO_ROOT/artifacts/chart-repo}"
url="${2:-}"
mkdir -p "$out"
helm_home="$(mktemp -d)"
trap 'rm -rf "$helm_home"' EXIT
export HELM_CACHE_HOME="$helm_home/cache" HELM_CONFIG_HOME="$helm_home/config" HELM_DATA_HOME="$helm_home/data"
"$HELM_LAYER_DIR/helm/helm" package "$REPO_ROOT/chart/devdb" -d "$out" >/dev/null
if [[ -n "$url" ]]; then
    "$HELM_LAYER_DIR/helm/helm" repo index "$out" --url "$url"
else
    "$HELM_LAYER_DIR/helm/helm" repo index "$out"
fi
log "Chart repository in $out: $(cd "$out" && ls)"
