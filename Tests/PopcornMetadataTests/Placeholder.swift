import Testing
@testable import PopcornMetadata
