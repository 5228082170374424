import Foundation
import PopcornLinker
import PopcornSupport

// The arguments as bytes: `CommandLine.arguments` would replace bytes that are not UTF-8 (a
// file name like `caf\xe9.o`) and the file could no longer be found.
let arguments = (1..<Int(CommandLine.argc)).map { Path.decode(cString: CommandLine.unsafeArgv[$0]!) }
exit(PopcornLinker.Linker.main(arguments: arguments))
