import Foundation
import PopcornSupport
public enum Linker { public static func main(arguments: [String]) -> Int32 { 1 } }
