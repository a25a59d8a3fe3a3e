#!/bin/bash
# What sharing a first model saves `freshet tune` (issue #29, item 6): on the flights
# January–March (never later months), warm-up 31, weekly steps, the policy tune had kept
# when it reached retrain.replayPartitions (airports and departure hour categorical, origin
# × hour crossed, two held-out days, embeddings 16), per seed:
#   base       the policy's backtest, as tune runs it first (reference for the save's cost)
#   base+save  the same with --save-warmup (what tune runs while a retrain.* dimension is to come)
#   alt        + retrain.replayPartitions=14, a full replay (reference)
#   alt+warm   the same continued from the kept first model (--from-warmup)
# in that order, one at a time, so that each pair sees the same machine. Fails when a
# continued report differs from its full replay's in anything but wall times (and the
# history's path, each run's own link to it), or when
# the warm-up was not kept (no reference to compare against).
#   bash bench/backtests/warmup-share.sh <out-dir> [seeds]
set -euo pipefail
out=$1 seeds=${2:-1 2 3}
repo=$(pwd)
node=$repo/node_modules/.bin/node
mkdir -p "$out"
[ -d "$out/history" ] || "$node" bench/flights-history.ts "$out/history" "${FLIGHTS_DATA:-node_modules/vega-datasets/data}"
policy=(--set 'columns.categorical=["origin","destination","dep_hour"]' --set 'columns.crosses=[["origin","dep_hour"]]' --set eval.holdoutPartitions=2 --set columns.vocabulary.embeddingDim=16)
run() { # <name> <seed> [backtest options...]: prints wall and CPU milliseconds
  local name=$1 seed=$2
  shift 2
  local work="$out/work-$name"
  rm -rf "$work" && mkdir -p "$work" && ln -s "$out/history" "$work/history"
  printf 'columns:\n  features: [dep_minute, weekday, distance, origin_lat, origin_lon, dest_lat, dest_lon]\n  label: arr_delay\nmodel:\n  loss: mae\neval:\n  metric: mae\nretrain:\n  schedule: ""\n' > "$work/freshet.config.yaml"
  local TIMEFORMAT='%R %U %S'
  { time (cd "$work" && "$node" "$repo/src/cli/main.ts" backtest history --warmup 31 --step 7 --set training.seed="$seed" "${policy[@]}" "$@" \
    --report "$out/$name.json" > "$out/$name.txt" 2> "$out/$name.err"); } 2> "$out/$name.time"
  read -r real user sys < "$out/$name.time"
  "$node" -e 'const [r, u, s] = process.argv.slice(1).map(Number); console.log(Math.round(r * 1000), Math.round((u + s) * 1000))' "$real" "$user" "$sys"
}
ratio() { "$node" -e 'console.log((process.argv[1] / process.argv[2]).toFixed(2))' "$1" "$2"; }
seconds() { "$node" -e 'console.log((process.argv[1] / 1000).toFixed(1))' "$1"; }
same() { "$node" -e '
  const fs = require("node:fs");
  const strip = (f) => JSON.stringify(JSON.parse(fs.readFileSync(f, "utf8")), (k, v) => (k === "seconds" || k === "set" || k === "source" ? undefined : v));
  console.log(strip(process.argv[1]) === strip(process.argv[2]) ? "same report" : "DIFFERENT");' "$1" "$2"; }
t_base=0 t_save=0 t_alt=0 t_warm=0
for seed in $seeds; do
  rm -rf "$out/warm-s$seed"
  read -r base _ < <(run "base-s$seed" "$seed")
  read -r save _ < <(run "save-s$seed" "$seed" --save-warmup "$out/warm-s$seed")
  [ -f "$out/warm-s$seed/state.json" ] || { echo "warmup-share.sh: seed $seed: no warm-up was kept in $out/warm-s$seed: nothing to continue from" >&2; exit 1; }
  read -r alt alt_cpu < <(run "alt-s$seed" "$seed" --set retrain.replayPartitions=14)
  read -r warm warm_cpu < <(run "warm-s$seed-run" "$seed" --set retrain.replayPartitions=14 --from-warmup "$out/warm-s$seed")
  verdict=$(same "$out/alt-s$seed.json" "$out/warm-s$seed-run.json")
  [ "$(same "$out/base-s$seed.json" "$out/save-s$seed.json")" = "same report" ] || { echo "warmup-share.sh: seed $seed: saving the warm-up changed the report" >&2; exit 1; }
  echo "seed $seed: base $(seconds "$base") s, with --save-warmup $(seconds "$save") s ($(du -sh "$out/warm-s$seed" | cut -f1) kept); alt full $(seconds "$alt") s (CPU $(seconds "$alt_cpu")), from the warm-up $(seconds "$warm") s (CPU $(seconds "$warm_cpu")), $(ratio "$alt" "$warm")× faster; $verdict"
  [ "$verdict" = "same report" ] || { echo "warmup-share.sh: seed $seed: the continued report differs (diff $out/alt-s$seed.json $out/warm-s$seed-run.json)" >&2; exit 1; }
  t_base=$((t_base + base)) t_save=$((t_save + save)) t_alt=$((t_alt + alt)) t_warm=$((t_warm + warm))
done
echo "all seeds: base $(seconds $t_base) s, with --save-warmup $(seconds $t_save) s; alt full $(seconds $t_alt) s, from the warm-up $(seconds $t_warm) s, $(ratio $t_alt $t_warm)× faster"
