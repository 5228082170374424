"""Migration benchmarks: stack transformation and process move."""
import os
import re
import shutil
import subprocess
import tempfile

from common import REPS, ROOT, fail, run, tool


def measure_and_report():
    """Stack transformation and process move (issue 4), from the runtime's own POPCORN_STATS lines.

    transform  Tests/Inputs/bench/transform_depth.c rewrites its whole stack onto a fresh x86_64
               stack at every migration point (POPCORN_REWRITE_AT=all, POPCORN_REWRITE_POISON=0)
               at recursion depths 1, 10 and 100; the runtime times each transformation.
    move       Tests/Inputs/bench/heap_move.c with a 64 MiB heap moves once: x86_64 -> x86_64
               through the whole process move path (POPCORN_MIGRATE_SAME_ISA=1) and x86_64 ->
               aarch64 under qemu-user; the heap is one allocation (all or 1 MiB of it written)
               or 100-byte objects, all written, which live in malloc's small groups (private
               memory, copied; docs/LIBC.md), moved at the last point but one, after the heap
               is built.  "total" runs from the request at the migration point
               (before the transformation) to resumed execution, without the exec, the loader
               and qemu's start-up, which are shown apart.  Minimum over BENCH_REPS runs.
    """
    cc = tool("popcorn-cc")
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
                fail(f"{' '.join(cmd)} failed:\n{r.stderr}")
            return r.stderr

        print("\nStack transformation on x86_64 (whole stack rewritten at every point; target <= 1 us per frame)")
        print(f"{'depth':>6} {'frames/transform':>17} {'us/transform':>13} {'ns/frame':>9}")
        rewrite = {"POPCORN_REWRITE_AT": "all", "POPCORN_REWRITE_POISON": "0"}
        for depth in (1, 10, 100):
            best = None
            for _ in range(REPS):
                err = stats(["./depth", str(depth), "5000"], rewrite)
                m = re.search(r"^transform: (\d+) frames in (\d+) ns \((\d+) transformations\)$", err, re.M)
                if not m:
                    fail(f"no transform statistics from transform_depth:\n{err}")
                frames, ns, count = (int(g) for g in m.groups())
                if best is None or ns < best[1]:
                    best = (frames, ns, count)
            frames, ns, count = best
            print(f"{depth:>6} {frames / count:>17.1f} {ns / count / 1000:>13.2f} {ns / frames:>9.0f}")

        qemu = shutil.which("qemu-aarch64")
        print("\nProcess move of a program with a 64 MiB heap (target: total <= 5 ms; microseconds, best of "
              f"{REPS})")
        print(f"{'move':<18} {'written':>24} {'checkpoint':>10} {'restore':>8} {'total':>8} {'exec+start':>10} "
              f"{'saved KiB':>10} {'of KiB':>8}")
        pattern = re.compile(r"^migration: checkpoint (\d+) us, restore (\d+) us, total (\d+) us, "
                             r"exec and start-up (\d+) us, saved (\d+) of (\d+) KiB$", re.M)
        cases = [("x86_64 -> x86_64", {"POPCORN_MIGRATE_SAME_ISA": "1"}), ("x86_64 -> aarch64", {})]
        for name, extra in cases:
            if "aarch64" in name and not qemu:
                print(f"{name:<18} skipped: qemu-aarch64 not found")
                continue
            for written, objects in ((64, ""), (1, ""), (64, "100")):
                arguments = ["./heap", "64", str(written)] + ([objects] if objects else [])
                at = "2"
                if objects:
                    unmoved = stats(arguments, {})
                    points = re.search(r"^migration points: (\d+)$", unmoved, re.M)
                    if not points:
                        fail(f"no point count from heap_move:\n{unmoved}")
                    at = str(int(points.group(1)) - 1)
                best = None
                for _ in range(REPS):
                    err = stats(arguments, dict(extra, POPCORN_MIGRATE_AT=at))
                    m = pattern.search(err)
                    if not m:
                        fail(f"no migration statistics from heap_move:\n{err}")
                    values = [int(g) for g in m.groups()]
                    if best is None or values[2] < best[2]:
                        best = values
                c, r, t, e, saved, total = best
                label = f"{written} MiB" + (f" in {objects} B objects" if objects else "")
                print(f"{name:<18} {label:>24} {c:>10} {r:>8} {t:>8} {e:>10} {saved:>10} {total:>8}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
