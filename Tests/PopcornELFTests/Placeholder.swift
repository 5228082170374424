import Testing
@testable import PopcornELF
