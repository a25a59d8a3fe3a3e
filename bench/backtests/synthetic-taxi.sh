#!/bin/bash
# Forward backtests on the synthetic drift stream (the demo's taxi fares: a tariff shift on
# day 6, then prices creeping up 1% a day), 16 days of 3,000 rows, warm-up 3, daily steps,
# for three stream-and-training seeds and three gate policies. Writes r-<seed>-<policy>.json
# into the folder given (default /tmp/freshet-backtests). Run from the repository root.
# POLICIES (default "newest random newest-noboot") and SEEDS (default "1 2 3") choose others.
set -euo pipefail
out=${1:-/tmp/freshet-backtests}
mkdir -p "$out"
repo=$(pwd)
# The pinned Node.js 24 (the node@24 devDependency), whatever the system's node is.
node=$repo/node_modules/.bin/node
for seed in ${SEEDS:-1 2 3}; do
  [ -d "$out/h$seed/history" ] || "$node" bench/backtests/taxi-history.ts "$out/h$seed/history" 16 3000 $seed
  for policy in ${POLICIES:-newest random newest-noboot}; do
    case $policy in
      newest) sets=();;
      random) sets=(--set eval.holdout=random);;
      newest-noboot) sets=(--set eval.confidence=0);;
      newest-avg3) sets=(--set retrain.averageCheckpoints=3);;
      *) echo "unknown policy $policy" >&2; exit 2;;
    esac
    (cd "$out/h$seed" && "$node" "$repo/src/cli/main.ts" backtest history --warmup 3 --step 1 --set training.seed=$seed "${sets[@]}" --json > "$out/r-$seed-$policy.json")
  done
done
