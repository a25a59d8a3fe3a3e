#!/bin/bash
# How much faster the flights weekly backtest runs than at a reference commit, with the
# same decisions (issue #29, item 6). The backtest of the issue's target: January–March
# 2001 (never later months), warm-up 31, weekly steps, airports and departure hour as
# categorical columns, origin × hour crossed, two held-out days; seeds one after another,
# the reference and this tree alternating so that both see the same machine.
#   bash bench/backtests/speed.sh <out-dir> <reference-commit> [seeds]
#   e.g. bash bench/backtests/speed.sh /tmp/speed 89548f7 "1 2 3"
# Fails when the reference cannot be checked out, and when any report differs from the
# reference's in anything but wall times and paths (a faster backtest must decide the same).
# Reports wall time and CPU time (user + system, both threads): on a shared machine the
# wall-time ratio of one pair moves with the neighbours' load, the CPU-time ratio much less.
set -euo pipefail
out=$1 ref=$2 seeds=${3:-1 2 3}
repo=$(pwd)
node=$repo/node_modules/.bin/node
git rev-parse --verify -q "$ref^{commit}" > /dev/null || { echo "speed.sh: reference commit $ref not found: nothing to compare against" >&2; exit 1; }
mkdir -p "$out"
[ -d "$out/history" ] || "$node" bench/flights-history.ts "$out/history" "${FLIGHTS_DATA:-node_modules/vega-datasets/data}"
rm -rf "$out/reference" && mkdir -p "$out/reference" && git archive "$ref" | tar -x -C "$out/reference" && ln -s "$repo/node_modules" "$out/reference/node_modules"
run() { # <tree> <name> <seed>
  local work="$out/work-$2"
  rm -rf "$work" && mkdir -p "$work" && ln -s "$out/history" "$work/history"
  printf 'columns:\n  features: [dep_minute, weekday, distance, origin_lat, origin_lon, dest_lat, dest_lon]\n  label: arr_delay\nmodel:\n  loss: mae\neval:\n  metric: mae\nretrain:\n  schedule: ""\n' > "$work/freshet.config.yaml"
  local TIMEFORMAT='%R %U %S'
  { time (cd "$work" && "$node" "$1/src/cli/main.ts" backtest history --warmup 31 --step 7 --set training.seed="$3" \
    --set 'columns.categorical=["origin","destination","dep_hour"]' --set 'columns.crosses=[["origin","dep_hour"]]' --set eval.holdoutPartitions=2 \
    --report "$out/$2.json" > "$out/$2.txt" 2> "$out/$2.err"); } 2> "$out/$2.time"
  read -r real user sys < "$out/$2.time"
  "$node" -e 'const [r, u, s] = process.argv.slice(1).map(Number); console.log(Math.round(r * 1000), Math.round((u + s) * 1000))' "$real" "$user" "$sys" # wall and CPU milliseconds
}
ratio() { "$node" -e 'console.log((process.argv[1] / process.argv[2]).toFixed(2))' "$1" "$2"; }
seconds() { "$node" -e 'console.log((process.argv[1] / 1000).toFixed(1))' "$1"; }
total_ref=0 total_new=0 cpu_ref=0 cpu_new=0
for seed in $seeds; do
  read -r ref_s ref_cpu < <(run "$out/reference" "reference-s$seed" "$seed")
  read -r new_s new_cpu < <(run "$repo" "this-s$seed" "$seed")
  same=$("$node" -e '
    const fs = require("node:fs");
    const strip = (f) => JSON.stringify(JSON.parse(fs.readFileSync(f, "utf8")), (k, v) => (k === "source" || k === "seconds" ? undefined : v));
    console.log(strip(process.argv[1]) === strip(process.argv[2]) ? "same decisions and scores" : "DIFFERENT");' "$out/reference-s$seed.json" "$out/this-s$seed.json")
  echo "seed $seed: reference $(seconds "$ref_s") s, this tree $(seconds "$new_s") s, $(ratio "$ref_s" "$new_s")× faster; CPU $(seconds "$ref_cpu") s against $(seconds "$new_cpu") s, $(ratio "$ref_cpu" "$new_cpu")×; $same"
  [ "$same" = "same decisions and scores" ] || { echo "speed.sh: seed $seed's report differs from the reference's (diff $out/reference-s$seed.json $out/this-s$seed.json)" >&2; exit 1; }
  total_ref=$((total_ref + ref_s)) total_new=$((total_new + new_s)) cpu_ref=$((cpu_ref + ref_cpu)) cpu_new=$((cpu_new + new_cpu))
done
echo "all seeds: reference $(seconds $total_ref) s, this tree $(seconds $total_new) s, $(ratio $total_ref $total_new)× faster; CPU $(seconds $cpu_ref) s against $(seconds $cpu_new) s, $(ratio $cpu_ref $cpu_new)×"
