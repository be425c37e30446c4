#!/usr/bin/env bash
# Run the whole test suite N times (default 3) while a busy loop keeps every core
# at 100 %: a test that waits on a clock instead of a condition fails here.
#   bash scripts/suite_under_load.sh [N] [pytest args…]
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
shift || true
hogs=()
for _ in $(seq "$(nproc)"); do
  python3 -c "while True: pass" & hogs+=($!)
done
trap 'kill "${hogs[@]}" 2>/dev/null' EXIT
failed=0
for i in $(seq "$runs"); do
  start=$SECONDS
  if python3 -m pytest -q -p no:cacheprovider "$@" > "/tmp/suite_under_load.$i.log" 2>&1; then
    echo "run $i: passed in $((SECONDS - start)) s ($(tail -1 "/tmp/suite_under_load.$i.log"))"
  else
    failed=$((failed + 1))
    echo "run $i: FAILED in $((SECONDS - start)) s — see /tmp/suite_under_load.$i.log"
    grep -E "^(FAILED|ERROR)" "/tmp/suite_under_load.$i.log"
  fi
done
exit $((failed > 0))
