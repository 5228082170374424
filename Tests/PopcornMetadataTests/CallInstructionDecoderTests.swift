import Foundation
import Testing
import PopcornELF
import PopcornSupport
@testable import PopcornMetadata

@Suite struct CallInstructionDecoderTests {
    @Test func x86Forms() {
        let calls: [[UInt8]] = [
            [0xE8, 0x10, 0x20, 0x00, 0x00],                   // call rel32
            [0xFF, 0xD0],                                     // call *%rax
            [0x41, 0xFF, 0xD3],                               // call *%r11
            [0xFF, 0x15, 0x00, 0x10, 0x00, 0x00],             // call *disp(%rip)
            [0xFF, 0x50, 0x08],                               // call *8(%rax)
            [0xFF, 0x14, 0xC5, 0x00, 0x10, 0x00, 0x00],       // call *0x1000(,%rax,8)
            [0x41, 0xFF, 0x94, 0x24, 0x00, 0x01, 0x00, 0x00], // call *0x100(%r12)
            [0x3E, 0xFF, 0xD0],                               // notrack call *%rax
        ]
        for call in calls {
            #expect(CallInstructionDecoder.isCall(endingWith: [0x90, 0x90] + call, isa: .x86_64), "\(call)")
        }
        let notCalls: [[UInt8]] = [
            [0x48, 0x89, 0xC3],        // mov %rax,%rbx
            [0xFF, 0xE0],              // jmp *%rax (FF /4)
            [0xFF, 0x30],              // push (%rax) (FF /6)
            [0x90, 0xC3],              // nop; ret
        ]
        for bytes in notCalls {
            #expect(!CallInstructionDecoder.isCall(endingWith: bytes, isa: .x86_64), "\(bytes)")
        }
    }

    @Test func aarch64Forms() {
        func le(_ w: UInt32) -> [UInt8] { (0..<4).map { UInt8((w >> (8 * $0)) & 0xff) } }
        #expect(CallInstructionDecoder.isCall(endingWith: le(0x9400_0010), isa: .aarch64))  // bl
        #expect(CallInstructionDecoder.isCall(endingWith: le(0x97FF_FFF0), isa: .aarch64))  // bl backwards
        #expect(CallInstructionDecoder.isCall(endingWith: le(0xD63F_0100), isa: .aarch64))  // blr x8
        #expect(CallInstructionDecoder.isCall(endingWith: le(0xD63F_081F), isa: .aarch64))  // blraaz x0
        #expect(!CallInstructionDecoder.isCall(endingWith: le(0x1400_0010), isa: .aarch64)) // b
        #expect(!CallInstructionDecoder.isCall(endingWith: le(0xD61F_0100), isa: .aarch64)) // br x8
        #expect(!CallInstructionDecoder.isCall(endingWith: le(0xAA00_03F3), isa: .aarch64)) // mov x19, x0
        #expect(!CallInstructionDecoder.isCall(endingWith: [0x00, 0x00], isa: .aarch64))
    }

    /// Every return address llvm-objdump shows in the program is recognised in the binary, and
    /// the addresses in between are not.
    @Test(arguments: ISA.allCases)
    func agreesWithObjdump(isa: ISA) throws {
        let build = try TestPrograms.goodBuild.get()
        let file = build.binaries[isa]!
        let names: Set<String> = ["work", "fwork", "main"]
        let returnAddresses = try LLVMReference.returnAddresses(in: build.path(isa), functions: names)
        #expect(returnAddresses.count == TestPrograms.goodSites.count)
        for ra in returnAddresses {
            #expect(CallInstructionDecoder.isCall(before: ra, in: file, isa: isa))
        }
        for symbol in try file.symbols() where names.contains(symbol.name) {
            // The function's first instruction cannot follow a call within it; aarch64 code is
            // word-aligned, so every other word-aligned non-return address is checked too.
            if isa == .aarch64 {
                for address in stride(from: symbol.value + 4, to: symbol.value + symbol.size, by: 4) where !returnAddresses.contains(address) {
                    #expect(!CallInstructionDecoder.isCall(before: address, in: file, isa: isa), "0x\(String(address, radix: 16))")
                }
            }
        }
        #expect(!CallInstructionDecoder.isCall(before: 0x10, in: file, isa: isa))
    }
}
