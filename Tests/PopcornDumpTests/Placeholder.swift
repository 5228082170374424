import Testing
@testable import PopcornDump
