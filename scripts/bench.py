#!/usr/bin/env python3
"""Benchmarks the popcorn toolchain against plain clang-19 / ld.lld-19 on this machine, in one run.

Prints ratios (popcorn / plain; lower is better) per example and their geometric mean.
Two popcorn builds are measured: "aligned" (-fpopcorn-migration=none: aligned binaries, no
migration points) and "migratable" (the default: migration points at function entry and exit,
stackmaps, stack-transformation metadata).
  compile   popcorn-cc -O2 -c (both ISAs)  vs  clang-19 -O2 -c once per ISA
  passes    migratable compile time        vs  aligned compile time (cost of the migration passes)
  link      popcorn-ld                     vs  two plain ld.lld-19 links
  size      binary file size per ISA       vs  plain clang-19 -O2 static musl binary
  run       x86_64 run time                vs  plain clang-19 -O2 binary
  meta/site bytes of .popcorn.meta per call site (both ISAs' tables)
Each time is the minimum of several repetitions, to suppress noise from other processes.
"""
import math
import os, shutil, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "bin")
REPS = int(os.environ.get("BENCH_REPS", "3"))
# Run arguments give plain runs of about half a second to a second here: shorter runs let
# scheduling noise move a single ratio by several percent.
EXAMPLES = {  # name: (sources, link libraries, run arguments)
    "nbody": (["main.c", "nbody.c"], ["-lm"], ["10000000"]),
    "matrix": (["main.c", "matrix.c", "rng.c"], ["-lm"], ["800", "4"]),
    "wordcount": (["main.c", "hashmap.c", "tokenize.c"], [], ["800000"]),
    "kvstore": (["main.c", "store.c"], [], ["200000"]),
}
ISAS = ["x86_64", "aarch64"]
LIBGCC = {"x86_64": "/usr/lib/gcc/x86_64-linux-gnu/12/libgcc.a",
          "aarch64": "/usr/lib/gcc-cross/aarch64-linux-gnu/12/libgcc.a"}
EMULATION = {"x86_64": "elf_x86_64", "aarch64": "aarch64linux"}


def run(cmd, cwd):
    r = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(f"bench: error: {' '.join(cmd)} failed:\n{r.stderr}")
    return r


def timed(cmds, cwd):
    """Minimum over REPS of the wall time to run every command in `cmds` one after another."""
    best = math.inf
    for _ in range(REPS):
        start = time.perf_counter()
        for c in cmds:
            run(c, cwd)
        best = min(best, time.perf_counter() - start)
    return best


def plain_flags(isa):
    resource = subprocess.run(["clang-19", "-print-resource-dir"], stdout=subprocess.PIPE, text=True).stdout.strip()
    return [f"--target={isa}-unknown-linux-musl", "-nostdinc", "-isystem", f"/usr/include/{isa}-linux-musl",
            "-isystem", f"{resource}/include"]


def plain_link(isa, objs, libs, out):
    lib = f"/usr/lib/{isa}-linux-musl"
    extra = [f"{lib}/lib{l[2:]}.a" for l in libs]
    return ["ld.lld-19", "-m", EMULATION[isa], "-static", "-o", out, f"{lib}/crt1.o", f"{lib}/crti.o", *objs,
            *extra, "--start-group", f"{lib}/libc.a", LIBGCC[isa], "--end-group", f"{lib}/crtn.o"]


def metadata_version():
    """The format version, from the one place it is declared (Toolchain/include/popcorn_metadata.h)."""
    header = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Toolchain", "include", "popcorn_metadata.h")
    with open(header) as f:
        for line in f:
            if line.startswith("#define POPCORN_META_VERSION "):
                return int(line.split()[2])
    sys.exit("bench: error: POPCORN_META_VERSION not found in popcorn_metadata.h")


def metadata_stats(binary):
    """(call sites, bytes) of the .popcorn.meta section: its size from llvm-readelf, the call-site
    count from the first table's header (docs/METADATA.md; the stackmaps it was built from are no
    longer in the binary)."""
    out = subprocess.run(["llvm-readelf-19", "-S", "--wide", binary], stdout=subprocess.PIPE, text=True).stdout
    offset = size = 0
    for line in out.splitlines():
        if ".popcorn.meta" in line:
            fields = line.split("]", 1)[1].split()
            offset, size = int(fields[3], 16), int(fields[4], 16)
    if size < 112:
        return 0, size
    with open(binary, "rb") as f:
        f.seek(offset)
        header = f.read(112)
    version = metadata_version()
    if header[:8] != b"POPCMETA" or int.from_bytes(header[8:10], "little") != version:
        sys.exit(f"bench: error: {binary}: .popcorn.meta is not version {version} metadata")
    return int.from_bytes(header[44:48], "little"), size


def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def main():
    cc, ld = os.path.join(BIN, "popcorn-cc"), os.path.join(BIN, "popcorn-ld")
    if not os.access(cc, os.X_OK):
        sys.exit("bench: error: build/bin/popcorn-cc missing; run `make` first")
    rows = []
    for name, (srcs, libs, args) in EXAMPLES.items():
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        work = tempfile.mkdtemp(prefix=f"popcorn-bench-{name}-")
        try:
            shutil.copytree(os.path.join(ROOT, "Examples", name), work, dirs_exist_ok=True)
            objs = [s[:-2] + ".o" for s in srcs]
            none = "-fpopcorn-migration=none"
            t_pc = timed([[cc, "-O2", none, "-c", s, "-o", o] for s, o in zip(srcs, objs)], work)
            mobjs = [s[:-2] + ".m.o" for s in srcs]
            t_mig = timed([[cc, "-O2", "-c", s, "-o", o] for s, o in zip(srcs, mobjs)], work)
            t_plain = 0.0
            for isa in ISAS:
                t_plain += timed([["clang-19", *plain_flags(isa), "-O2", "-c", s, "-o", f"{o}.{isa}.plain"]
                                  for s, o in zip(srcs, objs)], work)
            l_pc = timed([[ld, *objs, *libs, "-o", "app"]], work)
            l_plain = sum(timed([plain_link(isa, [f"{o}.{isa}.plain" for o in objs], libs, f"plain.{isa}")], work)
                          for isa in ISAS)
            sizes = {isa: os.path.getsize(os.path.join(work, "app" if isa == "x86_64" else f"app.{isa}")) /
                     os.path.getsize(os.path.join(work, f"plain.{isa}")) for isa in ISAS}
            run([ld, *mobjs, *libs, "-o", "mapp"], work)
            msizes = {isa: os.path.getsize(os.path.join(work, "mapp" if isa == "x86_64" else f"mapp.{isa}")) /
                      os.path.getsize(os.path.join(work, f"plain.{isa}")) for isa in ISAS}
            r_pc = timed([["./app", *args]], work)
            r_mig = timed([["./mapp", *args]], work)
            r_plain = timed([["./plain.x86_64", *args]], work)
            out_plain = run(["./plain.x86_64", *args], work).stdout
            for binary in ("./app", "./mapp"):
                if run([binary, *args], work).stdout != out_plain:
                    sys.exit(f"bench: error: {name}: {binary} and the plain build print different output")
            sites, meta = metadata_stats(os.path.join(work, "mapp"))
            rows.append((name, t_pc / t_plain, t_mig / t_pc, l_pc / l_plain, sizes["x86_64"], sizes["aarch64"],
                         msizes["x86_64"], msizes["aarch64"], r_pc / r_plain, r_mig / r_plain,
                         meta / sites if sites else float("nan"), t_pc, t_plain, l_pc, l_plain, r_pc, r_mig, r_plain))
        finally:
            shutil.rmtree(work, ignore_errors=True)

    print(f"\nPopcorn vs plain clang-19/ld.lld-19 on this machine (min of {REPS} runs; ratio < 1 is faster/smaller)")
    print("aligned = -fpopcorn-migration=none; migr = default build with migration points and metadata\n")
    head = ["compile", "passes", "link", "size x86", "size a64", "msize x86", "msize a64", "run", "run migr", "meta/site"]
    print(f"{'example':<10} " + " ".join(f"{h:>9}" for h in head))
    for r in rows:
        print(f"{r[0]:<10} " + " ".join(f"{v:>9.3f}" if i < 9 else f"{v:>9.1f}" for i, v in enumerate(r[1:11])))
    g = [geomean([r[i] for r in rows]) for i in range(1, 10)]
    worst = [max(r[i] for r in rows) for i in range(1, 10)]
    print(f"{'geomean':<10} " + " ".join(f"{v:>9.3f}" for v in g))
    print(f"{'worst':<10} " + " ".join(f"{v:>9.3f}" for v in worst))
    print("\nseconds (popcorn/plain): " + "; ".join(
        f"{r[0]}: cc {r[11]:.3f}/{r[12]:.3f} ld {r[13]:.3f}/{r[14]:.3f} run {r[15]:.3f}|{r[16]:.3f}/{r[17]:.3f}" for r in rows))
    print("targets: compile <= 1.0, link <= 2.0, size <= 1.10 (aligned), msize <= 1.15 (with metadata), "
          "run <= 1.03 (aligned), run migr <= 1.03 geomean")
    migration_benchmarks()


def migration_benchmarks():
    """Stack transformation and process move (issue 4), from the runtime's own POPCORN_STATS lines.

    transform  Tests/Inputs/bench/transform_depth.c rewrites its whole stack onto a fresh x86_64
               stack at every migration point (POPCORN_REWRITE_AT=all, POPCORN_REWRITE_POISON=0)
               at recursion depths 1, 10 and 100; the runtime times each transformation.
    move       Tests/Inputs/bench/heap_move.c with a 64 MiB heap moves once: x86_64 -> x86_64
               through the whole process move path (POPCORN_MIGRATE_SAME_ISA=1) and x86_64 ->
               aarch64 under qemu-user.  "total" runs from the request at the migration point
               (before the transformation) to resumed execution, without the exec, the loader
               and qemu's start-up, which are shown apart.  Minimum over BENCH_REPS runs.
    """
    import re
    cc = os.path.join(BIN, "popcorn-cc")
    src = os.path.join(ROOT, "Tests", "Inputs", "bench")
    work = tempfile.mkdtemp(prefix="popcorn-bench-move-")
    try:
        run([cc, "-O2", os.path.join(src, "transform_depth.c"), "-o", "depth"], work)
        run([cc, "-O2", os.path.join(src, "heap_move.c"), "-o", "heap"], work)
        env = dict(os.environ, POPCORN_STATS="1")

        def stats(cmd, extra):
            r = subprocess.run(cmd, cwd=work, env=dict(env, **extra), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
            if r.returncode != 0:
                sys.exit(f"bench: error: {' '.join(cmd)} failed:\n{r.stderr}")
            return r.stderr

        print("\nStack transformation on x86_64 (whole stack rewritten at every point; target < 2 us per frame)")
        print(f"{'depth':>6} {'frames/transform':>17} {'us/transform':>13} {'ns/frame':>9}")
        rewrite = {"POPCORN_REWRITE_AT": "all", "POPCORN_REWRITE_POISON": "0"}
        for depth in (1, 10, 100):
            best = None
            for _ in range(REPS):
                err = stats(["./depth", str(depth), "5000"], rewrite)
                m = re.search(r"^transform: (\d+) frames in (\d+) ns \((\d+) transformations\)$", err, re.M)
                if not m:
                    sys.exit(f"bench: error: no transform statistics from transform_depth:\n{err}")
                frames, ns, count = (int(g) for g in m.groups())
                if best is None or ns < best[1]:
                    best = (frames, ns, count)
            frames, ns, count = best
            print(f"{depth:>6} {frames / count:>17.1f} {ns / count / 1000:>13.2f} {ns / frames:>9.0f}")

        qemu = shutil.which("qemu-aarch64")
        print("\nProcess move of a program with a 64 MiB heap (target: total <= 5 ms; microseconds, best of "
              f"{REPS})")
        print(f"{'move':<18} {'written':>8} {'checkpoint':>10} {'restore':>8} {'total':>8} {'exec+start':>10} "
              f"{'saved KiB':>10} {'of KiB':>8}")
        pattern = re.compile(r"^migration: checkpoint (\d+) us, restore (\d+) us, total (\d+) us, "
                             r"exec and start-up (\d+) us, saved (\d+) of (\d+) KiB$", re.M)
        cases = [("x86_64 -> x86_64", {"POPCORN_MIGRATE_SAME_ISA": "1"}), ("x86_64 -> aarch64", {})]
        for name, extra in cases:
            if "aarch64" in name and not qemu:
                print(f"{name:<18} skipped: qemu-aarch64 not found")
                continue
            for written in (64, 1):
                best = None
                for _ in range(REPS):
                    err = stats(["./heap", "64", str(written)], dict(extra, POPCORN_MIGRATE_AT="2"))
                    m = pattern.search(err)
                    if not m:
                        sys.exit(f"bench: error: no migration statistics from heap_move:\n{err}")
                    values = [int(g) for g in m.groups()]
                    if best is None or values[2] < best[2]:
                        best = values
                c, r, t, e, saved, total = best
                print(f"{name:<18} {str(written) + ' MiB':>8} {c:>10} {r:>8} {t:>8} {e:>10} {saved:>10} {total:>8}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
