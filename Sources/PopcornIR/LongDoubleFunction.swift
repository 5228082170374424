/// libc functions whose prototype (in musl's aarch64 headers) involves `long double`.
///
/// On aarch64 `long double` is IEEE binary128; x86_64 musl uses the x87 80-bit format. The
/// program keeps binary128 on both ISAs, so calls from the x86_64 module to these functions go
/// through wrappers that convert at the boundary (`LongDoubleBoundary`).
///
/// Generated once from `/usr/include/aarch64-linux-musl/*.h` (every function declaration whose
/// type mentions `long double`, found with `clang-19 -Xclang -ast-dump=json` on a file that
/// includes every header with `_GNU_SOURCE`); `LongDoubleFunctionTableTests` re-derives it from
/// the headers and fails if they drift apart. `modfl` is absent on purpose: it is an ABI shim.
public struct LongDoubleFunction: Sendable, Equatable {
    /// How one parameter or the result relates to `long double`.
    public enum Kind: Sendable, Equatable {
        /// Unrelated to `long double` (integers, other pointers, `double`, …).
        case other
        /// A `long double` value: `fp128` in IR, converted to/from `x86_fp80`.
        case longDouble
        /// A `long double *` the function writes through (an out-parameter).
        case longDoublePointer
        /// A `long double _Complex` value: not supported across the libc boundary.
        case complexLongDouble
    }

    public var result: Kind
    public var parameters: [Kind]

    public init(result: Kind, parameters: [Kind]) {
        self.result = result
        self.parameters = parameters
    }

    /// True if calls to this function cannot be translated (complex `long double`).
    public var involvesComplex: Bool {
        result == .complexLongDouble || parameters.contains(.complexLongDouble)
    }

    /// The table, keyed by function name.
    public static let table: [String: LongDoubleFunction] = [
        "__fpclassifyl": .init(result: .other, parameters: [.longDouble]),
        "__isgreaterequall": .init(result: .other, parameters: [.longDouble, .longDouble]),
        "__isgreaterl": .init(result: .other, parameters: [.longDouble, .longDouble]),
        "__islessequall": .init(result: .other, parameters: [.longDouble, .longDouble]),
        "__islessgreaterl": .init(result: .other, parameters: [.longDouble, .longDouble]),
        "__islessl": .init(result: .other, parameters: [.longDouble, .longDouble]),
        "__signbitl": .init(result: .other, parameters: [.longDouble]),
        "acoshl": .init(result: .longDouble, parameters: [.longDouble]),
        "acosl": .init(result: .longDouble, parameters: [.longDouble]),
        "asinhl": .init(result: .longDouble, parameters: [.longDouble]),
        "asinl": .init(result: .longDouble, parameters: [.longDouble]),
        "atan2l": .init(result: .longDouble, parameters: [.longDouble, .longDouble]),
        "atanhl": .init(result: .longDouble, parameters: [.longDouble]),
        "atanl": .init(result: .longDouble, parameters: [.longDouble]),
        "cabsl": .init(result: .longDouble, parameters: [.complexLongDouble]),
        "cacoshl": .init(result: .complexLongDouble, parameters: [.complexLongDouble]),
        "cacosl": .init(result: .complexLongDouble, parameters: [.complexLongDouble]),
        "cargl": .init(result: .longDouble, parameters: [.complexLongDouble]),
        "casinhl": .init(result: .complexLongDouble, parameters: [.complexLongDouble]),
        "casinl": .init(result: .complexLongDouble, parameters: [.complexLongDouble]),
        "catanhl": .init(result: .complexLongDouble, parameters: [.complexLongDouble]),
        "catanl": .init(result: .complexLongDouble, parameters: [.complexLongDouble]),
        "cbrtl": .init(result: .longDouble, parameters: [.longDouble]),
        "ccoshl": .init(result: .complexLongDouble, parameters: [.complexLongDouble]),
        "ccosl": .init(result: .complexLongDouble, parameters: [.complexLongDouble]),
        "ceill": .init(result: .longDouble, parameters: [.longDouble]),
        "cexpl": .init(result: .complexLongDouble, parameters: [.complexLongDouble]),
        "cimagl": .init(result: .longDouble, parameters: [.complexLongDouble]),
        "clogl": .init(result: .complexLongDouble, parameters: [.complexLongDouble]),
        "conjl": .init(result: .complexLongDouble, parameters: [.complexLongDouble]),
        "copysignl": .init(result: .longDouble, parameters: [.longDouble, .longDouble]),
        "coshl": .init(result: .longDouble, parameters: [.longDouble]),
        "cosl": .init(result: .longDouble, parameters: [.longDouble]),
        "cpowl": .init(result: .complexLongDouble, parameters: [.complexLongDouble, .complexLongDouble]),
        "cprojl": .init(result: .complexLongDouble, parameters: [.complexLongDouble]),
        "creall": .init(result: .longDouble, parameters: [.complexLongDouble]),
        "csinhl": .init(result: .complexLongDouble, parameters: [.complexLongDouble]),
        "csinl": .init(result: .complexLongDouble, parameters: [.complexLongDouble]),
        "csqrtl": .init(result: .complexLongDouble, parameters: [.complexLongDouble]),
        "ctanhl": .init(result: .complexLongDouble, parameters: [.complexLongDouble]),
        "ctanl": .init(result: .complexLongDouble, parameters: [.complexLongDouble]),
        "erfcl": .init(result: .longDouble, parameters: [.longDouble]),
        "erfl": .init(result: .longDouble, parameters: [.longDouble]),
        "exp10l": .init(result: .longDouble, parameters: [.longDouble]),
        "exp2l": .init(result: .longDouble, parameters: [.longDouble]),
        "expl": .init(result: .longDouble, parameters: [.longDouble]),
        "expm1l": .init(result: .longDouble, parameters: [.longDouble]),
        "fabsl": .init(result: .longDouble, parameters: [.longDouble]),
        "fdiml": .init(result: .longDouble, parameters: [.longDouble, .longDouble]),
        "floorl": .init(result: .longDouble, parameters: [.longDouble]),
        "fmal": .init(result: .longDouble, parameters: [.longDouble, .longDouble, .longDouble]),
        "fmaxl": .init(result: .longDouble, parameters: [.longDouble, .longDouble]),
        "fminl": .init(result: .longDouble, parameters: [.longDouble, .longDouble]),
        "fmodl": .init(result: .longDouble, parameters: [.longDouble, .longDouble]),
        "frexpl": .init(result: .longDouble, parameters: [.longDouble, .other]),
        "hypotl": .init(result: .longDouble, parameters: [.longDouble, .longDouble]),
        "ilogbl": .init(result: .other, parameters: [.longDouble]),
        "ldexpl": .init(result: .longDouble, parameters: [.longDouble, .other]),
        "lgammal": .init(result: .longDouble, parameters: [.longDouble]),
        "lgammal_r": .init(result: .longDouble, parameters: [.longDouble, .other]),
        "llrintl": .init(result: .other, parameters: [.longDouble]),
        "llroundl": .init(result: .other, parameters: [.longDouble]),
        "log10l": .init(result: .longDouble, parameters: [.longDouble]),
        "log1pl": .init(result: .longDouble, parameters: [.longDouble]),
        "log2l": .init(result: .longDouble, parameters: [.longDouble]),
        "logbl": .init(result: .longDouble, parameters: [.longDouble]),
        "logl": .init(result: .longDouble, parameters: [.longDouble]),
        "lrintl": .init(result: .other, parameters: [.longDouble]),
        "lroundl": .init(result: .other, parameters: [.longDouble]),
        "nanl": .init(result: .longDouble, parameters: [.other]),
        "nearbyintl": .init(result: .longDouble, parameters: [.longDouble]),
        "nextafterl": .init(result: .longDouble, parameters: [.longDouble, .longDouble]),
        "nexttoward": .init(result: .other, parameters: [.other, .longDouble]),
        "nexttowardf": .init(result: .other, parameters: [.other, .longDouble]),
        "nexttowardl": .init(result: .longDouble, parameters: [.longDouble, .longDouble]),
        "pow10l": .init(result: .longDouble, parameters: [.longDouble]),
        "powl": .init(result: .longDouble, parameters: [.longDouble, .longDouble]),
        "remainderl": .init(result: .longDouble, parameters: [.longDouble, .longDouble]),
        "remquol": .init(result: .longDouble, parameters: [.longDouble, .longDouble, .other]),
        "rintl": .init(result: .longDouble, parameters: [.longDouble]),
        "roundl": .init(result: .longDouble, parameters: [.longDouble]),
        "scalblnl": .init(result: .longDouble, parameters: [.longDouble, .other]),
        "scalbnl": .init(result: .longDouble, parameters: [.longDouble, .other]),
        "sincosl": .init(result: .other, parameters: [.longDouble, .longDoublePointer, .longDoublePointer]),
        "sinhl": .init(result: .longDouble, parameters: [.longDouble]),
        "sinl": .init(result: .longDouble, parameters: [.longDouble]),
        "sqrtl": .init(result: .longDouble, parameters: [.longDouble]),
        "strtold": .init(result: .longDouble, parameters: [.other, .other]),
        "strtold_l": .init(result: .longDouble, parameters: [.other, .other, .other]),
        "tanhl": .init(result: .longDouble, parameters: [.longDouble]),
        "tanl": .init(result: .longDouble, parameters: [.longDouble]),
        "tgammal": .init(result: .longDouble, parameters: [.longDouble]),
        "truncl": .init(result: .longDouble, parameters: [.longDouble]),
        "wcstold": .init(result: .longDouble, parameters: [.other, .other]),
    ]
}
