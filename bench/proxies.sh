#!/usr/bin/env bash
# The proxy studies of bench/RESULTS.md: five subtask-1 look-alike benchmarks, each a fresh
# generator trained on CPU on the real images of one shared benchmark (other seeds, splits,
# sizes and settings than the benchmark it stands in for; for two, other patients), then
# every membership method on them, once on the built split and over 50 resampled splits;
# and two subtask-2 look-alikes (make_proxy_attribution.py) with the attribution methods.
# About an hour and a half on 2 cores; a proxy already built in DIR is reused.
#
# Usage: bash bench/proxies.sh DIR   (DIR: where the proxies go, e.g. /tmp/proxies)
set -euo pipefail
dir=${1:?usage: bash bench/proxies.sh DIR}
here=$(cd "$(dirname "$0")" && pwd)
shared=${SHARED_BENCH:-$here/../../shared/bench}
py=${PYTHON:-python}
build() {  # name source kind n-used labelled steps seed [extra args]
  local name=$1 source=$2 kind=$3 n=$4 lab=$5 steps=$6 seed=$7
  shift 7
  [ -d "$dir/$name" ] && return 0
  "$py" "$here/make_proxy_benchmark.py" --source "$shared/$source" --kind "$kind" \
    --n-used "$n" --labelled "$lab" --steps "$steps" --seed "$seed" "$@" --out "$dir/$name"
}
mkdir -p "$dir"
build px-memorize    st1-memorize  diffusion  40  10 2000  9 --n-generated 300 400
build px-diffusion   st1-gan       diffusion 160  80 3000  7
build px-diffusion120 st1-diffusion diffusion 120  60 2000 11
build px-gan         st1-diffusion gan       160  80 1800  8
build px-gan250      st1-gan       gan       250 100 1800 12
[ -d "$dir/st2-px-subsets" ] || "$py" "$here/make_proxy_attribution.py" \
  --source "$shared/st2-subsets" --pool "$shared/st1-gan" --seed 21 --out "$dir/st2-px-subsets"
[ -d "$dir/st2-px-short" ] || "$py" "$here/make_proxy_attribution.py" \
  --source "$shared/st2-subsets" --pool "$shared/st1-gan" --seed 22 --finetune-steps 100 \
  --out "$dir/st2-px-short"
"$py" "$here/membership.py" --bench "$dir" \
  --datasets px-memorize,px-diffusion,px-diffusion120,px-gan,px-gan250
"$py" "$here/membership_resample.py" --bench "$dir" \
  --datasets px-memorize,px-diffusion,px-diffusion120,px-gan,px-gan250
"$py" "$here/attribution.py" --bench "$dir" \
  --methods nearest,nearest-centroid,spectral,residual,ensemble --variants full --quiet
