#!/usr/bin/env bash
# Regenerates link-order.txt: the functions `tochen run` executes while it starts and idles, by their symbols, in
# the order callgrind first met them. build.rs gives the file to the linker (lld's --symbol-ordering-file) for
# release builds, which puts these functions side by side at the start of .text: the pages start-up touches are then
# a few dense megabytes instead of windows spread over the whole 28 MiB of code (docs/ARCHITECTURE.md, "Code layout").
#
# Symbols carry a hash of their crate's build (its dependencies' versions, features, the profile and the compiler),
# so run this again after changing Cargo.lock, the toolchain or the release profile; `cargo bench --bench footprint`
# prints how many of the listed symbols the binary still defines. Needs valgrind and nm (binutils).
#
#   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test benches/link-order.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install valgrind" >&2; exit 1; }
command -v nm >/dev/null || { echo "nm is missing: apt-get install binutils" >&2; exit 1; }

exe=$(cargo build --release --bin tochen --message-format=json-render-diagnostics \
  | sed -n 's/.*"executable":"\([^"]*\/tochen\)".*/\1/p' | tail -n 1)
[ -x "$exe" ] || { echo "cargo did not name the tochen executable" >&2; exit 1; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# A copy: `cargo bench` below puts its own build of tochen (other symbols) at the same path.
cp "$exe" "$out/tochen"
exe="$out/tochen"
# One round on SQLite (and one on PostgreSQL when TEST_DATABASE_URL is set): a first start that migrates a new
# database, then a restart that idles, each under callgrind, which records every function that runs.
FOOTPRINT_ROUNDS=1 FOOTPRINT_IDLE_SECS="${FOOTPRINT_IDLE_SECS:-10}" FOOTPRINT_BIN="$exe" \
  FOOTPRINT_WRAPPER="valgrind --tool=callgrind --demangle=no --callgrind-out-file=$out/callgrind.%p" \
  cargo bench --bench footprint >/dev/null

# `fn=(id) name` and `cfn=(id) name` name a function the first time a profile mentions it; keep the binary's own.
nm --defined-only "$exe" | awk '{print $3}' | sort -u > "$out/defined"
cat "$out"/callgrind.* | sed -n 's/^c\{0,1\}fn=([0-9]*) //p' | awk '!seen[$0]++' > "$out/ran"
awk 'NR == FNR { defined[$0] = 1; next } ($0 in defined)' "$out/defined" "$out/ran" > link-order.txt
echo "link-order.txt: $(wc -l < link-order.txt) functions; rebuild with cargo build --release to apply it"
