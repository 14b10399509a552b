#!/usr/bin/env bash
# Installs what Broker Lab needs to build (and, with --test, to test), skipping
# whatever is already there. Safe to run any number of times.
#
#   scripts/setup.sh          wasm32 target, trunk, wasm-bindgen-cli, wasm-opt (npm binaryen)
#   scripts/setup.sh --test   the above, plus Debian chromium and tests/e2e/node_modules
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

TRUNK_VERSION=0.21.14
WASM_TARGET=wasm32-unknown-unknown
CHROMIUM=/usr/bin/chromium
E2E_DIR=tests/e2e

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

with_test=0
for arg in "$@"; do
  case "$arg" in
    --test) with_test=1 ;;
    -h | --help)
      sed -n '2,7p' "${BASH_SOURCE[0]}"
      exit 0
      ;;
    *)
      echo "setup: unknown argument: $arg" >&2
      exit 2
      ;;
  esac
done

say() { printf 'setup: %s\n' "$*"; }
die() {
  printf 'setup: error: %s\n' "$*" >&2
  exit 1
}

# Prints the version of the first [[package]] named "$1" in Cargo.lock.
lock_version() {
  awk -v want="\"$1\"" '
    /^\[\[package\]\]/ { name = "" }
    /^name = / { name = $3 }
    /^version = / && name == want { v = $3; gsub(/"/, "", v); print v; exit }
  ' Cargo.lock
}

wasm_bindgen_version() {
  local v=""
  if [[ -f Cargo.lock ]]; then
    v="$(lock_version wasm-bindgen)"
  fi
  if [[ -z "$v" ]]; then
    # No lock file yet: fall back to the exact pin in Cargo.toml (wasm-bindgen = "=X.Y.Z").
    v="$(sed -n 's/^wasm-bindgen *= *"=\([0-9][0-9.]*\)".*/\1/p' Cargo.toml | head -n 1)"
  fi
  [[ -n "$v" ]] || die "cannot find the wasm-bindgen version in Cargo.lock or an exact (=) pin in Cargo.toml"
  printf '%s\n' "$v"
}

command -v cargo >/dev/null || die "cargo not found: install Rust with rustup first"
command -v rustup >/dev/null || die "rustup not found: the wasm32 target is added with rustup"

# 1. The wasm32 target for the stable toolchain.
if rustup target list --installed | grep -qx "$WASM_TARGET"; then
  say "rust target $WASM_TARGET present, skipping"
else
  say "adding rust target $WASM_TARGET"
  rustup target add "$WASM_TARGET"
fi

# 2. trunk, the wasm bundler.
have_trunk="$(trunk --version 2>/dev/null | awk '{print $2}' || true)"
if [[ "$have_trunk" == "$TRUNK_VERSION" ]]; then
  say "trunk $TRUNK_VERSION present, skipping"
else
  say "installing trunk $TRUNK_VERSION (found: ${have_trunk:-none}); this compiles for several minutes"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

# 3. wasm-bindgen-cli, exactly the version of the wasm-bindgen crate in Cargo.lock.
#    (Not --locked: its own lock file does not build here.)
want_wbg="$(wasm_bindgen_version)"
have_wbg="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
if [[ "$have_wbg" == "$want_wbg" ]]; then
  say "wasm-bindgen-cli $want_wbg present, skipping"
else
  say "installing wasm-bindgen-cli $want_wbg (found: ${have_wbg:-none}); this compiles for a few minutes"
  cargo install wasm-bindgen-cli --version "$want_wbg"
fi

# Trunk downloads a tool when its [tools] pin differs from the installed one, and
# nothing can be downloaded here: catch a stale pin now, with a clear message.
if [[ -f Trunk.toml ]]; then
  pinned="$(sed -n 's/^wasm_bindgen *= *"\([^"]*\)".*/\1/p' Trunk.toml | head -n 1)"
  if [[ -n "$pinned" && "$pinned" != "$want_wbg" ]]; then
    die "Trunk.toml pins wasm_bindgen = \"$pinned\" but Cargo.lock has wasm-bindgen $want_wbg: make them equal"
  fi
fi

# 4. wasm-opt from npm's binaryen, pinned in tools/wasm-opt (Debian's binaryen is too old).
#    trunk finds it on PATH (the Makefile and scripts/test.sh add tools/wasm-opt/node_modules/.bin)
#    and, as its version matches Trunk.toml's pin, never downloads one.
WASM_OPT_DIR=tools/wasm-opt
command -v node >/dev/null || die "node not found: the release build runs wasm-opt from npm's binaryen (Node.js >= 20.10)"
wasm_opt_stamp="$WASM_OPT_DIR/node_modules/.package-lock.json"
if [[ -f "$wasm_opt_stamp" && ! "$WASM_OPT_DIR/package-lock.json" -nt "$wasm_opt_stamp" ]]; then
  say "wasm-opt ($WASM_OPT_DIR) up to date, skipping npm ci"
else
  say "installing wasm-opt: npm ci in $WASM_OPT_DIR"
  (cd "$WASM_OPT_DIR" && npm ci --no-audit --no-fund)
fi

if [[ "$with_test" == 1 ]]; then
  # 5. Debian's Chromium for the end-to-end tests (never a downloaded browser), and the CJK
  # fonts without which every Korean screenshot shows empty boxes.
  missing=()
  [[ -x "$CHROMIUM" ]] || missing+=(chromium)
  dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
  if [[ ${#missing[@]} -eq 0 ]]; then
    say "chromium ($CHROMIUM) and fonts-noto-cjk present, skipping"
  else
    say "installing ${missing[*]}"
    sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then
      sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
  fi

  # 6. playwright-core and friends for tests/e2e.
  command -v node >/dev/null || die "node not found: the e2e tests need Node.js >= 20.10"
  node_major="$(node -p 'process.versions.node.split(".")[0]')"
  [[ "$node_major" -ge 20 ]] || die "Node.js $(node --version) is too old: the e2e tests need >= 20.10"
  stamp="$E2E_DIR/node_modules/.package-lock.json"
  if [[ -f "$stamp" && ! "$E2E_DIR/package-lock.json" -nt "$stamp" ]]; then
    say "$E2E_DIR/node_modules up to date, skipping npm ci"
  else
    say "running npm ci in $E2E_DIR"
    (cd "$E2E_DIR" && npm ci --no-audit --no-fund)
  fi
fi

say "done"
