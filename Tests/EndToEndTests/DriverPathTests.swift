import Foundation
import PopcornSupport
import Testing

/// popcorn-cc with paths clang handles: a working directory deeper than Foundation's 1024-byte
/// limit, and file names that are not UTF-8.
@Suite struct DriverPathEndToEndTests {
    @Test func compilesInAVeryDeepWorkingDirectory() throws {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("deep")
        // 16 levels of 200 bytes: about 3.2 KB of working directory, below PATH_MAX (4096).
        let component = String(repeating: "d", count: 200)
        let deep = (0..<16).map { "\(component)\($0)" }.joined(separator: "/")
        try Harness.mustSucceed("mkdir -p '\(deep)' && printf 'int f(void) { return 42; }\\n' > '\(deep)/a.c'",
                                in: work.path)
        let run = try Harness.mustSucceed("cd '\(deep)' && '\(cc)' -c a.c && '\(cc)' -S a.c && '\(cc)' -E -MD a.c -o a.i "
                                          + "&& ls a.o a.s a.s.aarch64 a.i a.d", in: work.path)
        #expect(run.stdoutText == "a.d\na.i\na.o\na.s\na.s.aarch64\n")
        #expect(run.stderrText.isEmpty, "\(run.stderrText)")
    }

    @Test func outputNamesThatAreNotUTF8KeepTheirBytes() throws {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("bytes")
        try "int f(void) { return 1; }\n".write(toFile: work.file("a.c"), atomically: true, encoding: .utf8)
        let result = try Harness.mustSucceed(
            "o=$(printf 'out\\377\\376') && '\(cc)' -c a.c -o \"$o\" && [ -f \"$o\" ] && '\(cc)' -S a.c -o \"$o.s\" "
            + "&& [ -f \"$o.s\" ] && [ -f \"$o.s.aarch64\" ] && ls | od -An -tx1 | tr -d ' \\n'", in: work.path)
        // `out\xff\xfe` as a line of `ls`, byte for byte (hex), and no U+FFFD (ef bf bd) anywhere.
        #expect(result.stdoutText.contains("0a6f7574fffe0a"), "\(result.stdoutText)")
        #expect(!result.stdoutText.contains("efbfbd"))
    }

    @Test func missingNonUTF8InputIsNamedByItsBytes() throws {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("bytes-missing")
        let result = try Harness.shell("'\(cc)' -c \"$(printf 'gone\\376.c')\" 2>&1 | od -An -tx1 | tr -d ' \\n'", in: work.path)
        // 'gone\xfe.c' in the message, byte for byte (hex), not with U+FFFD (ef bf bd).
        #expect(result.stdoutText.contains("676f6e65fe2e63"), "\(result.stdoutText)")
        #expect(!result.stdoutText.contains("efbfbd"))
    }

    /// A source and an executable whose names are not UTF-8: clang and popcorn-ld receive the
    /// bytes as they are, and the program runs on both ISAs.
    @Test func sourcesAndProgramsNamedInAnyBytesBuild() throws {
        let cc = try Harness.popcornTool("popcorn-cc")
        let work = try Harness.scratch("bytes-source")
        let result = try Harness.mustSucceed("""
            s=$(printf 'in\\376.c') && o=$(printf 'app\\377') && printf 'int main(void) { return 7; }\\n' > "$s" &&
            '\(cc)' -c "$s" && [ -f "$(printf 'in\\376.o')" ] && '\(cc)' "$(printf 'in\\376.o')" -o "$o" &&
            { "./$o"; echo "x86_64 $?"; } && { qemu-aarch64 "./$o.aarch64"; echo "aarch64 $?"; }
            """, in: work.path)
        #expect(result.stdoutText == "x86_64 7\naarch64 7\n", "\(result.stdoutText)")
    }
}
