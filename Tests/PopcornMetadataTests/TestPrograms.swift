import Foundation
import PopcornELF
import PopcornSupport

/// Small programs with `llvm.experimental.stackmap` calls after their calls, written as LLVM IR
/// and linked statically against musl for both ISAs, so the tests decode real linker output.
enum TestPrograms {
    /// Every stackmap directly follows its call on both ISAs: values that live across calls stay
    /// in callee-saved registers or frame slots, call results go to memory first.
    static let good = """
    declare void @llvm.experimental.stackmap(i64, i32, ...)
    declare i32 @printf(ptr, ...)
    @.str = private constant [5 x i8] c"%ld\\0A\\00"

    define i64 @leaf(i64 %x) noinline {
      %m = mul i64 %x, 3
      %r = add i64 %m, 1
      ret i64 %r
    }

    define double @fleaf(double %x) noinline {
      %r = fmul double %x, 1.5
      ret double %r
    }

    define i64 @work(i64 %a, i64 %b) noinline {
    entry:
      %arr = alloca [4 x i64], align 8
      %slot = alloca i64, align 8
      store i64 %a, ptr %arr
      %p1 = getelementptr i64, ptr %arr, i64 1
      store i64 %b, ptr %p1
      %r = call i64 @leaf(i64 %a)
      call void (i64, i32, ...) @llvm.experimental.stackmap(i64 1001, i32 0, i64 %a, i64 %b, ptr %arr, i32 7, ptr %slot, i64 81985529216486895)
      store volatile i64 %r, ptr %slot
      %r1 = load volatile i64, ptr %slot
      %t = add i64 %r1, %b
      %s = call i64 @leaf(i64 %t)
      call void (i64, i32, ...) @llvm.experimental.stackmap(i64 1002, i32 0, i64 %a, ptr %arr, ptr %slot)
      store volatile i64 %s, ptr %slot
      %s1 = load volatile i64, ptr %slot
      %v = load i64, ptr %p1
      %u = add i64 %s1, %v
      %w = add i64 %u, %a
      ret i64 %w
    }

    define double @fwork(double %a, double %b) noinline {
      %slot = alloca double, align 8
      %x = call double @fleaf(double %a)
      call void (i64, i32, ...) @llvm.experimental.stackmap(i64 3001, i32 0, ptr %slot)
      store volatile double %x, ptr %slot
      %z = call double @fleaf(double %b)
      call void (i64, i32, ...) @llvm.experimental.stackmap(i64 3002, i32 0, ptr %slot)
      %x1 = load volatile double, ptr %slot
      %q = fadd double %z, %x1
      %q2 = fadd double %q, %a
      %q3 = fadd double %q2, %b
      ret double %q3
    }

    define i32 @main(i32 %argc, ptr %argv) {
      %slot = alloca i64, align 8
      %a = sext i32 %argc to i64
      %w = call i64 @work(i64 %a, i64 5)
      call void (i64, i32, ...) @llvm.experimental.stackmap(i64 2001, i32 0, i64 %a, ptr %slot)
      store volatile i64 %w, ptr %slot
      %w1 = load volatile i64, ptr %slot
      %d = sitofp i64 %w1 to double
      %f = call double @fwork(double %d, double 2.0)
      call void (i64, i32, ...) @llvm.experimental.stackmap(i64 2003, i32 0, i64 %a, ptr %slot)
      %fi = fptosi double %f to i64
      %w2 = load volatile i64, ptr %slot
      %sum = add i64 %w2, %fi
      %c = call i32 (ptr, ...) @printf(ptr @.str, i64 %sum)
      call void (i64, i32, ...) @llvm.experimental.stackmap(i64 2002, i32 0, i64 %a)
      ret i32 0
    }
    """

    /// The IDs of `good`'s call sites, and the function each is in.
    static let goodSites: [UInt64: String] = [1001: "work", 1002: "work", 3001: "fwork", 3002: "fwork",
                                              2001: "main", 2003: "main", 2002: "main"]

    /// `good` with a double kept live across a call: x86_64 has no callee-saved vector registers,
    /// so it reloads the value between the call and the stackmap.
    static var doubleAcrossCall: String {
        good.replacingOccurrences(of: "@llvm.experimental.stackmap(i64 3001, i32 0, ptr %slot)",
                                  with: "@llvm.experimental.stackmap(i64 3001, i32 0, ptr %slot, double %b)")
    }

    /// A linked program: the binary of every ISA and the directory holding them.
    struct Build: @unchecked Sendable {
        let directory: TemporaryDirectory
        let binaries: [ISA: ELFFile]
        func path(_ isa: ISA) -> String { binaries[isa]!.path }
    }

    /// Lowers `ir[isa]` for every ISA with llc and links it statically with ld.lld and musl.
    static func build(_ ir: [ISA: String]) throws -> Build {
        let dir = try TemporaryDirectory(prefix: "popcorn-meta-test")
        var binaries: [ISA: ELFFile] = [:]
        for (isa, text) in ir {
            let source = dir.file("prog.\(isa).ll"), object = dir.file("prog.\(isa).o"), binary = dir.file("app.\(isa)")
            try text.write(toFile: source, atomically: true, encoding: .utf8)
            try ProcessRunner.checked(try tool("llc"), ["-O2", "-mtriple=\(isa.triple)", "-filetype=obj", source, "-o", object])
            let lib = isa.muslLibDir
            try ProcessRunner.checked(try Toolchain().path(of: .lld),
                                      ["-m", isa.lldEmulation, "-static", "-o", binary, "\(lib)/crt1.o", "\(lib)/crti.o",
                                       object, "\(lib)/libc.a", isa.builtinsArchive, "\(lib)/crtn.o"])
            binaries[isa] = try ELFFile(contentsOf: binary)
        }
        return Build(directory: dir, binaries: binaries)
    }

    /// The same IR for every ISA.
    static func build(_ ir: String) throws -> Build {
        try build(Dictionary(uniqueKeysWithValues: ISA.allCases.map { ($0, ir) }))
    }

    /// `good`, built once and shared by the tests that only read it. A static is never released,
    /// so its directory would outlive the run: it is removed when the test process exits.
    static let goodBuild: Result<Build, Error> = Result {
        let shared = try build(good)
        sharedDirectory = shared.directory.path
        atexit { if let path = TestPrograms.sharedDirectory { FileSystem.removeTree(path) } }
        return shared
    }
    nonisolated(unsafe) private static var sharedDirectory: String?

    /// An LLVM 19 tool (`llc`, `llvm-readelf`, …).
    static func tool(_ name: String) throws -> String {
        for candidate in ["/usr/lib/llvm-19/bin/\(name)", "/usr/bin/\(name)-19"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw ProcessError.notFound(tool: name, package: "llvm-19")
    }

    /// Runs an LLVM tool and returns its standard output.
    static func run(_ name: String, _ arguments: [String]) throws -> String {
        try ProcessRunner.checked(try tool(name), arguments).stdoutText
    }
}
