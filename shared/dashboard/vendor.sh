#!/usr/bin/env bash
# Copies the pinned front-end libraries from node_modules (npm ci) into
# assets/vendor, with their licenses, for embedding. Run by
# `make dashboard-assets`; the copies are committed so a clone builds
# without npm.
set -euo pipefail
cd "$(dirname "$0")"
v=assets/vendor
mkdir -p "$v"
cp node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.mjs "$v/"
cp node_modules/uplot/dist/uPlot.esm.js node_modules/uplot/dist/uPlot.min.css "$v/"
{
  for p in lightweight-charts uplot; do
    printf '%s %s\n%s\n\n' "$p" "$(node -p "require('./node_modules/$p/package.json').version")" "$(printf '=%.0s' {1..72})"
    cat "node_modules/$p/LICENSE"
    printf '\n\n'
  done
} > "$v/LICENSES.txt"
