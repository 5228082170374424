import Foundation
import PopcornDriver

exit(Driver.main(arguments: Driver.rawArguments()))
