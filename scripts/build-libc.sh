#!/bin/sh
# Builds the portable C library (docs/LIBC.md): Debian's musl source compiled by popcorn-cc
# with -fpopcorn-libc=portable through musl's own build system, plus this project's per-ISA
# layer (Toolchain/libc/<isa>), compiled natively.
#
#   scripts/build-libc.sh <stage>      e.g. scripts/build-libc.sh build
#
# Writes, for each ISA, <stage>/lib/popcorn/<isa>/portable/crt1.o and libc.a (musl's objects
# for that ISA, then the layer's), atomically. The result is keyed by the content of
# everything it is made from (musl's tarball, the overlay and layer sources, popcorn-cc, this
# script): a second run with the same inputs does nothing.
set -eu
stage=$(cd "${1:?usage: build-libc.sh <stage directory>}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
libc=$root/Toolchain/libc
out=$stage/lib/popcorn
cc=$stage/bin/popcorn-cc
dump=$stage/bin/popcorn-dump
CLANG=${CLANG:-clang-19}
AR=${AR:-llvm-ar-19}
OBJCOPY=${OBJCOPY:-llvm-objcopy-19}
READELF=${READELF:-llvm-readelf-19}
NM=${NM:-llvm-nm-19}
ISAS="x86_64 aarch64"
say() { echo "build-libc: $*" >&2; }

[ -x "$cc" ] && [ -x "$dump" ] || { say "error: $cc or $dump is missing (run make stage first)"; exit 1; }
source=$("$root/scripts/debian-source.sh" musl)
tarball=$(ls "$source"/../*.orig.tar.* | head -n 1)

key=$( { sha256sum "$cc" "$dump" "$tarball" "$0" "$root/Toolchain/tools/gen_syscall_table.sh" \
             "$root/Toolchain/runtime/x86_64/aarch64_abi.h"
         find "$libc" -type f | LC_ALL=C sort | xargs sha256sum; } | sha256sum | cut -c1-32)
stamp=$out/portable-libc.key
if [ "$(cat "$stamp" 2>/dev/null || true)" = "$key" ]; then
    exit 0
fi

# One build at a time (make -j, parallel test runs).
mkdir -p "$out"
exec 9>"$out/portable-libc.lock"
flock 9
[ "$(cat "$stamp" 2>/dev/null || true)" = "$key" ] && exit 0

work=$stage/libc.obj
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT INT TERM HUP

# musl's tree with aarch64's C view, minus everything that is aarch64 assembly or inline
# assembly: the overlay headers replace musl's arch headers, the per-ISA layer provides the
# removed routines, and musl's generic C takes the place of its aarch64 math and string code.
cp -a "$source" "$work/musl"
cd "$work/musl"
cp "$libc"/arch/*.h arch/aarch64/
# musl's per-ISA memcpy and memset stay per-ISA optimized code, in each ISA's layer: leaves, no
# migration point can be inside them (docs/LIBC.md), and they are what a plain build runs.
# x86_64's files carry no .size; popcorn-ld aligns functions by their sizes, so one is added.
for isa in $ISAS; do
    mkdir -p "$work/leaf/$isa"
    for file in src/string/"$isa"/memcpy.* src/string/"$isa"/memset.*; do
        cp "$file" "$work/leaf/$isa/"
        copy=$work/leaf/$isa/$(basename "$file")
        grep -q '^\.size' "$copy" || sed -n 's/^\.type[[:space:]]*\([A-Za-z_0-9]*\),@function$/.size \1,.-\1/p' "$copy" >>"$copy"
    done
done
rm -f src/string/memcpy.c src/string/memset.c
rm -f arch/aarch64/fp_arch.h
rm -rf src/*/aarch64 crt/aarch64
# musl's generic stand-ins for the routines the layer provides (empty or ENOSYS versions).
rm -f src/fenv/fenv.c src/setjmp/setjmp.c src/setjmp/longjmp.c src/signal/sigsetjmp.c \
    src/signal/restore.c src/thread/clone.c src/thread/__unmapself.c src/thread/__set_thread_area.c
cp "$libc"/src/*.c src/thread/
# The heap file (docs/LIBC.md, "The heap file"): malloc's mappings of 128 KiB and more become
# pages of a memfd that a process move hands over instead of copying.  mallocng's glue maps, unmaps, advises and remaps
# through it, and the file is given up (the heap made private) before fork and before the first
# thread.  Each patch must apply exactly once, or the build stops.
cp "$libc"/malloc/heap_file.c src/malloc/
cp "$libc"/malloc/heap_file.h src/internal/
patch_once() { # file, sed expression, text the result must contain once
    sed -i "$2" "$1"
    [ "$(grep -c -F "$3" "$1")" = 1 ] || { say "error: cannot patch $1 for the heap file (musl changed?)"; exit 1; }
}
printf '#include "heap_file.h"\n' >>src/malloc/mallocng/glue.h
patch_once src/process/_Fork.c 's/^\t__block_all_sigs(&set);$/\tif (__popcorn_heap_private()) return __syscall_ret(-ENOMEM);\n&/' \
    '__popcorn_heap_private()'
patch_once src/process/_Fork.c 's/^#include "aio_impl.h"$/&\n#include "heap_file.h"/' '#include "heap_file.h"'
patch_once src/thread/pthread_create.c 's/^\t\tlibc.threaded = 1;$/\t\tif (__popcorn_heap_private()) return EAGAIN;\n&/' \
    '__popcorn_heap_private()'
patch_once src/thread/pthread_create.c 's/^#include "lock.h"$/&\n#include "heap_file.h"/' '#include "heap_file.h"'
./configure --target=aarch64-linux-musl --disable-shared --prefix=/ \
    CC="$cc" AR="$AR" RANLIB=true \
    CFLAGS="-fpopcorn-libc=portable -funwind-tables -fasynchronous-unwind-tables" >"$work/configure.log" 2>&1 \
    || { cat "$work/configure.log" >&2; say "error: musl's configure failed"; exit 1; }
# Unwind tables stay (musl turns them off): popcorn-ld reads every migratable frame's CFI.
# No migration points (so no stackmaps and no object stack, whose pointer is thread-local) in
# - the start-up code that runs before the thread pointer is set;
# - the string routines: leaves, kept as fast as plain code;
# - stdio, the system-call wrappers' helpers, errno and __lock: they run below a variadic
#   frame (printf, open, fcntl) or a point-free one, which no metadata can describe, so a move
#   requested there would wait anyway; without points it waits for the next point instead of
#   retrying at each one;
# - exit: after main has returned there is no frame of main to rebuild;
# - ctype and locale: leaves like the string routines (tolower and toupper sit in hot loops,
#   strcoll in sort comparators: Lua's string comparison);
# - math, multibyte, the unistd system-call wrappers, signal blocking, raise, message
#   translation and temporary names: leaves (each call is short) that the point-free parts call
#   (printf's float and wide-character formatting, abort, tmpfile); a point below a point-free
#   frame could never be served, so it would only cost time;
# - sigsetjmp's tail: it runs after the buffer is filled and before the note popcorn-cc puts
#   after every setjmp-family call, so a move there would leave an unnoted buffer holding the
#   old stack's addresses;
# - malloc and the mman wrappers it calls: the runtime allocates too (a move's probe spawns
#   qemu), and its allocations must not change which migration points the program's own
#   allocations reach, or point numbers would differ between runs that move and runs that don't.
cat >>config.mak <<'MAKE'
obj/src/env/__libc_start_main.o obj/src/env/__init_tls.o obj/src/env/__stack_chk_fail.o: CFLAGS_ALL += -fpopcorn-migration=none
obj/src/string/%.o obj/src/stdio/%.o obj/src/internal/%.o obj/src/errno/%.o: CFLAGS_ALL += -fpopcorn-migration=none
obj/src/thread/__syscall_cp.o obj/src/thread/syscall_cp.o obj/src/thread/__lock.o obj/src/exit/%.o obj/src/malloc/%.o obj/src/mman/%.o: CFLAGS_ALL += -fpopcorn-migration=none
obj/src/ctype/%.o obj/src/signal/sigsetjmp_tail.o: CFLAGS_ALL += -fpopcorn-migration=none
obj/src/math/%.o obj/src/multibyte/%.o obj/src/unistd/%.o obj/src/signal/block.o obj/src/signal/raise.o obj/src/locale/%.o obj/src/temp/__randname.o: CFLAGS_ALL += -fpopcorn-migration=none
MAKE
jobs=$(nproc 2>/dev/null || echo 2)
# popcorn-cc must not read the point-free list of an earlier build (which decides the call sites):
# inside musl every call is instrumented.
mkdir -p "$work/no-runtime"
if ! POPCORN_RUNTIME_DIR="$work/no-runtime" make -j"$jobs" lib/libc.a >"$work/make.log" 2>&1; then
    grep -E 'error|Error' "$work/make.log" | head -n 40 >&2
    say "error: building musl with popcorn-cc failed (log: $work/make.log)"
    trap - EXIT
    exit 1
fi

# The system-call number table of the x86_64 layer.
mkdir -p "$work/gen"
sh "$root/Toolchain/tools/gen_syscall_table.sh" /usr/include/aarch64-linux-musl/bits/syscall.h \
    /usr/include/x86_64-linux-musl/bits/syscall.h >"$work/gen/syscall_table.h"

resource=$($CLANG -print-resource-dir)/include
objects=$(find obj/src obj/compat -name '*.o' 2>/dev/null | LC_ALL=C sort)
for isa in $ISAS; do
    dir=$work/$isa
    mkdir -p "$dir/musl" "$dir/layer"
    # musl: this ISA's object out of each multi-ISA object, named after its source path. The
    # other ISAs' objects are stored compressed: popcorn-dump --extract writes <object>.<isa>.
    [ "$isa" = x86_64 ] || echo $objects | xargs "$dump" --extract="$isa"
    members=""
    for object in $objects; do
        name=$(echo "${object#obj/}" | tr / _)
        if [ "$isa" = x86_64 ]; then
            # The container is the x86_64 object; drop what it embeds for the other ISAs.
            "$OBJCOPY" --remove-section .popcorn.object --remove-section '.popcorn.isa.*' \
                "$object" "$dir/musl/$name"
        else
            mv "$object.$isa" "$dir/musl/$name"
        fi
        members="$members $dir/musl/$name"
    done
    # The layer: freestanding native code against the C library's aarch64 view.
    flags="--target=$isa-unknown-linux-musl -ffreestanding -nostdinc -isystem $resource -O2 -fno-pic
           -ffunction-sections -fdata-sections -Wall -Wextra -Werror -Wno-unused-command-line-argument -std=gnu11
           -I$root/Toolchain/runtime/x86_64 -I$libc/$isa -I$work/gen"
    for file in "$libc/$isa"/*.c "$libc/$isa"/*.S "$work/leaf/$isa"/*; do
        base=$(basename "$file")
        [ "$base" = start.S ] && continue
        # shellcheck disable=SC2086
        $CLANG $flags -c "$file" -o "$dir/layer/popcorn_${base%.*}.o"
        members="$members $dir/layer/popcorn_${base%.*}.o"
    done
    # shellcheck disable=SC2086
    $CLANG $flags -c "$libc/$isa/start.S" -o "$dir/crt1.o"
    # The functions of musl's objects without migration points: calls to them need no stackmap
    # (no move can happen while one runs), so popcorn-cc leaves them uninstrumented.
    # The layer (native code, the per-ISA leaves included) is point-free too. popcorn-cc keeps
    # the setjmp family's records whatever this list says.
    for object in "$dir"/musl/*.o "$dir"/layer/*.o; do
        "$READELF" -S -W "$object" | grep -q '\.llvm_stackmaps' && continue
        "$NM" --defined-only --extern-only --format=just-symbols "$object"
    done | LC_ALL=C sort -u >"$dir/point-free-functions"
    # Of those, the functions that only compute (string, memory, character-class and maths
    # routines): a loop calling them runs like a call-free loop, so popcorn-cc gives it no point of
    # its own. An object of musl's (one IR, no native code) qualifies when it has no migration
    # points and every symbol it refers to is defined by a qualifying object: a least fixed point,
    # so anything that reaches the system-call layer (`__popcorn_syscall`, native code), a lock or
    # the program (a callback) stays out. The per-ISA memcpy and memset (leaves copied from musl,
    # no system call) count as such objects.
    for object in "$dir"/musl/*.o "$dir"/layer/popcorn_memcpy.o "$dir"/layer/popcorn_memset.o; do
        "$READELF" -S -W "$object" | grep -q '\.llvm_stackmaps' && continue
        "$NM" --defined-only --extern-only --format=just-symbols "$object" | sed "s|^|D $object |"
        "$NM" --undefined-only --format=just-symbols "$object" | sed "s|^|U $object |"
    done | awk '
        $1 == "D" { definer[$3] = $2; defines[$2] = defines[$2] " " $3; objects[$2] = 1 }
        $1 == "U" { uses[$2] = uses[$2] " " $3; objects[$2] = 1 }
        END {
            for (o in objects) candidate[o] = 1
            do {
                changed = 0
                split("", out)
                for (o in candidate) {
                    n = split(uses[o], names, " ")
                    for (i = 1; i <= n; i++) {
                        d = definer[names[i]]
                        if (d == "" || !(d in candidate)) { out[o] = 1; break }
                    }
                }
                for (o in out) { delete candidate[o]; changed = 1 }
            } while (changed)
            for (o in candidate) { n = split(defines[o], names, " "); for (i = 1; i <= n; i++) print names[i] }
        }' | LC_ALL=C sort -u >"$dir/computing-functions"
    # shellcheck disable=SC2086
    "$AR" rcs "$dir/libc.a" $members
done

# Install both ISAs' files, then the key: a partial install is never taken for a finished one.
rm -f "$stamp"
for isa in $ISAS; do
    mkdir -p "$out/$isa/portable"
    for file in crt1.o libc.a point-free-functions computing-functions; do
        cp "$work/$isa/$file" "$out/$isa/portable/$file.tmp"
        mv -f "$out/$isa/portable/$file.tmp" "$out/$isa/portable/$file"
    done
done
echo "$key" >"$stamp.tmp" && mv -f "$stamp.tmp" "$stamp"
say "portable C library built in $out/<isa>/portable"
