"""The four Examples/ programs, compiled file by file and linked directly (popcorn-ld against two
plain ld.lld-19 links), measured as in every earlier `make bench`.

  compile   popcorn-cc -O2 -c, aligned build (both ISAs)  vs  clang-19 -O2 -c once per ISA
  passes    migratable compile time                        vs  aligned compile time (cost of the migration passes)
  link      popcorn-ld, aligned / migratable objects       vs  two plain ld.lld-19 links
  objects   migratable .o bytes                            vs  both ISAs' plain .o bytes
  size      binary file size per ISA                       vs  plain clang-19 -O2 static musl binary
  run       x86_64 run time                                vs  plain clang-19 -O2 binary
  meta/site bytes of .popcorn.meta per call site (the x86_64 binary's, which holds its own table)
"""
import os
import shutil
import subprocess
import tempfile

from common import (ISAS, REPS, ROOT, fail, fmt, geomean, note, plain_flags, plain_link, run, sibling, timed,
                    tool)

# Run arguments give plain runs of about half a second to a second here: shorter runs let
# scheduling noise move a single ratio by several percent.
EXAMPLES = {  # name: (sources, link libraries, run arguments)
    "nbody": (["main.c", "nbody.c"], ["-lm"], ["10000000"]),
    "matrix": (["main.c", "matrix.c", "rng.c"], ["-lm"], ["800", "4"]),
    "wordcount": (["main.c", "hashmap.c", "tokenize.c"], [], ["800000"]),
    "kvstore": (["main.c", "store.c"], [], ["200000"]),
}


def metadata_version():
    """The format version, from the one place it is declared (Toolchain/include/popcorn_metadata.h)."""
    with open(os.path.join(ROOT, "Toolchain", "include", "popcorn_metadata.h")) as f:
        for line in f:
            if line.startswith("#define POPCORN_META_VERSION "):
                return int(line.split()[2])
    fail("POPCORN_META_VERSION not found in popcorn_metadata.h")


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
        fail(f"{binary}: .popcorn.meta is not version {version} metadata")
    return int.from_bytes(header[44:48], "little"), size


def measure_one(name, srcs, libs, args):
    cc, ld = tool("popcorn-cc"), tool("popcorn-ld")
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
        l_mig = timed([[ld, *mobjs, *libs, "-o", "mapp"]], work)
        l_plain = sum(timed([plain_link(isa, [f"{o}.{isa}.plain" for o in objs], libs, f"plain.{isa}")], work)
                      for isa in ISAS)

        def size(path):
            return os.path.getsize(os.path.join(work, path))
        plain_size = {isa: size(f"plain.{isa}") for isa in ISAS}
        sizes = {isa: size(sibling("app", isa)) / plain_size[isa] for isa in ISAS}
        msizes = {isa: size(sibling("mapp", isa)) / plain_size[isa] for isa in ISAS}
        plain_objs = sum(size(f"{o}.{isa}.plain") for o in objs for isa in ISAS)
        r_pc = timed([["./app", *args]], work)
        r_mig = timed([["./mapp", *args]], work)
        r_plain = timed([["./plain.x86_64", *args]], work)
        out_plain = run(["./plain.x86_64", *args], work).stdout
        for binary in ("./app", "./mapp"):
            if run([binary, *args], work).stdout != out_plain:
                fail(f"{name}: {binary} and the plain build print different output")
        sites, meta = metadata_stats(os.path.join(work, "mapp"))
        return {
            "name": name,
            "compile_aligned": t_pc / t_plain, "compile": t_mig / t_plain, "passes": t_mig / t_pc,
            "link_aligned": l_pc / l_plain, "link": l_mig / l_plain,
            "objects_aligned": sum(size(o) for o in objs) / plain_objs, "objects": sum(size(o) for o in mobjs) / plain_objs,
            "size_aligned": sizes, "size": msizes,
            "run_aligned": r_pc / r_plain, "run": r_mig / r_plain,
            "meta_per_site": meta / sites if sites else float("nan"),
            "seconds": (t_pc, t_mig, t_plain, l_pc, l_mig, l_plain, r_pc, r_mig, r_plain),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure():
    rows = []
    for name, (srcs, libs, args) in EXAMPLES.items():
        note(f"{name} ...")
        rows.append(measure_one(name, srcs, libs, args))
    return rows


COLUMNS = [  # heading, value of a row
    ("compile", lambda r: r["compile_aligned"]), ("passes", lambda r: r["passes"]),
    ("link", lambda r: r["link_aligned"]), ("mlink", lambda r: r["link"]), ("mobjects", lambda r: r["objects"]),
    ("size x86", lambda r: r["size_aligned"]["x86_64"]), ("size a64", lambda r: r["size_aligned"]["aarch64"]),
    ("msize x86", lambda r: r["size"]["x86_64"]), ("msize a64", lambda r: r["size"]["aarch64"]),
    ("run", lambda r: r["run_aligned"]), ("run migr", lambda r: r["run"]),
]


def report(rows):
    print(f"\nExamples: popcorn vs plain clang-19/ld.lld-19 (min of {REPS} runs; ratio < 1 is faster/smaller)")
    print("compile/link/size/run = aligned build (-fpopcorn-migration=none); passes = migratable compile / aligned "
          "compile;\nmlink/mobjects/msize/run migr = default build with migration points and metadata\n")
    print(f"{'example':<10} " + " ".join(f"{h:>9}" for h, _ in COLUMNS) + f" {'meta/site':>9}")
    for r in rows:
        print(f"{r['name']:<10} " + " ".join(f"{fmt(f(r), 3):>9}" for _, f in COLUMNS)
              + f" {fmt(r['meta_per_site'], 1):>9}")
    print(f"{'geomean':<10} " + " ".join(f"{fmt(geomean([f(r) for r in rows]), 3):>9}" for _, f in COLUMNS))
    print(f"{'worst':<10} " + " ".join(f"{fmt(max(f(r) for r in rows), 3):>9}" for _, f in COLUMNS))
    print("\nseconds (aligned|migratable/plain): " + "; ".join(
        f"{r['name']}: cc {s[0]:.3f}|{s[1]:.3f}/{s[2]:.3f} ld {s[3]:.3f}|{s[4]:.3f}/{s[5]:.3f} "
        f"run {s[6]:.3f}|{s[7]:.3f}/{s[8]:.3f}" for r in rows for s in [r["seconds"]]))
    print("targets: compile <= 1.0, link <= 2.0, size <= 1.10 (aligned), run <= 1.03 (aligned), "
          "run migr <= 1.05 each and <= 1.02 geomean; the size targets for migratable builds are set for "
          "real programs (below): these examples are small enough for the migration runtime to dominate")
