import Foundation
import PopcornSupport
public enum Dump { public static func main(arguments: [String]) -> Int32 { 1 } }
