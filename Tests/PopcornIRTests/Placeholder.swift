import Testing
@testable import PopcornIR
