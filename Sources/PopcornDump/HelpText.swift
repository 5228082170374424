import PopcornSupport

/// The `--help` and `--version` texts of popcorn-dump.
public enum HelpText {
    public static let version = "popcorn-dump (Popcorn toolchain) 0.1.0"

    public static var usage: String {
        let foreign = ISA.foreign.map { "BINARY.\($0.rawValue)" }.joined(separator: ", ")
        return """
        NAME
            popcorn-dump - inspect and verify multi-ISA binaries built by popcorn-ld

        SYNOPSIS
            popcorn-dump [--json] [--verify] BINARY
            popcorn-dump --extract=ISA OBJECT...
            popcorn-dump --help | --version

        DESCRIPTION
            popcorn-ld writes one executable per instruction set: BINARY for the host ISA
            (\(ISA.host.rawValue)) and \(foreign) next to it. popcorn-dump reads all of them and
            reports, for each ISA, the file, its entry point and its allocated sections (name,
            address, size, flags), any .popcorn.* metadata sections, the call sites of the
            stack-transformation metadata (.popcorn.meta), and an alignment summary.

            For every call site (#N: its position in call-site ID order, the same on every ISA;
            with its function) and every ISA the
            report shows the return address, the frame size, the CFA rule, where the return
            address and the caller's frame pointer are saved, the saved callee-saved registers,
            and each live value: its location (register, [base+offset] slot with its
            CFA-relative offset, address of a stack object, or constant), size and flags
            (pointer, derived pointer, alloca size, holds pointer).

            A program can only move between ISAs if every function, global variable, string
            literal and thread-local variable sits at the same address in every binary. The
            alignment check compares the symbol tables: every function, object, TLS or untyped
            symbol defined in an allocated section of more than one binary must have the same
            value. Global symbols are matched by name, local (static) symbols by source file
            (STT_FILE) and name. Linker-generated symbols that legitimately differ between ISAs
            (_GLOBAL_OFFSET_TABLE_, __init_array_start, _end, ...) and ARM mapping symbols are
            not compared. Binaries must not be stripped.

        OPTIONS
            --json
                Print the report as JSON:
                {"binaries": {"<isa>": {"path", "entry", "sections": [{"name", "address",
                "size", "flags"}], "metadata": [...]}}, "alignment": {"checkedSymbols",
                "aligned", "mismatches": [{"name", "fileScope", "addresses": {"<isa>": N}}]},
                "callSites": [{"id", "function", "sites": {"<isa>": {"returnAddress",
                "frameSize", "cfaRule", "returnAddressSlot", "framePointerSlot",
                "savedRegisters", "liveValues"}}}], "stackTransformMetadata": {"tables":
                {"<isa>": {"sectionSize", "size", "functions", "callSites", "siteSetHash"}},
                "problems"}}. Addresses and sizes are decimal integers.
            --verify
                Check only: print nothing if the binaries are aligned and their metadata is
                sound, otherwise an error for each symbol whose addresses differ and each
                metadata problem (a missing .popcorn.meta or table, call sites that do not
                pair up across ISAs, different live value counts or kinds, a return address not
                right after a call, a live value in a register a call clobbers), and exit with
                status 1. With --json, the JSON report is printed as well.
            --extract=ISA
                For each multi-ISA object file popcorn-cc -c wrote (an archive member
                extracted with ar included), write its ISA object to OBJECT.ISA. The other
                ISAs' objects are stored zlib-compressed (SHF_COMPRESSED) in the sections
                .popcorn.isa.<isa>, so llvm-objcopy --dump-section gives the compressed bytes;
                for the host ISA the container itself is written, an ordinary object of that
                ISA.
            -h, --help
                Show this help and exit.
            --version
                Show the version and exit.
            --
                Treat every following argument as a file name.

        EXIT STATUS
            0   success (with --verify: the binaries are aligned)
            1   unreadable, missing or corrupt input (including malformed metadata), a usage
                error, or (with --verify) misaligned binaries or unsound metadata

        EXAMPLES
            popcorn-dump app               human-readable report for app and its siblings
            popcorn-dump --json app | jq '.alignment.checkedSymbols'
            popcorn-dump --verify app      use in build scripts and tests

        """
    }
}
