#!/usr/bin/env bash
# Cold-start init time of every Lambda under AWS's Runtime Interface
# Emulator (go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v1.x),
# as the README's performance table reports it. Each function is built as
# its build-<LogicalId> target builds it, but for GOARCH (default: this
# machine's, since the emulator runs the bootstrap natively); it is started
# RUNS times under the emulator and invoked once with a sample event. The
# emulator's "INIT REPORT (durationMs: ...)" is the init phase: process
# start to the runtime's first /next. No store is reachable (the endpoint
# is a closed port), so a store call at init would show as a failed init.
# Prints a Markdown table: the arm64 bootstrap's size, the median and the
# fastest init of RUNS. ONLY=<regex> measures the matching functions only.
set -euo pipefail
cd "$(dirname "$0")/.."
RIE=${RIE:-$(go env GOPATH)/bin/aws-lambda-rie}
RUNS=${RUNS:-5}
ARCH=${GOARCH:-$(go env GOARCH)}
command -v "$RIE" >/dev/null || { echo "no $RIE: go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@latest"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
flags=(-trimpath -tags lambda.norpc -ldflags="-s -w" -gcflags=github.com/aws/...=-l) # as the Makefile builds
CGO_ENABLED=0 GOOS=linux GOARCH=$ARCH go build "${flags[@]}" -o "$tmp/$ARCH/" ./functions/...
CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build "${flags[@]}" -o "$tmp/arm64/" ./functions/...
export API_KEYS_TABLE=k SESSIONS_TABLE=s USAGE_TABLE=u QUOTAS_TABLE=q AWS_REGION=us-east-1 \
  DYNAMODB_ENDPOINT=http://127.0.0.1:9 AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x
freeports() {
  python3 -c 'import socket
a, b = socket.socket(), socket.socket(); a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])'
}
echo "| function | arm64 bootstrap (MiB) | init median (ms) | init fastest (ms) |"
echo "| --- | ---: | ---: | ---: |"
awk '/^build-[A-Za-z]+Function:/{id=substr($1,7); sub(":","",id)} /call lambda,/{d=$0; sub(/.*call lambda,/,"",d); sub(/\).*/,"",d); print id, d}' Makefile |
while read -r id dir; do
  [[ -n ${ONLY:-} && ! $id =~ $ONLY ]] && continue
  case $id in
    AuthorizerFunction) ev=events/authorizer-request.json ;;
    SessionExpiryFunction) ev=events/ttl-removal.json ;;
    QuotaReconcileFunction) ev=events/schedule.json ;;
    *) ev=events/api-health.json ;;
  esac
  times=()
  for _ in $(seq "$RUNS"); do
    read -r port apiport < <(freeports)
    AWS_LAMBDA_FUNCTION_NAME=$id "$RIE" --runtime-interface-emulator-address "127.0.0.1:$port" \
      --runtime-api-address "127.0.0.1:$apiport" "$tmp/$ARCH/$dir" >"$tmp/log" 2>&1 &
    rie=$!
    for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
    curl -s -o /dev/null -d @"$ev" "http://127.0.0.1:$port/2015-03-31/functions/function/invocations" || true
    kill "$rie" 2>/dev/null || true; wait "$rie" 2>/dev/null || true
    times+=("$(sed -n 's/.*INIT REPORT.*durationMs: *\([0-9.]*\).*/\1/p' "$tmp/log" | head -n1)")
  done
  sorted=$(printf '%s\n' "${times[@]}" | grep . | sort -g || true)
  n=$(echo "$sorted" | grep -c . || true)
  size=$(stat -c %s "$tmp/arm64/$dir")
  if [ "$n" -eq 0 ]; then med="no INIT REPORT"; fast="-"; else
    med=$(printf %.1f "$(echo "$sorted" | sed -n "$(( (n + 1) / 2 ))p")")
    fast=$(printf %.1f "$(echo "$sorted" | head -n1)"); fi
  printf "| %s | %.2f | %s | %s |\n" "$id" "$(echo "$size / 1048576" | bc -l)" "$med" "$fast"
done
