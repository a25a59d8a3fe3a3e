#!/bin/bash
# Forward backtests on the real stream: the 2001 US flight records of the vega-datasets
# package, JANUARY TO MARCH ONLY (bench/flights-history.ts never reads later months: they
# are kept back for an independent check of the project). Warm-up 31 days, then weekly
# (--step 7) or daily (--step 1) steps; policies × seeds, two at a time (two cores).
#   bash bench/backtests/flights.sh <out-dir> <step> <seeds> <policy>...
#   e.g. bash bench/backtests/flights.sh /tmp/fb 7 "1 2 3" newest random fallback
# Needs the package's data: npm pack vega-datasets@3.2.1 and extract it, then
# FLIGHTS_DATA=<that>/package/data (default node_modules/vega-datasets/data).
# Writes <out-dir>/r-<seed>-<policy>-s<step>.json (the --report of each run).
set -euo pipefail
out=$1 step=$2 seeds=$3
shift 3
repo=$(pwd)
# The pinned Node.js 24 (the node@24 devDependency), whatever the system's node is.
node=$repo/node_modules/.bin/node
mkdir -p "$out"
[ -d "$out/history" ] || "$node" bench/flights-history.ts "$out/history" "${FLIGHTS_DATA:-node_modules/vega-datasets/data}"
cat > "$out/freshet.config.yaml" <<'YAML'
columns:
  features: [dep_minute, weekday, distance, origin_lat, origin_lon, dest_lat, dest_lon]
  label: arr_delay
model:
  loss: mae
eval:
  metric: mae
retrain:
  schedule: ""
YAML
# The policies compared: each a set of --set overrides on the defaults above.
policy_sets() {
  case $1 in
    newest) ;;
    random) echo "--set eval.holdout=random" ;;
    noboot) echo "--set eval.confidence=0" ;;
    fallback) echo "--set eval.fallback=naive" ;;
    last) echo "--set retrain.base=last" ;;
    pre-plateau) echo "--set retrain.base=pre-plateau" ;;
    best-val) echo "--set retrain.base=best-val" ;;
    knee) ;; # the defaults, named apart from runs of code before the knee rule
    # The training budget before issue #29: no floor of steps, no extension of a first run.
    nobudget) echo "--set training.minSteps=0 --set training.extraEpochs=0" ;;
    airports-hour-crossed-holdout2-nobudget) echo "--set columns.categorical=[\"origin\",\"destination\",\"dep_hour\"] --set columns.crosses=[[\"origin\",\"dep_hour\"]] --set eval.holdoutPartitions=2 --set training.minSteps=0 --set training.extraEpochs=0" ;;
    knee-pre-plateau) echo "--set retrain.base=pre-plateau" ;;
    epochs-pre-plateau) echo "--set retrain.base=pre-plateau --set plateau.method=epochs" ;;
    fast) echo "--set eval.fallback=naive --set training.learningRate=0.005" ;;
    slow) echo "--set eval.fallback=naive --set training.learningRate=0.0003 --set retrain.virtualEpochs=10" ;;
    # The airports as categorical columns (issue #16), beside the coordinates.
    airports) echo "--set columns.categorical=[\"origin\",\"destination\"]" ;;
    airports-fallback) echo "--set columns.categorical=[\"origin\",\"destination\"] --set eval.fallback=naive" ;;
    airports-replay) echo "--set columns.categorical=[\"origin\",\"destination\"] --set retrain.replayPartitions=14" ;;
    airports-fast) echo "--set columns.categorical=[\"origin\",\"destination\"] --set training.learningRate=0.003" ;;
    airports-short) echo "--set columns.categorical=[\"origin\",\"destination\"] --set retrain.virtualEpochs=2" ;;
    airports-hour) echo "--set columns.categorical=[\"origin\",\"destination\",\"dep_hour\"]" ;;
    airports-hour-emb16) echo "--set columns.categorical=[\"origin\",\"destination\",\"dep_hour\"] --set columns.vocabulary.embeddingDim=16" ;;
    airports-hour-wide) echo "--set columns.categorical=[\"origin\",\"destination\",\"dep_hour\"] --set model.hidden=[128,128]" ;;
    # origin_hour (origin@dep_hour, written by bench/flights-history.ts): a crossed column made in the data.
    airports-hour-cross) echo "--set columns.categorical=[\"origin\",\"destination\",\"dep_hour\",\"origin_hour\"]" ;;
    airports-hour-cross-min0) echo "--set columns.categorical=[\"origin\",\"destination\",\"dep_hour\",\"origin_hour\"] --set eval.minImprovement=0" ;;
    airports-hour-cross-min03) echo "--set columns.categorical=[\"origin\",\"destination\",\"dep_hour\",\"origin_hour\"] --set eval.minImprovement=0.003" ;;
    airports-hour-cross-noboot) echo "--set columns.categorical=[\"origin\",\"destination\",\"dep_hour\",\"origin_hour\"] --set eval.confidence=0" ;;
    airports-hour-cross-holdout2) echo "--set columns.categorical=[\"origin\",\"destination\",\"dep_hour\",\"origin_hour\"] --set eval.holdoutPartitions=2" ;;
    # The same cross made by freshet (columns.crosses) from origin and dep_hour.
    airports-hour-crossed) echo "--set columns.categorical=[\"origin\",\"destination\",\"dep_hour\"] --set columns.crosses=[[\"origin\",\"dep_hour\"]]" ;;
    airports-hour-crossed-holdout2) echo "--set columns.categorical=[\"origin\",\"destination\",\"dep_hour\"] --set columns.crosses=[[\"origin\",\"dep_hour\"]] --set eval.holdoutPartitions=2" ;;
    # Baselines beyond constants (issue #29, item 3): persistence and last week's day, by origin airport.
    airports-hour-crossed-holdout2-persistence) echo "--set columns.categorical=[\"origin\",\"destination\",\"dep_hour\"] --set columns.crosses=[[\"origin\",\"dep_hour\"]] --set eval.holdoutPartitions=2 --set eval.naive=[\"median\",\"mean\",\"last\",\"seasonal:7\"] --set eval.entityColumn=origin" ;;
    # freshet tune's winner on January–March (BENCHMARKS.md › freshet tune on the flights), and a stricter gate on top of it.
    tuned) echo "--set columns.categorical=[\"origin\",\"destination\",\"dep_hour\"] --set columns.crosses=[[\"origin\",\"dep_hour\"]] --set eval.holdoutPartitions=2 --set retrain.replayPartitions=14 --set columns.vocabulary.embeddingDim=16" ;;
    tuned-conf95) echo "$(policy_sets tuned) --set eval.confidence=0.95" ;;
    tuned-min2) echo "$(policy_sets tuned) --set eval.minImprovement=0.02" ;;
    tuned-min4) echo "$(policy_sets tuned) --set eval.minImprovement=0.04" ;;
    # Beyond the tuned policy, for the decision targets: three held-out days; both hour crosses.
    tuned-holdout3) echo "$(policy_sets tuned) --set eval.holdoutPartitions=3" ;;
    tuned-nonaive) echo "$(policy_sets tuned) --set eval.mustBeatNaive=false" ;;
    # The gate reduced to "better than the champion on the held-out days, by anything": no threshold, no bootstrap, no naive rule.
    tuned-anygain) echo "$(policy_sets tuned) --set eval.minImprovement=0 --set eval.confidence=0 --set eval.mustBeatNaive=false" ;;
    tuned-holdout3-anygain) echo "$(policy_sets tuned-anygain) --set eval.holdoutPartitions=3" ;;
    tuned-holdout4-anygain) echo "$(policy_sets tuned-anygain) --set eval.holdoutPartitions=4" ;;
    # Training regimes beyond the gate (the decision targets, 2026-12-07): a slower learning rate, the whole replayed partitions, fewer or more virtual epochs per retrain.
    tuned-nofallback) echo "$(policy_sets tuned) --set eval.fallback=none" ;;
    tuned-lr3) echo "$(policy_sets tuned) --set training.learningRate=0.0003" ;;
    tuned-replayall) echo "$(policy_sets tuned) --set retrain.replayFraction=1" ;;
    tuned-ve10) echo "$(policy_sets tuned) --set retrain.virtualEpochs=10" ;;
    # Other model shapes and training noise (the decision targets, 2026-12-07, tenth session): no hidden layer (a linear model on the embeddings), one small layer, an L2 penalty, dropout, four times the batch.
    tuned-linear) echo "$(policy_sets tuned) --set model.hidden=[]" ;;
    tuned-small) echo "$(policy_sets tuned) --set model.hidden=[16]" ;;
    tuned-l2) echo "$(policy_sets tuned) --set model.l2=0.0001" ;;
    tuned-drop) echo "$(policy_sets tuned) --set model.dropout=0.2" ;;
    tuned-bs1024) echo "$(policy_sets tuned) --set training.batchSize=1024" ;;
    # Validation rows past training.evalMaxRows (the bound made to bind on the flights: a first model's 31 days hold ≈ 51,000 validation rows).
    tuned-eval20k) echo "$(policy_sets tuned) --set training.evalMaxRows=20000" ;;
    # A retrain's result the mean of its last three checkpoints' weights (retrain.averageCheckpoints), on the tuned policy and on the defaults.
    tuned-avg3) echo "$(policy_sets tuned) --set retrain.averageCheckpoints=3" ;;
    newest-avg3) echo "--set retrain.averageCheckpoints=3" ;;
    tuned-avg3-nonaive) echo "$(policy_sets tuned-avg3) --set eval.mustBeatNaive=false" ;;
    tuned-avg3-nofallback) echo "$(policy_sets tuned-avg3) --set eval.fallback=none" ;;
    tuned-avg3-nonaive-nofallback) echo "$(policy_sets tuned-avg3-nonaive) --set eval.fallback=none" ;;
    tuned-avg3-min05) echo "$(policy_sets tuned-avg3) --set eval.minImprovement=0.005" ;;
    tuned-avg3-holdout3) echo "$(policy_sets tuned-avg3) --set eval.holdoutPartitions=3" ;;
    tuned-avg3-noboot) echo "$(policy_sets tuned-avg3) --set eval.confidence=0" ;;
    tuned-avg3-min0) echo "$(policy_sets tuned-avg3) --set eval.minImprovement=0" ;;
    tuned-avg3-anygain) echo "$(policy_sets tuned-anygain) --set retrain.averageCheckpoints=3" ;;
    tuned-bothcross) echo "$(policy_sets tuned) --set columns.crosses=[[\"origin\",\"dep_hour\"],[\"destination\",\"dep_hour\"]]" ;;
    airports-window) echo "--set columns.categorical=[\"origin\",\"destination\"] --set retrain.replayPartitions=14 --set retrain.replayFraction=1" ;;
    *) echo "unknown policy $1" >&2; exit 2 ;;
  esac
}
jobs=()
for seed in $seeds; do for policy in "$@"; do jobs+=("$seed $policy"); done; done
run_one() {
  set -f # the policies' JSON values hold brackets: no pathname expansion
  local seed=$1 policy=$2
  local name="r-$seed-$policy-s$step"
  [ -s "$out/$name.json" ] && return 0
  local work="$out/work-$name"
  mkdir -p "$work" && cp "$out/freshet.config.yaml" "$work/" && ln -sfn "$out/history" "$work/history"
  # shellcheck disable=SC2046
  (cd "$work" && "$node" "$repo/src/cli/main.ts" backtest history --warmup 31 --step "$step" --set training.seed="$seed" $(policy_sets "$policy") --report "$out/$name.json" > "$out/$name.txt" 2> "$out/$name.err")
  rm -rf "$work"
  echo "$name: $(grep '^forward' "$out/$name.txt")"
}
export -f run_one policy_sets
export out step repo node
printf '%s\n' "${jobs[@]}" | xargs -P 2 -L 1 bash -c 'run_one $0 $1'
