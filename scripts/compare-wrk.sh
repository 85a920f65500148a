#!/usr/bin/env bash
# Is herd's load generator the bottleneck? herd load vs wrk against the same nginx.
#
#   scripts/compare-wrk.sh [ROUNDS] [SECONDS]      (defaults: 3 rounds of 5 s each)
#
# 1. Closed loop: wrk (-t2 -cC, `Connection: close`) and `herd load` (-c C -t 2) alternate
#    against nginx (2 workers, access log off); the ratio of the medians of their connection
#    rates is herd/wrk (target >= 1.0). Then keep-alive: wrk (-t2 -cC, its default keep-alive)
#    and `herd load --requests-per-conn KA_REQUESTS` (default 1000, nginx's keepalive_requests),
#    by requests per second.
# 2. Open loop: `herd load --rate` at 80% of herd's closed-loop median: the generator's p99
#    lateness (actual start - intended start) should stay under 1 ms. Then a ladder of rates
#    (LADDER, fractions of that median, default 0.4 ... 0.8), each with exact pacing and with
#    --pacing-quantum 500us, with the host's CPU use over each run: where the schedule holds.
# 3. Memory: peak RSS (VmHWM, from /usr/bin/time -v) of a 60 s open-loop run over a 10 s one
#    (nothing is kept per request, so the ratio should be ~1).
# Output: results/wrk-compare/wrk-compare.txt (README.md there is written by hand).
# Needs wrk, nginx, curl, python3 and /usr/bin/time (the script names the install command of any
# missing).
# CONNS (default 64), OPEN_CAP (open-loop --concurrency, default 256), MEM_SECS (default 60),
# KA_REQUESTS (default 1000).
set -euo pipefail
rounds=${1:-3}
secs=${2:-5}
conns=${CONNS:-64}
open_cap=${OPEN_CAP:-256}
mem_secs=${MEM_SECS:-60}
ka=${KA_REQUESTS:-1000}
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
need wrk nginx curl python3 /usr/bin/time
build_herd
out="$here/results/wrk-compare/wrk-compare.txt"
mkdir -p "$(dirname "$out")"
port=$(free_port)
start_nginx "$port"
url="http://127.0.0.1:$port/"

# Each client also runs under /usr/bin/time: its CPU time (user + sys) per connection is a
# second, load-independent measure of its cost.
cpu_us_per_conn() { # TIMEFILE RATE -> client CPU µs per connection
  awk -v r="$2" -v s="$secs" '{printf "%.2f", ($1 + $2) * 1e6 / (r * s)}' "$1"
}
wrk_rate() {
  /usr/bin/time -o "$work/t" -f "%U %S" \
    wrk -t2 -c"$conns" -d"${secs}s" -H "Connection: close" "$url" > "$work/wrk.out"
  local r; r=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out")
  echo "$r $(cpu_us_per_conn "$work/t" "$r")"
}
herd_rate() {
  /usr/bin/time -o "$work/t" -f "%U %S" \
    "$herd" load "$url" -c "$conns" -t 2 -d "${secs}s" \
    --warmup 0s --quiet --out "$work/closed" >/dev/null
  local r; r=$(col "$work/closed/runs.csv" conn_per_s)
  echo "$r $(cpu_us_per_conn "$work/t" "$r")"
}
# Keep-alive: requests per second and client CPU per request.
wrk_ka() {
  /usr/bin/time -o "$work/t" -f "%U %S" \
    wrk -t2 -c"$conns" -d"${secs}s" "$url" > "$work/wrk.out"
  local r; r=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out")
  echo "$r $(cpu_us_per_conn "$work/t" "$r")"
}
herd_ka() {
  /usr/bin/time -o "$work/t" -f "%U %S" \
    "$herd" load "$url" -c "$conns" -t 2 -d "${secs}s" --requests-per-conn "$ka" \
    --warmup 0s --quiet --out "$work/ka" >/dev/null
  local r; r=$(col "$work/ka/runs.csv" requests_per_s)
  echo "$r $(cpu_us_per_conn "$work/t" "$r")"
}

wrk_rates=(); herd_rates=(); wrk_cpu=(); herd_cpu=()
wrk_ka_rates=(); herd_ka_rates=(); wrk_ka_cpu=(); herd_ka_cpu=()
for r in $(seq "$rounds"); do
  read -r w wc < <(wrk_rate); wrk_rates+=("$w"); wrk_cpu+=("$wc")
  read -r h hc < <(herd_rate); herd_rates+=("$h"); herd_cpu+=("$hc")
  echo "round $r: wrk $w conn/s ($wc us CPU/conn), herd load $h conn/s ($hc us CPU/conn)" >&2
  read -r w wc < <(wrk_ka); wrk_ka_rates+=("$w"); wrk_ka_cpu+=("$wc")
  read -r h hc < <(herd_ka); herd_ka_rates+=("$h"); herd_ka_cpu+=("$hc")
  echo "round $r keep-alive: wrk $w req/s ($wc us CPU/req), herd load $h req/s ($hc us CPU/req)" >&2
done
mw=$(median "${wrk_rates[@]}"); mh=$(median "${herd_rates[@]}")
ratio=$(awk -v h="$mh" -v w="$mw" 'BEGIN {printf "%.3f", h/w}')
mwc=$(median "${wrk_cpu[@]}"); mhc=$(median "${herd_cpu[@]}")
kw=$(median "${wrk_ka_rates[@]}"); kh=$(median "${herd_ka_rates[@]}")
kwc=$(median "${wrk_ka_cpu[@]}"); khc=$(median "${herd_ka_cpu[@]}")

rate=$(awk -v h="$mh" 'BEGIN {printf "%.0f", 0.8*h}')
# open RATE QUANTUM NAME: one open-loop run; its runs.csv row goes to $work/NAME.
open_run() {
  "$herd" load --url "$url" --rate "$1" --pacing-quantum "$2" --concurrency "$open_cap" \
    --client-threads 2 --duration "${secs}s" --warmup 1s --quiet --out "$work/$3" >/dev/null
}
open_run "$rate" 0s open
o="$work/open/runs.csv"
echo "open loop at $rate conn/s: lateness p99 $(col "$o" lateness_p99_us) us" >&2

# The lateness ladder: open loop at fractions of herd's closed-loop median, with exact pacing
# and with a 500 µs timer quantum, each with the host's CPU use and the client's CPU per
# connection (both from herd's own row). Shows up to which load the schedule holds.
ladder=()
for f in ${LADDER:-0.4 0.5 0.6 0.7 0.8}; do
  r=$(awk -v h="$mh" -v f="$f" 'BEGIN {printf "%.0f", f*h}')
  for q in 0s 500us; do
    open_run "$r" "$q" "ladder-$f-$q"
    l="$work/ladder-$f-$q/runs.csv"
    row=$(printf '%s %s %s %.0f %.0f %s %.1f %.1f %.0f' "$f" "$r" "$q" \
      "$(col "$l" lateness_p50_us)" "$(col "$l" lateness_p99_us)" "$(col "$l" late_conns)" \
      "$(col "$l" host_cpu_busy_pct)" "$(col "$l" client_cpu_us_per_conn)" \
      "$(col "$l" raw_latency_p99_us)")
    echo "ladder: $row" >&2
    ladder+=("$row")
  done
done

hwm() { # SECONDS -> peak RSS in kB of an open-loop run that long
  /usr/bin/time -v "$herd" load --url "$url" --rate "$rate" --concurrency "$open_cap" \
    --client-threads 2 --duration "$1s" --warmup 0s --quiet 2>&1 >/dev/null \
    | awk '/Maximum resident set size/ {print $6}'
}
m10=$(hwm 10); mlong=$(hwm "$mem_secs")
{
  echo "# scripts/compare-wrk.sh $rounds $secs (CONNS=$conns OPEN_CAP=$open_cap MEM_SECS=$mem_secs)"
  echo "# $(uname -sr), $(nproc) cores, $(nginx -v 2>&1), $(wrk -v 2>&1 | head -1), $("$herd" --version), $(date -u +%FT%TZ)"
  echo "# nginx 2 workers; client and server share the machine (and other jobs may run on it)"
  echo "wrk_conn_per_s_rounds=${wrk_rates[*]}"
  echo "herd_load_conn_per_s_rounds=${herd_rates[*]}"
  echo "wrk_median=$mw"
  echo "herd_load_median=$mh"
  echo "herd_over_wrk=$ratio"
  echo "wrk_cpu_us_per_conn_median=$mwc"
  echo "herd_load_cpu_us_per_conn_median=$mhc"
  echo "herd_cpu_over_wrk_cpu=$(awk -v h="$mhc" -v w="$mwc" 'BEGIN {printf "%.3f", h/w}')"
  echo "# keep-alive: wrk -t2 -c$conns vs herd load --requests-per-conn $ka, requests per second"
  echo "wrk_ka_req_per_s_rounds=${wrk_ka_rates[*]}"
  echo "herd_load_ka_req_per_s_rounds=${herd_ka_rates[*]}"
  echo "wrk_ka_median=$kw"
  echo "herd_load_ka_median=$kh"
  echo "ka_herd_over_wrk=$(awk -v h="$kh" -v w="$kw" 'BEGIN {printf "%.3f", h/w}')"
  echo "wrk_ka_cpu_us_per_req_median=$kwc"
  echo "herd_load_ka_cpu_us_per_req_median=$khc"
  echo "ka_herd_cpu_over_wrk_cpu=$(awk -v h="$khc" -v w="$kwc" 'BEGIN {printf "%.3f", h/w}')"
  echo "open_rate=$rate"
  echo "open_conn_per_s=$(col "$o" conn_per_s)"
  echo "open_errors=$(col "$o" errors)"
  echo "open_lateness_p50_us=$(col "$o" lateness_p50_us)"
  echo "open_lateness_p99_us=$(col "$o" lateness_p99_us)"
  echo "open_lateness_max_us=$(col "$o" lateness_max_us)"
  echo "open_late_conns=$(col "$o" late_conns)"
  echo "open_latency_p99_us=$(col "$o" latency_p99_us)"
  echo "open_raw_latency_p99_us=$(col "$o" raw_latency_p99_us)"
  echo "open_host_cpu_busy_pct=$(col "$o" host_cpu_busy_pct)"
  echo "open_client_cpu_us_per_conn=$(col "$o" client_cpu_us_per_conn)"
  echo "# ladder: fraction_of_closed_median rate pacing_quantum lateness_p50_us lateness_p99_us late_conns host_cpu_busy_pct client_cpu_us_per_conn raw_latency_p99_us"
  for row in "${ladder[@]}"; do echo "ladder=$row"; done
  echo "peak_rss_kb_10s=$m10"
  echo "peak_rss_kb_${mem_secs}s=$mlong"
  echo "peak_rss_ratio=$(awk -v a="$mlong" -v b="$m10" 'BEGIN {printf "%.3f", a/b}')"
} | tee "$out"
