import Foundation
import PopcornLinker
exit(PopcornLinker.Linker.main(arguments: Array(CommandLine.arguments.dropFirst())))
