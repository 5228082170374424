#!/usr/bin/env python3
"""Benchmarks the popcorn toolchain against plain clang-19 / ld.lld-19 on this machine, in one run.

Prints ratios (popcorn / plain; lower is better) per example and their geometric mean:
  compile   popcorn-cc -O2 -c (both ISAs)  vs  clang-19 -O2 -c once per ISA
  link      popcorn-ld                     vs  two plain ld.lld-19 links
  size      binary file size per ISA       vs  plain clang-19 -O2 static musl binary
  run       x86_64 run time                vs  plain clang-19 -O2 binary
Each time is the minimum of several repetitions, to suppress noise from other processes.
"""
import math, os, shutil, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "bin")
REPS = int(os.environ.get("BENCH_REPS", "3"))
EXAMPLES = {  # name: (sources, link libraries, run arguments)
    "nbody": (["main.c", "nbody.c"], ["-lm"], ["2000000"]),
    "matrix": (["main.c", "matrix.c", "rng.c"], ["-lm"], ["320", "4"]),
    "wordcount": (["main.c", "hashmap.c", "tokenize.c"], [], ["400000"]),
    "kvstore": (["main.c", "store.c"], [], ["40000"]),
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
            t_pc = timed([[cc, "-O2", "-c", s, "-o", o] for s, o in zip(srcs, objs)], work)
            t_plain = 0.0
            for isa in ISAS:
                t_plain += timed([["clang-19", *plain_flags(isa), "-O2", "-c", s, "-o", f"{o}.{isa}.plain"]
                                  for s, o in zip(srcs, objs)], work)
            l_pc = timed([[ld, *objs, *libs, "-o", "app"]], work)
            l_plain = sum(timed([plain_link(isa, [f"{o}.{isa}.plain" for o in objs], libs, f"plain.{isa}")], work)
                          for isa in ISAS)
            sizes = {isa: os.path.getsize(os.path.join(work, "app" if isa == "x86_64" else f"app.{isa}")) /
                     os.path.getsize(os.path.join(work, f"plain.{isa}")) for isa in ISAS}
            r_pc = timed([["./app", *args]], work)
            r_plain = timed([["./plain.x86_64", *args]], work)
            out_pc = run(["./app", *args], work).stdout
            out_plain = run(["./plain.x86_64", *args], work).stdout
            if out_pc != out_plain:
                sys.exit(f"bench: error: {name}: popcorn and plain outputs differ")
            rows.append((name, t_pc / t_plain, l_pc / l_plain, sizes["x86_64"], sizes["aarch64"], r_pc / r_plain,
                         t_pc, t_plain, l_pc, l_plain, r_pc, r_plain))
        finally:
            shutil.rmtree(work, ignore_errors=True)

    print(f"\nPopcorn vs plain clang-19/ld.lld-19 on this machine (min of {REPS} runs; ratio < 1 is faster/smaller)\n")
    print(f"{'example':<11} {'compile':>8} {'link':>8} {'size x86':>9} {'size a64':>9} {'run x86':>8}"
          f"   {'cc s':>6}/{'plain':<6} {'ld s':>6}/{'plain':<6} {'run s':>6}/{'plain':<6}")
    for r in rows:
        print(f"{r[0]:<11} {r[1]:>8.3f} {r[2]:>8.3f} {r[3]:>9.3f} {r[4]:>9.3f} {r[5]:>8.3f}"
              f"   {r[6]:>6.3f}/{r[7]:<6.3f} {r[8]:>6.3f}/{r[9]:<6.3f} {r[10]:>6.3f}/{r[11]:<6.3f}")
    g = [geomean([r[i] for r in rows]) for i in range(1, 6)]
    print(f"{'geomean':<11} {g[0]:>8.3f} {g[1]:>8.3f} {g[2]:>9.3f} {g[3]:>9.3f} {g[4]:>8.3f}")
    print("\ntargets: compile <= 1.0, link <= 2.0, size <= 1.10, run <= 1.03")


if __name__ == "__main__":
    main()
