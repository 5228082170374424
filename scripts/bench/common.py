"""What every part of `make bench` shares: the toolchain it measures, the plain reference tools,
repetition and timing, and ratio helpers."""
import math
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REPS = int(os.environ.get("BENCH_REPS", "3"))
ISAS = ["x86_64", "aarch64"]
LIBGCC = {"x86_64": "/usr/lib/gcc/x86_64-linux-gnu/12/libgcc.a",
          "aarch64": "/usr/lib/gcc-cross/aarch64-linux-gnu/12/libgcc.a"}
EMULATION = {"x86_64": "elf_x86_64", "aarch64": "aarch64linux"}
MUSL_CLANG = os.path.join(ROOT, "scripts", "musl-clang")

# The popcorn tools measured: build/bin at first, a private copy once snapshot_toolchain() ran.
_bin = os.path.join(ROOT, "build", "bin")


def fail(message):
    sys.exit(f"bench: error: {message}")


def note(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


def tool(name):
    return os.path.join(_bin, name)


def snapshot_toolchain(scratch):
    """Copies the staged popcorn tools and runtime (build/bin, build/lib/popcorn) into `scratch` and
    measures that copy from then on: the tools find lib/popcorn next to their bin/, and a
    restaging of build/ while the benchmark runs (a rebuild in another shell) then cannot mix
    two compilers into one set of numbers or fail a build half way."""
    global _bin
    staged = os.path.join(ROOT, "build")
    for name in ("popcorn-cc", "popcorn-ld", "popcorn-dump"):
        if not os.access(os.path.join(staged, "bin", name), os.X_OK):
            fail(f"build/bin/{name} missing; run `make` first")
    copy = os.path.join(scratch, "toolchain")
    os.makedirs(os.path.join(copy, "bin"))
    for name in ("popcorn-cc", "popcorn-ld", "popcorn-dump"):
        shutil.copy2(os.path.join(staged, "bin", name), os.path.join(copy, "bin", name))
    shutil.copytree(os.path.join(staged, "lib", "popcorn"), os.path.join(copy, "lib", "popcorn"), symlinks=True)
    _bin = os.path.join(copy, "bin")


def run(cmd, cwd, env=None, stdin=None, stdout=subprocess.PIPE):
    r = subprocess.run(cmd, cwd=cwd, env=env, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE)
    if r.returncode != 0:
        err = r.stderr.decode(errors="replace")
        fail(f"{' '.join(cmd)} (in {cwd}) failed with status {r.returncode}:\n{err[-4000:]}")
    return r


def timed(cmds, cwd, reps=None):
    """Minimum over `reps` (BENCH_REPS) of the wall time to run every command in `cmds` one after another."""
    best = math.inf
    for _ in range(reps or REPS):
        start = time.perf_counter()
        for c in cmds:
            run(c, cwd)
        best = min(best, time.perf_counter() - start)
    return best


_resource_dir = None


def plain_flags(isa):
    """What scripts/musl-clang puts before its arguments when it compiles (not links)."""
    global _resource_dir
    if _resource_dir is None:
        _resource_dir = subprocess.run(["clang-19", "-print-resource-dir"], stdout=subprocess.PIPE,
                                       text=True).stdout.strip()
    return [f"--target={isa}-unknown-linux-musl", "-nostdinc", "-isystem", f"/usr/include/{isa}-linux-musl",
            "-isystem", f"{_resource_dir}/include"]


def plain_link(isa, objs, libs, out):
    lib = f"/usr/lib/{isa}-linux-musl"
    extra = [f"{lib}/lib{l[2:]}.a" for l in libs]
    return ["ld.lld-19", "-m", EMULATION[isa], "-static", "-o", out, f"{lib}/crt1.o", f"{lib}/crti.o", *objs,
            *extra, "--start-group", f"{lib}/libc.a", LIBGCC[isa], "--end-group", f"{lib}/crtn.o"]


def sibling(binary, isa):
    """The file popcorn-ld wrote for `isa` next to the host ISA's `binary`."""
    return binary if isa == "x86_64" else f"{binary}.{isa}"


def geomean(xs):
    xs = [x for x in xs if x is not None and not math.isnan(x)]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def fmt(x, digits=2):
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"
