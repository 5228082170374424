#!/bin/bash
# The main job: build one of the examples with popcorn-cc/popcorn-ld exactly as a user would
# (`make CC=popcorn-cc LD=popcorn-ld`), run the binary for each ISA (aarch64 under qemu-aarch64
# on an x86_64 host), show that both print the same thing, and verify the alignment.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
example=${1:-nbody}
src="$root/Examples/$example"
[ -d "$src" ] || { echo "demo: error: no example named '$example' (see Examples/)" >&2; exit 1; }
export PATH="$root/build/bin:$PATH"

work=$(mktemp -d /tmp/popcorn-demo-XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -R "$src/." "$work/"
cd "$work"
make clean >/dev/null

echo "== building Examples/$example with popcorn-cc and popcorn-ld"
make CC=popcorn-cc LD=popcorn-ld AR=llvm-ar-19
echo
ls -l app app.aarch64
echo

case "$(uname -m)" in aarch64|arm64) host=aarch64; other=x86_64 ;; *) host=x86_64; other=aarch64 ;; esac
args=()
case "$example" in nbody) args=(20000) ;; esac

echo "== running app ($host, native)"
./app "${args[@]}" | tee "$work/out.$host"
echo
echo "== running app.$other (qemu-$other)"
"qemu-$other" "./app.$other" "${args[@]}" | tee "$work/out.$other"
echo
if cmp -s "$work/out.$host" "$work/out.$other"; then
    echo "== both ISAs printed identical output"
else
    echo "demo: error: outputs differ" >&2
    diff "$work/out.$host" "$work/out.$other" >&2 || true
    exit 1
fi
echo
echo "== popcorn-dump --verify app"
popcorn-dump --verify app
