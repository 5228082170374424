import Foundation
import PopcornDump
exit(PopcornDump.Dump.main(arguments: Array(CommandLine.arguments.dropFirst())))
