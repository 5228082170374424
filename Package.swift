// swift-tools-version: 6.0
import PackageDescription

/// LLVM 19 from Debian (`llvm-19-dev`): headers and the shared library.
let llvmInclude = "/usr/lib/llvm-19/include"
let llvmLib = "/usr/lib/llvm-19/lib"

let llvmSwift: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-I\(llvmInclude)"])]
/// `llvm-config-19 --cxxflags` (C++17 is the package's language standard).
let llvmCxx: [CXXSetting] = [.unsafeFlags(["-I\(llvmInclude)", "-fno-exceptions", "-funwind-tables", "-D_GNU_SOURCE",
                                           "-D__STDC_CONSTANT_MACROS", "-D__STDC_FORMAT_MACROS", "-D__STDC_LIMIT_MACROS"])]
let llvmLink: [LinkerSetting] = [
    .unsafeFlags(["-L\(llvmLib)", "-Xlinker", "-rpath", "-Xlinker", llvmLib]),
    .linkedLibrary("LLVM-19"),
]

let package = Package(
    name: "Popcorn",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "popcorn-cc", targets: ["popcorn-cc"]),
        .executable(name: "popcorn-ld", targets: ["popcorn-ld"]),
        .executable(name: "popcorn-dump", targets: ["popcorn-dump"]),
    ],
    targets: [
        // C API of LLVM 19, as a Clang module.
        .systemLibrary(name: "CLLVM", path: "Sources/CLLVM"),
        // What the C API lacks: a per-function gate over code generation passes (C++, C interface).
        .target(name: "CLLVMCodeGen", cxxSettings: llvmCxx, linkerSettings: llvmLink),

        // The `.popcorn.meta` format as the runtime's C header declares it (Toolchain/include).
        .systemLibrary(name: "CPopcornMetadata", path: "Sources/CPopcornMetadata"),

        // zlib: the other ISAs' objects are stored compressed in a multi-ISA object.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),

        // Diagnostics, processes, temporary files, atomic output, ISA descriptions, tool lookup.
        .target(name: "PopcornSupport"),
        // ELF64 and ar readers/writers, and the multi-ISA object container.
        .target(name: "PopcornELF", dependencies: ["CZlib", "PopcornSupport"]),
        // LLVM C API wrappers, the popcorn IR passes and per-ISA code generation.
        .target(name: "PopcornIR", dependencies: ["CLLVM", "CLLVMCodeGen", "PopcornSupport"],
                swiftSettings: llvmSwift, linkerSettings: llvmLink),
        // The clang-compatible driver: option table, job planning and execution.
        .target(name: "PopcornDriver", dependencies: ["PopcornSupport", "PopcornELF", "PopcornIR"],
                swiftSettings: llvmSwift),
        // The aligning linker: inputs, probe links, layout, linker scripts, verification.
        .target(name: "PopcornLinker", dependencies: ["PopcornSupport", "PopcornELF", "PopcornMetadata"]),
        // Stack-transformation metadata: the `.popcorn.*` format, stackmap and CFI decoding, writer and reader.
        .target(name: "PopcornMetadata", dependencies: ["CPopcornMetadata", "PopcornSupport", "PopcornELF"]),
        // Inspection and verification of linked multi-ISA binaries.
        .target(name: "PopcornDump", dependencies: ["PopcornSupport", "PopcornELF", "PopcornMetadata"]),

        .executableTarget(name: "popcorn-cc", dependencies: ["PopcornDriver"], swiftSettings: llvmSwift),
        .executableTarget(name: "popcorn-ld", dependencies: ["PopcornLinker"]),
        .executableTarget(name: "popcorn-dump", dependencies: ["PopcornDump"]),
        // Build-time generator of the manual pages (from each tool's --help text); not installed.
        .executableTarget(name: "popcorn-man", dependencies: ["PopcornDriver", "PopcornLinker", "PopcornDump", "PopcornSupport"],
                          swiftSettings: llvmSwift),

        .testTarget(name: "PopcornSupportTests", dependencies: ["PopcornSupport"]),
        .testTarget(name: "PopcornELFTests", dependencies: ["PopcornELF"]),
        .testTarget(name: "PopcornIRTests", dependencies: ["PopcornIR", "PopcornMetadata", "PopcornELF"], exclude: ["Inputs"], swiftSettings: llvmSwift),
        .testTarget(name: "PopcornDriverTests", dependencies: ["PopcornDriver"], swiftSettings: llvmSwift),
        .testTarget(name: "PopcornLinkerTests", dependencies: ["PopcornLinker", "PopcornELF", "PopcornSupport"]),
        .testTarget(name: "PopcornMetadataTests", dependencies: ["PopcornMetadata", "PopcornELF", "PopcornSupport"]),
        .testTarget(name: "PopcornDumpTests", dependencies: ["PopcornDump", "PopcornELF", "PopcornSupport", "PopcornMetadata"]),
        .testTarget(name: "EndToEndTests", dependencies: ["PopcornSupport", "PopcornELF", "PopcornMetadata", "PopcornDump"]),
    ],
    swiftLanguageModes: [.v5],
    cxxLanguageStandard: .cxx17
)
