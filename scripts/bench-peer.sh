#!/usr/bin/env bash
# The headless runner against SimPy on the same M/M/3 network (bench/peer/): 200,000 messages,
# whole process, CPU time (user + system), median of 3 alternating runs, and their ratio.
# Installs SimPy into target/peer-venv if it is missing. `make bench-peer` runs this.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

SIMPY_VERSION=4.1.1
VENV=target/peer-venv
RUNS=3
MESSAGES=200000

say() { printf 'bench-peer: %s\n' "$*"; }

if "$VENV/bin/python" -c "import simpy, sys; sys.exit(simpy.__version__ != '$SIMPY_VERSION')" 2>/dev/null; then
  say "SimPy $SIMPY_VERSION present in $VENV, skipping"
else
  say "installing SimPy $SIMPY_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "simpy==$SIMPY_VERSION"
fi
cargo build --quiet -p broker-sim --release

# CPU seconds (user + system) of one whole process; its stdout goes to $2.
cpu_of() {
  local out=$1
  shift
  local t
  t="$(mktemp)"
  /usr/bin/time -f "%U %S" -o "$t" "$@" >"$out"
  awk '{ printf "%.3f\n", $1 + $2 }' "$t"
  rm -f "$t"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

runner=()
simpy=()
for i in $(seq 1 "$RUNS"); do
  runner+=("$(cpu_of target/peer-runner.json target/release/broker-sim run bench/peer/mm3-200k.json --until 8100s --summary)")
  simpy+=("$(cpu_of target/peer-simpy.txt "$VENV/bin/python" bench/peer/mm3_simpy.py "$MESSAGES")")
  say "run $i: runner ${runner[-1]} s, SimPy ${simpy[-1]} s"
done

# Both ran the whole model: every message through, the same mean time in system (about 150 ms).
delivered="$(grep -o '"acked": *[0-9]*' target/peer-runner.json | head -n 1 | grep -o '[0-9]*$')"
say "runner: $delivered messages acked; $(cat target/peer-simpy.txt)"

r="$(printf '%s\n' "${runner[@]}" | median)"
s="$(printf '%s\n' "${simpy[@]}" | median)"
say "median CPU: runner $r s, SimPy $s s"
awk -v r="$r" -v s="$s" 'BEGIN { printf "bench-peer: SimPy takes %.1fx as long as the runner\n", s / r }'
