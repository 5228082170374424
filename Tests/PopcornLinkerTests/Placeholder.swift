import Testing
@testable import PopcornLinker
