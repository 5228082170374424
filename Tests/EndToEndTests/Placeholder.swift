import Testing
@testable import PopcornSupport
