#!/usr/bin/env bash
# Runs Broker Lab's checks as labelled stages, in order, stopping at the first
# failure, then prints the time each took and the test counts.
#
#   scripts/test.sh              every stage (what `make test` runs)
#   scripts/test.sh STAGE...     only the named stages, in the order given
#
# Stages: setup fmt clippy-sim clippy-web test-sim test-web wasm-sim trunk-build size e2e
# Logs of each stage go to target/test-logs/<stage>.log.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PWD/tools/wasm-opt/node_modules/.bin:$PATH"

ALL_STAGES=(setup fmt clippy-sim clippy-web test-sim test-web wasm-sim trunk-build size e2e)
LOG_DIR=target/test-logs

# Each stage: a title and the exact command.
stage_title() {
  case "$1" in
    setup) echo "install missing tools (scripts/setup.sh --test)" ;;
    fmt) echo "formatting (cargo fmt --all --check)" ;;
    clippy-sim) echo "lint the simulation core (cargo clippy -p broker-sim --all-targets)" ;;
    clippy-web) echo "lint the web app for wasm32 (cargo clippy -p broker-lab --target wasm32-unknown-unknown)" ;;
    test-sim) echo "native core tests (cargo test -p broker-sim)" ;;
    test-web) echo "native unit tests of the app: driver, layout, i18n completeness, sharing (cargo test -p broker-lab)" ;;
    wasm-sim) echo "the core builds for wasm32 (cargo build -p broker-sim --lib --target wasm32-unknown-unknown)" ;;
    trunk-build) echo "release bundle into dist/ (trunk build --release)" ;;
    size) echo "the wasm's size against its budget (scripts/size.sh)" ;;
    e2e) echo "end-to-end tests in headless Chromium against dist/ (node --test tests/e2e/)" ;;
    *) return 1 ;;
  esac
}

stage_run() {
  case "$1" in
    setup) scripts/setup.sh --test ;;
    fmt) cargo fmt --all --check ;;
    clippy-sim) cargo clippy -p broker-sim --all-targets -- -D warnings ;;
    clippy-web) cargo clippy -p broker-lab --target wasm32-unknown-unknown -- -D warnings ;;
    test-sim) cargo test -p broker-sim ;;
    test-web) cargo test -p broker-lab ;;
    wasm-sim) cargo build -p broker-sim --lib --target wasm32-unknown-unknown ;;
    trunk-build) trunk build --release ;;
    size) scripts/size.sh ;;
    e2e) node --test --test-concurrency=1 --test-reporter=spec tests/e2e/*.test.mjs ;;
  esac
}

fmt_secs() {
  local s=$1
  if ((s >= 60)); then printf '%dm%02ds' $((s / 60)) $((s % 60)); else printf '%ds' "$s"; fi
}

if (($# > 0)); then
  stages=("$@")
else
  stages=("${ALL_STAGES[@]}")
fi
for s in "${stages[@]}"; do
  stage_title "$s" >/dev/null || {
    echo "test: unknown stage '$s' (stages: ${ALL_STAGES[*]})" >&2
    exit 2
  }
done

mkdir -p "$LOG_DIR"
total=${#stages[@]}
start_all=$SECONDS
passed_tests=0
failed_tests=0
skipped_tests=0
timings=()

for i in "${!stages[@]}"; do
  s=${stages[$i]}
  n=$((i + 1))
  log="$LOG_DIR/$s.log"
  printf '\n==> [%d/%d] %s: %s\n' "$n" "$total" "$s" "$(stage_title "$s")"
  t0=$SECONDS
  status=0
  stage_run "$s" 2>&1 | tee "$log" || status=$?
  dt=$((SECONDS - t0))
  timings+=("$(printf '%-12s %s' "$s" "$(fmt_secs "$dt")")")

  case "$s" in
    test-sim | test-web)
      # cargo: "test result: ok. 12 passed; 0 failed; 1 ignored; ..."
      read -r p f ig < <(awk '/^test result:/ {
          for (i = 1; i < NF; i++) {
            if ($(i + 1) ~ /^passed;?$/) p += $i
            if ($(i + 1) ~ /^failed;?$/) f += $i
            if ($(i + 1) ~ /^ignored;?$/) ig += $i
          }
        } END { print p + 0, f + 0, ig + 0 }' "$log")
      printf '==> %s: %d passed, %d failed, %d ignored\n' "$s" "$p" "$f" "$ig"
      passed_tests=$((passed_tests + p))
      failed_tests=$((failed_tests + f))
      skipped_tests=$((skipped_tests + ig))
      ;;
    e2e)
      # node --test: "ℹ pass 2", "ℹ fail 0", "ℹ skipped 1"
      read -r p f sk < <(awk '$2 == "pass" { p += $3 } $2 == "fail" { f += $3 } $2 == "skipped" { sk += $3 }
        END { print p + 0, f + 0, sk + 0 }' "$log")
      printf '==> e2e tests: %d passed, %d failed, %d skipped (screenshots in target/e2e/)\n' "$p" "$f" "$sk"
      passed_tests=$((passed_tests + p))
      failed_tests=$((failed_tests + f))
      skipped_tests=$((skipped_tests + sk))
      ;;
  esac

  if ((status != 0)); then
    printf '\n==> FAILED at stage [%d/%d] %s (exit %d) after %s; log: %s\n' \
      "$n" "$total" "$s" "$status" "$(fmt_secs $((SECONDS - start_all)))" "$log"
    exit "$status"
  fi
  printf '==> [%d/%d] %s ok (%s)\n' "$n" "$total" "$s" "$(fmt_secs "$dt")"
done

printf '\n==> stage times\n'
printf '    %s\n' "${timings[@]}"
printf '==> all %d stages passed in %s\n' "$total" "$(fmt_secs $((SECONDS - start_all)))"
if ((skipped_tests > 0)); then
  printf 'tests: %d passed, %d failed, %d skipped\n' "$passed_tests" "$failed_tests" "$skipped_tests"
else
  printf 'tests: %d passed, %d failed\n' "$passed_tests" "$failed_tests"
fi
