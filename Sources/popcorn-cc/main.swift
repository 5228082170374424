import Foundation
import PopcornDriver

exit(Driver.main(arguments: Array(CommandLine.arguments.dropFirst())))
