#!/usr/bin/env python3
"""Benchmarks the popcorn toolchain against plain clang-19 / ld.lld-19 on this machine, in one run.

  scripts/bench.sh [--readme] [PART ...]        (`make bench` runs it without arguments)

PART selects what to measure (default: everything; about six and a half minutes on two idle
cores, the SQLite amalgamation taking a good part of it):
  examples    the four Examples/ programs (scripts/bench/examples.py)
  lua sqlite bzip2 zlib
              real programs from Debian source packages, built by their own build systems
              (scripts/bench/programs.py: what is measured and how)
  migration   stack transformation and process move (scripts/bench/migration.py)
The same selection can come from BENCH_PROGRAMS=lua,sqlite (`make bench BENCH_PROGRAMS=lua`).
BENCH_REPS=N (default 3) sets how many runs each time is the minimum of.
--readme (or BENCH_README=1) rewrites the cost table in README.md, between the
<!-- bench:begin --> and <!-- bench:end --> markers, from this run; it needs the examples and all
four programs measured.

Every ratio is popcorn / plain from the same run (lower is better): the machine's speed and load
cancel out as far as they can, and nothing here fails because of a number — targets are printed
next to the numbers.
"""
import os
import shutil
import sys
import tempfile

# The modules in scripts/bench/, imported without leaving __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench"))

import common  # noqa: E402
import examples  # noqa: E402
import migration  # noqa: E402
import programs  # noqa: E402
import report  # noqa: E402

PROGRAM_NAMES = [p.name for p in programs.PROGRAMS]
PARTS = ["examples", *PROGRAM_NAMES, "migration"]


def main(argv):
    sys.stdout.reconfigure(line_buffering=True)  # tables appear as each part finishes
    readme = os.environ.get("BENCH_README", "") not in ("", "0")
    selected = []
    for a in argv:
        if a == "--readme":
            readme = True
        elif a in ("-h", "--help"):
            print(__doc__)
            return
        else:
            selected.append(a)
    if not selected and os.environ.get("BENCH_PROGRAMS"):
        selected = [s for s in os.environ["BENCH_PROGRAMS"].replace(",", " ").split()]
    unknown = [s for s in selected if s not in PARTS]
    if unknown:
        common.fail(f"unknown part {', '.join(unknown)}; choose from {' '.join(PARTS)}")
    selected = selected or PARTS
    if readme and not set(["examples", *PROGRAM_NAMES]) <= set(selected):
        common.fail("--readme regenerates the whole cost table: it needs examples and all of "
                    f"{', '.join(PROGRAM_NAMES)} measured in the same run")

    scratch = tempfile.mkdtemp(prefix="popcorn-bench-")
    try:
        common.snapshot_toolchain(scratch)
        example_rows = None
        if "examples" in selected:
            example_rows = examples.measure()
            examples.report(example_rows)
        results = []
        for p in programs.PROGRAMS:
            if p.name in selected:
                m = programs.measure_program(p)
                report.report_program(m)
                results.append(m)
        if results:
            report.report_summary(results)
        if "migration" in selected:
            migration.measure_and_report()
        if readme:
            report.rewrite_readme(report.readme_block(results, example_rows))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
