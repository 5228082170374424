import Foundation
import Testing
import PopcornSupport
@testable import PopcornMetadata

/// Value sequences and masks (`.popcorn.meta` version 5): every list comes back exactly, in
/// its order and with its repeats, and the sequence stays short when lists agree.
@Suite struct ValueMaskTests {
    /// SplitMix64: the same lists on every run.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
    }

    /// Lists that disagree on order, repeat a value or are empty: each is recovered from its
    /// mask, and the sequence holds each of them as a subsequence.
    @Test func everyListIsRecoveredFromItsMask() {
        let lists: [[Int]] = [[1, 2, 3], [3, 1], [], [2, 2, 4], [4, 3, 2, 1], [5], [1, 2, 3, 4, 5, 6, 7, 8, 9]]
        let sequence = ValueMask.sequence(covering: lists)
        for list in lists {
            #expect(ValueMask.embeds(list, in: sequence))
            let mask = ValueMask.bits(of: list, in: sequence)
            #expect(mask.count == (sequence.count + 7) / 8)
            #expect(ValueMask.select(mask, from: sequence) == list, "\(list) over \(sequence)")
        }
    }

    /// Lists in one order share one sequence no longer than their union.
    @Test func agreeingListsNeedNoMoreThanTheirUnion() {
        let lists: [[Int]] = [[1, 2, 5, 9], [2, 3, 9], [1, 3, 4, 5], [4, 9]]
        #expect(ValueMask.sequence(covering: lists) == [1, 2, 3, 4, 5, 9])
    }

    /// Random lists over a small alphabet (many orders, many repeats) round-trip.
    @Test func randomListsRoundTrip() {
        var random = Generator(state: 0x6d61_736b_7321)
        for _ in 0..<200 {
            let lists = (0..<Int.random(in: 1...12, using: &random)).map { _ in
                (0..<Int.random(in: 0...10, using: &random)).map { _ in Int.random(in: 0..<6, using: &random) }
            }
            let sequence = ValueMask.sequence(covering: lists)
            for list in lists {
                #expect(ValueMask.select(ValueMask.bits(of: list, in: sequence), from: sequence) == list)
            }
        }
    }

    /// A mask of the wrong length, or one selecting past the sequence, is not a list.
    @Test func malformedMasksAreRejected() {
        #expect(ValueMask.select([UInt8](), from: [1]) == nil)
        #expect(ValueMask.select([0x01, 0x00], from: [1]) == nil)
        #expect(ValueMask.select([0x04], from: [1, 2]) == nil)
        #expect(ValueMask.select([0x02], from: [1, 2]) == [2])
    }
}
