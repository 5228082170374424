/// The `--help` page, generated from the option table so it cannot drift from what is parsed.
public enum HelpText {
    /// Renders the full page; `width` is the column at which option descriptions start.
    public static func render(table: OptionTable = DriverOptions.table, width: Int = 30) -> String {
        var out = """
        NAME
          popcorn-cc - C compiler driver producing multi-ISA code for Popcorn

        USAGE
          popcorn-cc [options] <file>...

        DESCRIPTION
          popcorn-cc is a drop-in replacement for clang on C code. Each C file is compiled
          once by the clang-19 frontend (for aarch64-unknown-linux-musl, the ABI every ISA
          shares) into optimized LLVM IR; popcorn passes prepare that IR for migration and it
          is lowered to machine code for every ISA (x86_64 and aarch64). The result of -c is
          one ELF object for the host ISA that carries the other ISAs' code inside, so ar,
          nm and make handle it as usual. Linking runs popcorn-ld, which places every
          function and variable at the same address in each ISA's executable: <output> for
          the host ISA and <output>.<isa> for the others.

          Only C is accepted: assembly (.s, .S, -Wa,), inline assembly and other languages
          cannot be lowered to every ISA. Target-specific options (-march=, -mcpu=, -m…) are
          refused for the same reason, except the hardening flags -fcf-protection (x86_64
          IBT) and -mbranch-protection= (aarch64 BTI; pac-ret only in functions that are never
          on the stack during a migration), which apply on the ISA that has them; shadow
          stacks are never used. Linking is always static.

          Inputs: .c is compiled; .i is compiled without preprocessing; .o, .a and other
          files go to the linker; '-' reads C from standard input (with -x c or -E).
          Response files (@file) are expanded with GCC's quoting rules and may nest.

        OPTIONS

        """
        for group in Option.Group.allCases where group != .internalOnly {
            let options = table.options(in: group)
            if options.isEmpty { continue }
            out += "  \(group.rawValue):\n"
            for option in options {
                let synopsis = "    " + option.synopsis
                let pad = synopsis.count < width ? String(repeating: " ", count: width - synopsis.count) : "\n" + String(repeating: " ", count: width)
                out += synopsis + pad + option.help + "\n"
            }
            out += "\n"
        }
        out += """
        OUTPUT FILES
          -c writes <input>.o (or -o). -S writes the host ISA's assembly to <input>.s (or -o)
          and each other ISA's to <that name>.<isa>, e.g. a.s and a.s.aarch64; with -o - all
          of them go to standard output, host ISA first. -S -emit-llvm writes the portable IR
          (.ll), -c -emit-llvm bitcode (.bc). -E and -M write to standard output unless -o is
          given. Outputs are written atomically: a failed compile never leaves a partial file.
          Intermediate files live in a private temporary directory (under $TMPDIR); with
          -save-temps the bitcode (<input>.bc) and, when linking, the objects (<input>.o) are
          kept in the current directory (-save-temps=obj: next to the -o output).

        MIGRATION
          By default (-fpopcorn-migration=entry) every function gets a migration point at its
          entry (entry-exit: also before each return), except point-free ones (calls only to
          code without points, loops only around computation), and every call that can be on
          the stack at one gets a stackmap; in a loop, a C library call that may block (not
          strlen, memcmp and the like) is followed by a point;
          popcorn-ld turns them into the .popcorn.meta tables the runtime uses to move a
          running program between the ISAs. Variable-length arrays and alloca() areas
          live on a per-thread object stack, so functions with them get migration points like
          any other. Variadic functions that call va_start are compiled without migration
          points; a migration waits while one of them is on the stack, as it does while a C
          library function without migration points is. Functions with migration points are
          compiled without the stack protector (-fstack-protector* gives a warning). See
          docs/MIGRATION-POINTS.md.

        DEPENDENCY FILES
          -MD/-MMD write a Make rule to the -MF file, else to the -o output with extension .d,
          else to <input>.d. The rule's target is the -o output (else <input>.o) unless -MT or
          -MQ is given; it never names a temporary file.

        ENVIRONMENT
          POPCORN_CLANG         the clang-19 executable to use as frontend
          POPCORN_LLD           the ld.lld-19 executable popcorn-ld uses
          POPCORN_RUNTIME_DIR   the popcorn runtime directory (default: <prefix>/lib/popcorn,
                                found from the location of popcorn-cc)
          POPCORN_KEEP_TEMPS    set to 1 to keep the temporary directory of each run
          TMPDIR                where temporary directories are created (default /tmp)

        EXIT STATUS
          0 on success; 1 when the command line is invalid or a compile step fails; when
          linking fails, the exit status of popcorn-ld.

        EXAMPLES
          popcorn-cc -O2 -c a.c -o a.o             compile to a multi-ISA object
          popcorn-cc -O2 a.o b.c -lm -o app        compile b.c and link app, app.aarch64
          popcorn-cc -S -O2 a.c                    assembly: a.s (x86_64), a.s.aarch64
          popcorn-cc -MMD -MP -c a.c -o obj/a.o    also write obj/a.d for make
          popcorn-cc -### -c a.c                   show the commands without running them
          make CC=popcorn-cc LD=popcorn-ld         build an ordinary C project

        """
        return out
    }
}
