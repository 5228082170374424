import Foundation
import PopcornSupport
public enum Driver { public static func main(arguments: [String]) -> Int32 { 1 } }
