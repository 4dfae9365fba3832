#!/usr/bin/env bash
# Load benchmark: drives a release server with h2load (real HTTP/2 gRPC frames) and reports
# requests/s and latency percentiles of Suggest beside the no-op health Check, on the same
# server in the same run. Bounded: N requests per target, loopback only.
#
#   bash bench/load.sh            # defaults: 30000 requests, 8 connections x 8 streams, 3 rounds
#   N=50000 C=16 M=8 ROUNDS=5 bash bench/load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-30000}
ROUNDS=${ROUNDS:-3}
C=${C:-8}
M=${M:-8}
PORT=${PORT:-50777}
ADDR=127.0.0.1:$PORT

if ! command -v h2load >/dev/null; then
  echo "installing h2load (nghttp2-client)" >&2
  apt-get update -qq >/dev/null && apt-get install -y -qq nghttp2-client >/dev/null
fi
cargo build --release --quiet
work=$(mktemp -d)
target/release/reply-engine serve --addr "$ADDR" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT

# gRPC request bodies: a 5-byte frame header (no compression, big-endian length) + protobuf.
python3 - "$work" <<'PY'
import struct, sys
def field(number, payload):
    data = payload.encode()
    assert len(data) < 128
    return bytes([number << 3 | 2, len(data)]) + data
def frame(message):
    return b"\x00" + struct.pack(">I", len(message)) + message
work = sys.argv[1]
open(f"{work}/suggest.bin", "wb").write(frame(field(1, "hi, the parcel has not arrived yet, it has been 40 days. can you check?") + field(2, "US")))
open(f"{work}/health.bin", "wb").write(frame(b""))
PY

for _ in $(seq 1 100); do
  (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.2
done

# One h2load run: prints requests/s, p50/p90/p99 and the server's CPU time per request
# (user + system, from /proc), a figure less swayed than requests/s by what else the machine runs.
run() {
  local name=$1 path=$2 body=$3
  local cpu_before cpu_after
  # h2load appends to its log file: start each run with an empty one.
  rm -f "$work/$name.log"
  cpu_before=$(awk '{print $14 + $15}' "/proc/$server/stat")
  h2load -n "$N" -c "$C" -m "$M" -H 'content-type: application/grpc' -H 'te: trailers' \
    -d "$body" --log-file "$work/$name.log" "http://$ADDR$path" >"$work/$name.out"
  cpu_after=$(awk '{print $14 + $15}' "/proc/$server/stat")
  python3 - "$name" "$work/$name.out" "$work/$name.log" "$((cpu_after - cpu_before))" "$(getconf CLK_TCK)" "$N" <<'PY2' | tee -a "$work/rounds"
import re, sys
name, out, log, ticks, hz, n = sys.argv[1:]
text = open(out).read()
rps = float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", text).group(1))
ok = int(re.search(r"(\d+) 2xx", text).group(1))
# --log-file lines: start time (µs since epoch), status, duration (µs)
durations = sorted(int(line.split()[2]) for line in open(log) if line.strip())
def pct(p):
    return durations[min(len(durations) - 1, int(len(durations) * p / 100))] / 1000
cpu_us = int(ticks) / int(hz) / int(n) * 1e6
print(f"{name:<8} {rps:>10.0f} req/s   2xx {ok:>6}   p50 {pct(50):6.2f} ms   p90 {pct(90):6.2f} ms   p99 {pct(99):6.2f} ms   server CPU {cpu_us:5.1f} µs/req")
PY2
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "h2load: $N requests, $C connections x $M streams, $ROUNDS rounds (health then Suggest in each)"
# Warm-up, not reported: the first requests page in the models.
h2load -n 2000 -c "$C" -m "$M" -H 'content-type: application/grpc' -H 'te: trailers' \
  -d "$work/suggest.bin" "http://$ADDR/chatassist.v1.ReplyEngine/Suggest" >/dev/null
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round"
  run health /grpc.health.v1.Health/Check "$work/health.bin"
  run suggest /chatassist.v1.ReplyEngine/Suggest "$work/suggest.bin"
done
# Rounds alternate the two targets, so a slow spell of a shared machine hits both alike; the
# medians over rounds are the figures to quote.
python3 - "$work/rounds" <<'PY2'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name = line.split()[0]
    rps = float(line.split()[1])
    p99 = float(re.search(r"p99 +([\d.]+)", line).group(1))
    cpu = float(re.search(r"server CPU +([\d.]+)", line).group(1))
    rows.setdefault(name, []).append((rps, p99, cpu))
health, suggest = rows["health"], rows["suggest"]
ratios = [s[0] / h[0] for h, s in zip(health, suggest)]
med = lambda values: statistics.median(values)
print(f"median   health {med([r[0] for r in health]):.0f} req/s, Suggest {med([r[0] for r in suggest]):.0f} req/s, "
      f"Suggest/health {med(ratios) * 100:.0f} % (rounds: {', '.join(f'{r * 100:.0f} %' for r in ratios)}), "
      f"Suggest p99 {med([r[1] for r in suggest]):.2f} ms, server CPU {med([r[2] for r in health]):.1f} / {med([r[2] for r in suggest]):.1f} µs per request")
PY2
