"""Tables of the real programs' results, the summary against the targets, and README.md's cost table."""
import datetime
import os

from common import ISAS, REPS, ROOT, fail, fmt, geomean
from programs import POPCORN, ratios

# Targets for the default (migratable) build, from the issue that set them, and the earlier ones for
# the aligned build. `each`: every program must meet it (None: no per-program target); `mean`: the
# geomean must (None: none). Sizes have a per-program target only where the plain binary has at
# least SIZE_FLOOR bytes: below that the migration runtime (about 100 KB) dominates whatever the
# program is.
SIZE_FLOOR = 200_000
TARGETS = {  # metric: (each, mean, wording)
    "run": (1.05, 1.02, "<= 1.05 each, <= 1.02 geomean"),
    "size": (1.3, 1.6, "<= 1.3 each (plain >= 200 KB), <= 1.6 geomean"),
    "objects": (3.0, None, "<= 3.0 each"),
    "compile": (1.0, None, "<= 1.0 each"),
    "link": (2.0, None, "<= 2.0 each"),
    "run_aligned": (None, 1.03, "<= 1.03 geomean"),
    "size_aligned": (None, 1.10, "<= 1.10 geomean"),
}


def target_applies(metric, m, isa=None):
    return metric != "size" or m["sizes"]["plain"][isa] >= SIZE_FLOOR


def verdict(metric, values, plain_sizes=None):
    """'yes' / 'NO' for a metric's values over the programs (migratable build), '' without a target."""
    if metric not in TARGETS:
        return ""
    each, mean, _ = TARGETS[metric]
    ok = True
    if each is not None:
        ok &= all(v <= each for i, v in enumerate(values) if plain_sizes is None or plain_sizes[i] >= SIZE_FLOOR)
    if mean is not None:
        ok &= geomean(values) <= mean
    return "yes" if ok else "NO"


def kb(n):
    return f"{n / 1000:.1f}"


def report_program(m):
    p, r = m["program"], ratios(m)
    print(f"\n{p.title} (Debian {p.package} {p.version}; {p.binary}; {m['files']} compiled files; compile time "
          f"min of {m['compile_reps']}, link and run min of {REPS})")
    head = ["plain x86_64", "plain aarch64", "aligned", "migratable", "aligned/plain", "migr/plain", "target", "met"]
    print(f"{'':<26}" + "".join(f"{h:>14}" for h in head[:6]) + f"  {head[6]:<22} {head[7]}")

    def row(label, x86, a64, values, metric, ratio, isa=None):
        migr = ratio("migratable")
        target = TARGETS[metric][0] if metric in TARGETS and target_applies(metric, m, isa) else None
        met = "" if target is None or migr is None else ("yes" if migr <= target else "NO")
        cells = [x86, a64, values["aligned"], values["migratable"], fmt(ratio("aligned"), 3), fmt(migr, 3)]
        print(f"{label:<26}" + "".join(f"{c:>14}" for c in cells)
              + f"  {('<= ' + str(target)) if target else '':<22} {met}")

    s = m["run"]
    row("run time x86_64 (s)", fmt(s["plain-x86_64"], 3), "-", {v: fmt(s[v], 3) for v in POPCORN}, "run",
        lambda v: r[v]["run"])
    ins = m["instructions"]
    row("instructions x86_64 (M)", fmt(ins["plain-x86_64"] / 1e6, 1) if isinstance(ins["plain-x86_64"], int) else "-",
        "-", {v: fmt(ins[v] / 1e6, 1) if isinstance(ins[v], int) else "failed" for v in POPCORN}, "instructions",
        lambda v: r[v]["instructions"])
    for isa in ISAS:
        plain = kb(m["sizes"]["plain"][isa])
        row(f"size {isa} (KB)", plain if isa == "x86_64" else "-", plain if isa == "aarch64" else "-",
            {v: kb(m["sizes"][v][isa]) for v in POPCORN}, "size", lambda v: r[v]["size"][isa], isa=isa)
    o = m["objects"]
    row("objects (KB)", kb(o["plain-x86_64"]), kb(o["plain-aarch64"]), {v: kb(o[v]) for v in POPCORN}, "objects",
        lambda v: r[v]["objects"])
    c = m["compile"]
    row("compile (s)", fmt(c["plain-x86_64"], 2), fmt(c["plain-aarch64"], 2), {v: fmt(c[v], 2) for v in POPCORN},
        "compile", lambda v: r[v]["compile"])
    link = m["link"]
    row("link (s)", fmt(link["plain-x86_64"], 3), fmt(link["plain-aarch64"], 3),
        {v: fmt(link[v], 3) for v in POPCORN}, "link", lambda v: r[v]["link"])
    for v in ["plain-x86_64", *POPCORN]:
        if isinstance(ins[v], str):
            print(f"  instructions, {v}: {ins[v]}")
    print("  ratios: objects, compile and link against plain x86_64 + plain aarch64 together")


SUMMARY = [  # label, metric, variant, value of a ratios() entry
    ("run time x86_64", "run", "migratable", lambda x: x["run"]),
    ("run time x86_64, aligned", "run_aligned", "aligned", lambda x: x["run"]),
    ("instructions x86_64", None, "migratable", lambda x: x["instructions"]),
    ("instructions x86_64, aligned", None, "aligned", lambda x: x["instructions"]),
    ("size x86_64", "size", "migratable", lambda x: x["size"]["x86_64"]),
    ("size aarch64", "size", "migratable", lambda x: x["size"]["aarch64"]),
    ("size x86_64, aligned", "size_aligned", "aligned", lambda x: x["size"]["x86_64"]),
    ("size aarch64, aligned", "size_aligned", "aligned", lambda x: x["size"]["aarch64"]),
    ("objects", "objects", "migratable", lambda x: x["objects"]),
    ("compile", "compile", "migratable", lambda x: x["compile"]),
    ("compile, aligned", None, "aligned", lambda x: x["compile"]),
    ("link", "link", "migratable", lambda x: x["link"]),
]


def report_summary(results):
    names = [m["program"].name for m in results]
    print(f"\nReal programs vs plain clang-19/ld.lld-19: geomean and worst over {', '.join(names)} "
          "(default migratable build unless marked aligned)")
    print(f"{'':<30}{'geomean':>9}  {'worst':<16}{'target':<46}{'met'}")
    for label, metric, variant, value in SUMMARY:
        values = [value(ratios(m)[variant]) for m in results]
        known = [(v, n) for v, n in zip(values, names) if v is not None]
        if not known:
            print(f"{label:<30}{'-':>9}")
            continue
        worst = max(known)
        plain_sizes = None
        if metric in ("size", "size_aligned"):
            isa = "aarch64" if "aarch64" in label else "x86_64"
            plain_sizes = [m["sizes"]["plain"][isa] for m in results]
        met = verdict(metric, [v for v, _ in known], plain_sizes) if metric and len(known) == len(values) else ""
        target = TARGETS[metric][2] if metric else ""
        print(f"{label:<30}{fmt(geomean([v for v, _ in known]), 3):>9}  {fmt(worst[0], 3) + ' ' + worst[1]:<16}"
              f"{target:<46}{met}")


def readme_block(results, example_rows):
    """The generated part of README.md's "What it costs" section (Markdown)."""
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    per = [ratios(m)["migratable"] for m in results]
    aligned = [ratios(m)["aligned"] for m in results]
    heads = [m["program"].column.format(title=m["program"].title, version=m["program"].version) for m in results]

    def cells(values, digits=2):
        return [fmt(v, digits) for v in values] + [fmt(geomean(values), digits)]

    def pair(xs, ys):
        return [f"{a} / {b}" for a, b in zip(cells(xs), cells(ys))]

    ex = example_rows or []

    def ex_mean(f):
        return fmt(geomean([f(r) for r in ex]), 2) if ex else "–"
    rows = [
        ("run time x86_64, default (migratable) build",
         cells([x["run"] for x in per]), ex_mean(lambda r: r["run"]), TARGETS["run"][2]),
        ("run time x86_64, aligned build (`-fpopcorn-migration=none`)",
         cells([x["run"] for x in aligned]), ex_mean(lambda r: r["run_aligned"]), TARGETS["run_aligned"][2]),
        ("instructions executed x86_64, default build (valgrind)",
         cells([x["instructions"] for x in per]), "–", ""),
        ("binary size x86_64 / aarch64, default build incl. metadata and migration runtime",
         pair([x["size"]["x86_64"] for x in per], [x["size"]["aarch64"] for x in per]),
         f"{ex_mean(lambda r: r['size']['x86_64'])} / {ex_mean(lambda r: r['size']['aarch64'])}",
         TARGETS["size"][2]),
        ("binary size x86_64 / aarch64, aligned build",
         pair([x["size"]["x86_64"] for x in aligned], [x["size"]["aarch64"] for x in aligned]),
         f"{ex_mean(lambda r: r['size_aligned']['x86_64'])} / {ex_mean(lambda r: r['size_aligned']['aarch64'])}",
         TARGETS["size_aligned"][2]),
        ("object files vs both ISAs' plain objects, default build",
         cells([x["objects"] for x in per]), ex_mean(lambda r: r["objects"]), TARGETS["objects"][2]),
        ("compile time vs clang-19 compiling for both ISAs, default build",
         cells([x["compile"] for x in per]), ex_mean(lambda r: r["compile"]), TARGETS["compile"][2]),
        ("link time vs two ld.lld links, default build",
         cells([x["link"] for x in per]), ex_mean(lambda r: r["link"]), TARGETS["link"][2]),
    ]
    plain = [f"{m['run']['plain-x86_64']:.2f} s, {m['sizes']['plain']['x86_64'] / 1000:.0f} KB" for m in results]
    once = [m["program"].title for m in results if m["compile_reps"] != REPS]
    lines = [
        f"Ratios against plain clang-19 / ld.lld-19 builds (lower is better), measured "
        f"{datetime.date.today().isoformat()} with {os.cpu_count()} cores of {cpu}: each time is the minimum of "
        f"{REPS} runs" + (f" ({', '.join(once)}: compile time of one build)" if once else "")
        + ", all in one `make bench` run.",
        "",
        "| ratio vs plain | " + " | ".join(heads) + " | geomean | 4 examples (geomean) | target |",
        "| --- |" + " --- |" * (len(heads) + 3),
    ]
    for label, values, example, target in rows:
        target = target.replace(">=", "≥").replace("<=", "≤")
        lines.append(f"| {label} | " + " | ".join(values) + f" | {example} | {target} |")
    lines.append("| plain x86_64 build: run time, binary size | " + " | ".join(plain) + " | | | |")
    if ex:
        per_site = [r["meta_per_site"] for r in ex]
        lines += ["", f"Metadata in the examples' migratable binaries: {min(per_site):.0f}–{max(per_site):.0f} bytes "
                  "per call site (each binary carries its own ISA's table)."]
    return "\n".join(lines) + "\n"


BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def rewrite_readme(block):
    """Replaces what stands between the bench markers in README.md, atomically (temporary file and
    rename), so an interrupted run leaves the old README."""
    path = os.path.join(ROOT, "README.md")
    with open(path) as f:
        text = f.read()
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        fail(f"README.md has no {BEGIN} ... {END} markers around the cost table")
    text = text[:start + len(BEGIN)] + "\n" + block + text[end:]
    tmp = path + ".bench.tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    print("\nbench: README.md's cost table rewritten")
