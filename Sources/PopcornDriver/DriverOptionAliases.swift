/// The other spellings clang accepts for options of `DriverOptions`: GCC's double-dash long
/// forms (`--std=c11`, `--output x`, `--print-file-name=crt1.o`, `--compile`, …).
///
/// Build systems and libtool use them. Each alias is parsed with its own kind and then stands
/// for its canonical option (`Option.aliasOf`), so the driver interprets and forwards only the
/// canonical spelling. Aliases are hidden from `--help`, as in clang.
extension DriverOptions {
    /// `--name=<v>` and `--name <v>` for an option taking one value.
    private static func joinedAndSeparate(_ name: String, _ canonical: Option) -> [Option] {
        [Option(alias: "--\(name)=", .joined, of: canonical), Option(alias: "--\(name)", .separate, of: canonical)]
    }

    /// `--name` for a flag.
    private static func flag(_ name: String, _ canonical: Option) -> Option {
        Option(alias: "--\(name)", .flag, of: canonical)
    }

    public static let aliases: [Option] =
        joinedAndSeparate("std", standard)
        + joinedAndSeparate("output", output)
        + joinedAndSeparate("include-directory", includeDir)
        + joinedAndSeparate("define-macro", define)
        + joinedAndSeparate("undefine-macro", undefine)
        + joinedAndSeparate("include", include)
        + joinedAndSeparate("imacros", imacros)
        + joinedAndSeparate("language", language)
        + joinedAndSeparate("library-directory", libraryDir)
        + joinedAndSeparate("print-file-name", printFileName)
        + joinedAndSeparate("print-prog-name", printProgName)
        + [
            // `--optimize` alone is `-O` (level 1); `--optimize=<level>` is `-O<level>`.
            Option(alias: "--optimize=", .joined, of: optimize), flag("optimize", optimize),
            Option(alias: "--sysroot", .separate, of: sysroot),
            flag("compile", compile), flag("preprocess", preprocess), flag("assemble", assemble),
            flag("verbose", verbose), flag("no-warnings", noWarnings), flag("pedantic", pedantic),
            flag("pedantic-errors", pedanticErrors), flag("ansi", ansi), flag("trigraphs", trigraphs),
            flag("save-temps", saveTemps), flag("comments", keepComments),
            flag("comments-in-macros", keepMacroComments), flag("no-line-commands", noLineMarkers),
            flag("dependencies", depsM), flag("user-dependencies", depsMM),
            flag("write-dependencies", depsMD), flag("write-user-dependencies", depsMMD),
            flag("print-missing-file-dependencies", depsMG),
            flag("static", staticLink), flag("shared", shared),
            flag("print-search-dirs", printSearchDirs), flag("print-libgcc-file-name", printLibgccFileName),
            flag("print-multi-os-directory", printMultiOSDirectory),
            flag("print-multi-directory", printMultiDirectory), flag("print-multi-lib", printMultiLib),
            flag("print-resource-dir", printResourceDir), flag("print-runtime-dir", printRuntimeDir),
            flag("print-target-triple", printTargetTriple), flag("print-effective-triple", printEffectiveTriple),
        ]
}
