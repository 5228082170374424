"""Real programs nobody wrote for this toolchain, from Debian source packages (scripts/debian-source.sh,
cached in /var/cache/popcorn-sources), each built at bench time by its own build system at -O2 in
four variants in fresh scratch directories:

  plain x86_64, plain aarch64   CC='scripts/musl-clang <isa>' (stock clang-19 and ld.lld-19, static musl)
  aligned                       CC='popcorn-cc -fpopcorn-migration=none' (aligned binaries, no migration points)
  migratable                    CC=popcorn-cc (the default: migration points, stackmaps, metadata, runtime)

(SQLite: its configure and makefile make the amalgamation once; each variant then compiles
sqlite3.c and shell.c and links them, as the SQLite tests do.)
CC is a small wrapper (WRAPPER below) that runs the variant's compiler and logs each invocation
with its working directory, arguments and wall time. From that log:

  compile   The compile commands the build system ran (-c), one after another. The build itself
            runs them sequentially (make without -j) and gives the first sample; they are replayed
            for further samples (min of BENCH_REPS, or of `compile_reps` for SQLite, whose
            8 MB amalgamation takes about half a minute per variant). Popcorn: one command per file for both
            ISAs; plain: the same arguments to clang-19 once per ISA, with the flags
            scripts/musl-clang adds (called directly, not through the shell script, so plain is
            not charged the script's start-up).  Ratio: popcorn / (plain x86_64 + plain aarch64).
  link      The program's final link command, expanded with the driver's -### into the linker
            invocation it runs — popcorn-ld for popcorn, ld.lld-19 for each plain ISA — and that
            linker alone rerun (min of BENCH_REPS).  Ratio: popcorn-ld / (ld.lld x86_64 + ld.lld aarch64).
  objects   Bytes of the .o files those compile commands wrote (a popcorn object holds both ISAs'
            code).  Ratio: popcorn / (plain x86_64 + plain aarch64).
  size      File size of the linked program per ISA (popcorn's `prog` and `prog.aarch64`) vs the
            plain build for that ISA.
  run       x86_64 wall time of the workload (one or two commands), min of BENCH_REPS, variants
            interleaved; every command's output must be byte for byte the plain build's.
  instr     Instructions executed on x86_64, counted by valgrind on a smaller workload (cachegrind
            without its cache simulation: callgrind's count within 0.1 %, three times faster);
            a binary valgrind cannot run is reported with valgrind's own words, not left out.

The workloads: Lua runs Tests/Inputs/bench/workload.lua (recursion, method calls through
metatables, table.sort with a Lua comparator, string building); the SQLite shell runs
Tests/Inputs/bench/workload.sql on an in-memory database; bzip2 and zlib's minigzip compress a
generated text (words of a fixed vocabulary with Zipf-like frequencies) and decompress the plain
build's output.
"""
import json
import os
import random
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

from common import ISAS, MUSL_CLANG, REPS, ROOT, fail, note, plain_flags, run, sibling, tool

INPUTS = os.path.join(ROOT, "Tests", "Inputs", "bench")
SQLITE_DEFINES = "-DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION"
VARIANTS = ["plain-x86_64", "plain-aarch64", "aligned", "migratable"]
POPCORN = ["aligned", "migratable"]


@dataclass
class Program:
    name: str  # as selected with BENCH_PROGRAMS
    title: str
    package: str  # Debian source package
    binary: str  # the built program, relative to a variant's build directory
    # CC -> shell commands run in the variant's copy of the source, each with whether its compiler
    # calls belong to the measured build (configure's test compiles do not).
    build: Callable[[str, str], list]
    # (data directory, plain x86_64 binary) -> (timed workload, smaller valgrind workload), each a
    # list of (arguments, stdin file or None).
    workload: Callable[[str, str], tuple]
    prepare: Optional[Callable[[str, str], str]] = None  # (source, scratch) -> directory given to build
    compile_reps: Optional[int] = None
    column: str = "{title} {version}"  # README.md's column heading
    version: str = ""


def lua_build(cc, source):
    # Lua's own `linux` target, the lua interpreter only (ALL=lua: not luac), with its compiler
    # setting `gcc -std=gnu99` kept but for the compiler.
    return [(f"make -C src linux ALL=lua CC='{cc} -std=gnu99' AR='llvm-ar-19 rcu' RANLIB=llvm-ranlib-19", True)]


def lua_workload(data, plain):
    script = os.path.join(INPUTS, "workload.lua")
    return [([script, "5"], None)], [([script, "1"], None)]


def sqlite_prepare(source, scratch):
    """The amalgamation and the shell's source, made once by SQLite's own configure and makefile
    (they build and run their generators with the host compiler)."""
    amalgamation = os.path.join(scratch, "amalgamation")
    shutil.copytree(source, amalgamation, symlinks=True)
    shell(f"./configure >configure.log 2>&1 && make -j2 sqlite3.c shell.c >make.log 2>&1", amalgamation)
    return amalgamation


def sqlite_build(cc, amalgamation):
    # As the SQLite tests build the shell: the amalgamation and shell.c at -O2, single-threaded,
    # no extension loading (a static binary cannot dlopen).
    return [(f"{cc} -O2 {SQLITE_DEFINES} -c {amalgamation}/sqlite3.c -o sqlite3.o", True),
            (f"{cc} -O2 {SQLITE_DEFINES} -c {amalgamation}/shell.c -o shell.o", True),
            (f"{cc} -O2 sqlite3.o shell.o -lm -o sqlite3", True)]


def sqlite_workload(data, plain):
    script = ".read " + os.path.join(INPUTS, "workload.sql")
    return ([([":memory:", "CREATE TEMP TABLE scale AS SELECT 30000 AS n", script], None)],
            [([":memory:", "CREATE TEMP TABLE scale AS SELECT 4000 AS n", script], None)])


def bzip2_build(cc, source):
    # The makefile's CFLAGS without -g: the sizes compared are code and data, not DWARF.
    return [(f"make bzip2 CC='{cc}' AR=llvm-ar-19 RANLIB=llvm-ranlib-19 "
             "CFLAGS='-Wall -Winline -O2 -D_FILE_OFFSET_BITS=64'", True)]


def bzip2_workload(data, plain):
    runs = []
    for name, megabytes in (("text", 4), ("small", 0.25)):
        path = os.path.join(data, f"{name}.txt")
        write_text(path, megabytes)
        with open(path + ".bz2", "wb") as out:
            run([plain, "-9", "-c", path], data, stdout=out)
        runs.append([(["-9", "-c", path], None), (["-d", "-c", path + ".bz2"], None)])
    return tuple(runs)


def zlib_build(cc, source):
    # zlib's configure (its default is -O3; -O2 as for the other programs), then minigzip and the
    # static libz.a it links.
    return [(f"CC='{cc}' CFLAGS=-O2 AR=llvm-ar-19 RANLIB=llvm-ranlib-19 ./configure --static", False),
            ("make minigzip AR=llvm-ar-19 ARFLAGS=rc RANLIB=llvm-ranlib-19", True)]


def zlib_workload(data, plain):
    runs = []
    for name, megabytes in (("text", 16), ("small", 1)):
        path = os.path.join(data, f"{name}.txt")
        write_text(path, megabytes)
        with open(path, "rb") as text, open(path + ".gz", "wb") as out:
            run([plain], data, stdin=text, stdout=out)
        runs.append([([], path), (["-d"], path + ".gz")])
    return tuple(runs)


# Workload sizes give plain runs of about half a second here (see the workload files).
PROGRAMS = [
    Program("lua", "Lua 5.4 interpreter", "lua5.4", "src/lua", lua_build, lua_workload, column="Lua {version}"),
    # sqlite3.c takes about 20 s per ISA with clang-19 and about as long for both with popcorn-cc:
    # one timed compile of each variant keeps `make bench` short; noise is a small part of times
    # that long.
    Program("sqlite", "SQLite shell", "sqlite3", "sqlite3", sqlite_build, sqlite_workload,
            prepare=sqlite_prepare, compile_reps=1, column="SQLite {version} shell"),
    Program("bzip2", "bzip2", "bzip2", "bzip2", bzip2_build, bzip2_workload),
    Program("zlib", "zlib minigzip", "zlib", "minigzip", zlib_build, zlib_workload, column="zlib {version} minigzip"),
]


def write_text(path, megabytes):
    """Deterministic text of about `megabytes` MB: words of a 2000-word vocabulary with Zipf-like
    frequencies, 13 to a line — compressible as prose is, not trivially."""
    rng = random.Random(1)
    vocabulary = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 10)))
                  for _ in range(2000)]
    words = rng.choices(vocabulary, weights=[1 / (i + 1) for i in range(2000)], k=int(megabytes * 143_000))
    lines = (" ".join(words[i:i + 13]) for i in range(0, len(words), 13))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


# The compiler as a build system sees it: runs the variant's compiler and appends one JSON line
# per invocation to LOG (make runs one at a time). `-S` skips site initialization: the wrapper's
# own start-up is not timed, but it keeps the build short.
WRAPPER = """#!/usr/bin/python3 -S
import json, os, subprocess, sys, time
COMPILE = {compile!r}
LINK = {link!r}
args = sys.argv[1:]
compiling = any(a in ("-c", "-S", "-E", "-M", "-MM") for a in args)
start = time.perf_counter()
status = subprocess.call((COMPILE if compiling else LINK) + args)
seconds = time.perf_counter() - start
if os.path.exists({log!r} + ".on"):
    with open({log!r}, "a") as f:
        f.write(json.dumps({{"cwd": os.getcwd(), "args": args, "seconds": seconds, "status": status}}) + "\\n")
sys.exit(status)
"""


def compiler(variant):
    """(argument prefix when compiling, when linking) for a variant."""
    if variant.startswith("plain-"):
        isa = variant[len("plain-"):]
        # scripts/musl-clang runs exactly `clang-19 <plain_flags> <args>` when it compiles.
        return ["clang-19", *plain_flags(isa)], [MUSL_CLANG, isa]
    cc = [tool("popcorn-cc")] + (["-fpopcorn-migration=none"] if variant == "aligned" else [])
    return cc, cc


def shell(command, cwd, env=None, log="build.log"):
    with open(os.path.join(cwd, log), "ab") as out:
        r = subprocess.run(command, shell=True, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        with open(os.path.join(cwd, log), "rb") as f:
            tail = f.read()[-4000:].decode(errors="replace")
        fail(f"`{command}` failed in {cwd} (status {r.returncode}); end of {log}:\n{tail}")


def debian_source(package):
    r = subprocess.run([os.path.join(ROOT, "scripts", "debian-source.sh"), package], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        fail(f"scripts/debian-source.sh {package} failed:\n{r.stderr}")
    source = r.stdout.strip()
    # The upstream version, from the cached tarball's name (e.g. zlib_1.2.13.dfsg.orig.tar.bz2).
    version = ""
    for name in os.listdir(os.path.dirname(source)):
        m = re.match(rf"{re.escape(package)}_([0-9][^_]*?)(?:\.dfsg\w*)?\.orig\.tar\.", name)
        if m:
            version = m.group(1)
    return source, version


@dataclass
class Build:
    variant: str
    directory: str
    binary: str
    compiles: list = field(default_factory=list)  # (cwd, argument list)
    outputs: list = field(default_factory=list)  # object files the compiles wrote
    first_compile: float = 0.0  # seconds of the compiles during the build
    link: tuple = None  # (cwd, linker argv)


def output_of(cwd, args):
    for i, a in enumerate(args):
        if a == "-o" and i + 1 < len(args):
            return os.path.join(cwd, args[i + 1])
        if a.startswith("-o") and len(a) > 2:
            return os.path.join(cwd, a[2:])
    source = next(a for a in args if a.endswith(".c"))
    return os.path.join(cwd, os.path.basename(source)[:-2] + ".o")


def build_variant(program, variant, source, prepared, scratch):
    directory = os.path.join(scratch, variant)
    if program.prepare:
        os.makedirs(directory)
    else:
        shutil.copytree(source, directory, symlinks=True)
    compile_prefix, link_prefix = compiler(variant)
    log = os.path.join(scratch, f"{variant}.log")
    wrapper = os.path.join(scratch, f"cc-{variant}")
    with open(wrapper, "w") as f:
        f.write(WRAPPER.format(compile=compile_prefix, link=link_prefix, log=log))
    os.chmod(wrapper, 0o755)
    # Sequential builds (the compile times of this build are the first sample), whatever -j the
    # `make bench` around this was given.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    for command, measured in program.build(wrapper, prepared):
        if measured:
            open(log + ".on", "w").close()
        shell(command, directory, env)
        if measured:
            os.remove(log + ".on")
    b = Build(variant, directory, os.path.join(directory, program.binary))
    if not os.path.exists(b.binary):
        fail(f"{program.name}: the {variant} build wrote no {program.binary}")
    links = []
    with open(log) as f:
        for line in f:
            entry = json.loads(line)
            args, cwd = entry["args"], entry["cwd"]
            if "-c" in args and any(a.endswith(".c") for a in args):
                b.compiles.append((cwd, args))
                b.outputs.append(output_of(cwd, args))
                b.first_compile += entry["seconds"]
            elif (not any(a in ("-S", "-E", "-M", "-MM") for a in args)
                  and os.path.realpath(output_of(cwd, args)) == os.path.realpath(b.binary)):
                links.append((cwd, args))
    if not b.compiles or not links:
        fail(f"{program.name}: no compile or no link of {program.binary} in the {variant} build's log {log}")
    b.link = linker_command(program, variant, *links[-1], link_prefix)
    return b


def linker_command(program, variant, cwd, args, link_prefix):
    """The linker invocation the driver runs for this link, from its -### listing."""
    r = subprocess.run(link_prefix + args + ["-###"], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    wanted = "popcorn-ld" if variant in POPCORN else "ld.lld"
    for line in r.stdout.splitlines():
        if line.startswith(' "'):
            argv = shlex.split(line)
            if os.path.basename(argv[0]).startswith(wanted):
                return cwd, argv
    fail(f"{program.name}: no {wanted} command in the {variant} driver's -### output:\n{r.stdout}")


def run_workload(binary, commands, data, outputs=None):
    """Runs the workload's commands; wall seconds, and the stdout files it wrote."""
    total = 0.0
    written = []
    for i, (args, stdin) in enumerate(commands):
        path = os.path.join(data, f"out.{len(written)}" if outputs is None else f"{outputs}.{i}")
        with open(path, "wb") as out, open(stdin or os.devnull, "rb") as inp:
            start = time.perf_counter()
            r = subprocess.run([binary, *args], cwd=data, stdin=inp, stdout=out, stderr=subprocess.PIPE)
            total += time.perf_counter() - start
        if r.returncode != 0:
            fail(f"{binary} {' '.join(args)} failed with status {r.returncode}:\n{r.stderr.decode(errors='replace')[-2000:]}")
        written.append(path)
    return total, written


def same_files(a, b):
    with open(a, "rb") as x, open(b, "rb") as y:
        return x.read() == y.read()


def count_instructions(binary, commands, data, reference):
    """Instructions executed by the commands under valgrind (summed), or a string saying why not."""
    if not shutil.which("valgrind"):
        return "valgrind not installed"
    total = 0
    for i, (args, stdin) in enumerate(commands):
        out = os.path.join(data, f"valgrind.out.{i}")
        with open(out, "wb") as o, open(stdin or os.devnull, "rb") as inp:
            r = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                                binary, *args], cwd=data, stdin=inp, stdout=o, stderr=subprocess.PIPE, text=True)
        m = re.search(r"I\s+refs:\s+([\d,]+)", r.stderr)
        if r.returncode != 0 or not m:
            lines = [re.sub(r"^==\d+== ?", "", l) for l in r.stderr.splitlines()]
            return f"valgrind failed (status {r.returncode}): " + " | ".join([l for l in lines if l.strip()][-3:])
        if not same_files(out, reference[i]):
            return "output under valgrind differs from the plain build's"
        total += int(m.group(1).replace(",", ""))
    return total


def measure_program(program):
    source, program.version = debian_source(program.package)
    scratch = tempfile.mkdtemp(prefix=f"popcorn-bench-{program.name}-")
    try:
        prepared = program.prepare(source, scratch) if program.prepare else source
        builds = {}
        for variant in VARIANTS:
            note(f"{program.name}: building {variant} ...")
            builds[variant] = build_variant(program, variant, source, prepared, scratch)

        note(f"{program.name}: timing compiles and links ...")
        compile_time = {v: b.first_compile for v, b in builds.items()}
        reps = program.compile_reps or REPS
        for _ in range(reps - 1):  # interleaved, so a busy moment hits every variant alike
            for v, b in builds.items():
                prefix = compiler(v)[0]
                start = time.perf_counter()
                for cwd, args in b.compiles:
                    run(prefix + args, cwd)
                compile_time[v] = min(compile_time[v], time.perf_counter() - start)
        link_time = {v: float("inf") for v in builds}
        for _ in range(REPS):
            for v, b in builds.items():
                start = time.perf_counter()
                run(b.link[1], b.link[0])
                link_time[v] = min(link_time[v], time.perf_counter() - start)

        data = os.path.join(scratch, "data")
        os.makedirs(data)
        plain = builds["plain-x86_64"].binary
        timed_runs, valgrind_runs = program.workload(data, plain)
        note(f"{program.name}: running ...")
        _, reference = run_workload(plain, timed_runs, data, "reference")
        for v in POPCORN:
            _, outputs = run_workload(builds[v].binary, timed_runs, data, f"check-{v}")
            for out, ref in zip(outputs, reference):
                if not same_files(out, ref):
                    fail(f"{program.name}: the {v} build's output {out} differs from the plain build's {ref}")
        run_time = {v: float("inf") for v in ["plain-x86_64", *POPCORN]}
        for _ in range(REPS):
            for v in run_time:
                seconds, _ = run_workload(builds[v].binary, timed_runs, data)
                run_time[v] = min(run_time[v], seconds)

        note(f"{program.name}: counting instructions under valgrind ...")
        _, small_reference = run_workload(plain, valgrind_runs, data, "small-reference")
        instructions = {v: count_instructions(builds[v].binary, valgrind_runs, data, small_reference)
                        for v in ["plain-x86_64", *POPCORN]}

        def size(path):
            return os.path.getsize(path)
        sizes = {v: {isa: size(sibling(b.binary, isa)) for isa in ISAS} for v, b in builds.items() if v in POPCORN}
        for isa in ISAS:
            sizes.setdefault("plain", {})[isa] = size(builds[f"plain-{isa}"].binary)
        objects = {v: sum(size(o) for o in b.outputs) for v, b in builds.items()}
        return {"program": program, "compile": compile_time, "compile_reps": reps, "link": link_time,
                "run": run_time, "instructions": instructions, "sizes": sizes, "objects": objects,
                "files": len(builds["migratable"].compiles)}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def ratios(m):
    """The popcorn / plain ratios of one program's measurements, per popcorn variant."""
    plain_compile = m["compile"]["plain-x86_64"] + m["compile"]["plain-aarch64"]
    plain_link = m["link"]["plain-x86_64"] + m["link"]["plain-aarch64"]
    plain_objects = m["objects"]["plain-x86_64"] + m["objects"]["plain-aarch64"]
    out = {}
    for v in POPCORN:
        ins, plain_ins = m["instructions"][v], m["instructions"]["plain-x86_64"]
        out[v] = {
            "run": m["run"][v] / m["run"]["plain-x86_64"],
            "instructions": ins / plain_ins if isinstance(ins, int) and isinstance(plain_ins, int) else None,
            "size": {isa: m["sizes"][v][isa] / m["sizes"]["plain"][isa] for isa in ISAS},
            "objects": m["objects"][v] / plain_objects,
            "compile": m["compile"][v] / plain_compile,
            "link": m["link"][v] / plain_link,
        }
    return out
