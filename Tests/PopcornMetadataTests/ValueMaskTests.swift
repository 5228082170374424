import Foundation
import Testing
@testable import PopcornMetadata

/// Value sequences and masks (`.popcorn.meta` version 5): every list comes back exactly, in
/// its order and with its repeats, and the sequence stays short when lists agree.
@Suite struct ValueMaskTests {
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

    /// Pseudo-random lists over a small alphabet (many orders, many repeats) round-trip; the
    /// same lists on every run (a linear congruential sequence).
    @Test func randomListsRoundTrip() {
        var state: UInt64 = 0x6d61_736b_7321
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33) % bound
        }
        for _ in 0..<200 {
            let lists = (0..<(1 + next(12))).map { _ in (0..<next(11)).map { _ in next(6) } }
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
