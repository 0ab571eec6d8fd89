#!/usr/bin/env bash
# Builds cmd/daytonatest, starts it in the background (-latency 20ms unless
# LATENCY says otherwise), waits for the DAYTONA_API_URL / DAYTONA_API_KEY it
# prints, runs the Node anchor benchmark (the real @mastra/daytona) against
# it, and stops the server. One command for the anchor numbers:
#
#   bench/anchor/run.sh                 # from anywhere in the repository
#   LATENCY=0s bench/anchor/run.sh      # another injected latency
#
# Environment: LATENCY (default 20ms), CLOSE_DELAY (default: the server's,
# 1s), OUT (default bench/anchor/last-run.txt: JSON lines and table),
# SERVER_LOG (default bench/anchor/last-run.server.log: the fake's request
# log), and the ANCHOR_* knobs of bench.mjs, passed through.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
latency="${LATENCY:-20ms}"
out="${OUT:-$here/last-run.txt}"
server_log="${SERVER_LOG:-$here/last-run.server.log}"

work="$(mktemp -d "${TMPDIR:-/tmp}/anchor-bench.XXXXXX")"
srv_pid=""
cleanup() {
	if [[ -n "$srv_pid" ]] && kill -0 "$srv_pid" 2>/dev/null; then
		kill -TERM "$srv_pid" 2>/dev/null || true
		# The server kills the shells it started and removes its files;
		# it gives itself 30 s for that.
		for _ in $(seq 1 350); do
			kill -0 "$srv_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$srv_pid" 2>/dev/null || true
		wait "$srv_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "run.sh: building cmd/daytonatest" >&2
(cd "$repo" && go build -o "$work/daytonatest" ./cmd/daytonatest)

if [[ ! -f "$here/node_modules/.package-lock.json" || "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]]; then
	echo "run.sh: npm ci" >&2
	(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

args=(-latency "$latency")
if [[ -n "${CLOSE_DELAY:-}" ]]; then
	args+=(-close-delay "$CLOSE_DELAY")
fi
# The server logs one line per request on stderr: keep it out of the way.
"$work/daytonatest" "${args[@]}" >"$work/env" 2>"$server_log" &
srv_pid=$!

for _ in $(seq 1 300); do
	[[ $(grep -c '^DAYTONA_API_' "$work/env" 2>/dev/null || true) -ge 2 ]] && break
	if ! kill -0 "$srv_pid" 2>/dev/null; then
		echo "run.sh: daytonatest exited early:" >&2
		cat "$server_log" >&2
		exit 1
	fi
	sleep 0.1
done
if [[ $(grep -c '^DAYTONA_API_' "$work/env" || true) -lt 2 ]]; then
	echo "run.sh: daytonatest printed no URL/key within 30 s" >&2
	exit 1
fi
DAYTONA_API_URL="$(sed -n 's/^DAYTONA_API_URL=//p' "$work/env")"
DAYTONA_API_KEY="$(sed -n 's/^DAYTONA_API_KEY=//p' "$work/env")"
DAYTONATEST_PID="$srv_pid" # bench.mjs: the server's CPU share, apart from other jobs
export DAYTONA_API_URL DAYTONA_API_KEY DAYTONATEST_PID
echo "run.sh: daytonatest (pid $srv_pid) at $DAYTONA_API_URL, latency $latency; results also in $out" >&2

cd "$here"
node --expose-gc bench.mjs | tee "$out"

# Requests the fake answered with an error status. Expected: exactly one
# 404, the GET /api/sandbox/{name} with which 0.4.1 looks for an existing
# sandbox before creating one. Anything else is an incompatibility.
errors="$(grep -E -- ' -> [45][0-9][0-9] ' "$server_log" || true)"
echo "run.sh: $(grep -cE -- ' -> [0-9]{3} ' "$server_log" || true) requests logged by the fake, $(printf '%s' "$errors" | grep -c . || true) with a 4xx/5xx status${errors:+:}" >&2
[[ -n "$errors" ]] && printf '%s\n' "$errors" | head -20 >&2
exit 0
