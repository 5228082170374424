import Testing
@testable import PopcornIR

struct FormatStringTests {
    @Test(arguments: [
        ("%Lf", "%Lf"), ("x=%10Le y", "%10Le"), ("%d %s %LG", "%LG"), ("%2$La", "%2$La"),
        ("%*Lf %Lf", "%Lf"), ("%[^L]%Lf", "%Lf"),
    ])
    func findsLongDoubleConversions(format: String, expected: String) {
        #expect(FormatString.longDoubleScanConversion(in: format) == expected)
    }

    @Test(arguments: ["%f %lf %d", "%*Lf", "100%% %Ld", "%[Lf]", "%Lx"])
    func ignoresOtherConversions(format: String) {
        #expect(FormatString.longDoubleScanConversion(in: format) == nil)
    }
}
