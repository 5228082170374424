import Testing
@testable import PopcornDriver
