#!/bin/bash
# The main job: build one of the examples with popcorn-cc/popcorn-ld exactly as a user would
# (`make CC=popcorn-cc LD=popcorn-ld`), run the binary for each ISA (aarch64 under qemu-aarch64
# on an x86_64 host), show that both print the same thing, verify the alignment, and then run it
# again migrating mid-run from the host ISA to the other and back (POPCORN_MIGRATE_AT).
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
echo

# Migration points are counted over the whole run; pick two well inside it.
points=$(POPCORN_STATS=1 ./app "${args[@]}" 2>&1 >/dev/null | sed -n 's/^migration points: //p')
first=$((points / 5)); second=$((points * 3 / 5))
echo "== migrating: $host -> $other at migration point $first, back to $host at point $second (of $points)"
# stdout and stderr share one pipe so the "(running on …)" notes appear in program order.
POPCORN_STATS=1 POPCORN_MIGRATE_AT="$first,$second" ./app "${args[@]}" 2>&1 | tee "$work/migrated.all"
# Drop what the runtime wrote to stderr (whole lines, but possibly right after a partial stdout
# line: the program's own output is compared byte for byte).
perl -0pe 's/[^\n]*\(running on [^)\n]*\)\n//g; s/migration: checkpoint [^\n]*KiB\n//g;
           s/transform: [^\n]*transformations\)\n//g; s/migration points: \d+\n//g; s/migrations: \d+\n//g' \
    "$work/migrated.all" > "$work/out.migrated"
echo
if cmp -s "$work/out.$host" "$work/out.migrated" && grep -q "^migrations: 2$" "$work/migrated.all"; then
    echo "== the migrated run moved twice and printed exactly what the unmigrated runs printed"
else
    echo "demo: error: the migrated run differs from the unmigrated one" >&2
    diff "$work/out.$host" "$work/out.migrated" >&2 || true
    exit 1
fi
