import Foundation
import PopcornDriver
exit(PopcornDriver.Driver.main(arguments: Array(CommandLine.arguments.dropFirst())))
