/// A container name typed by a user (`--name web-1`): Docker's rule
/// `/?[a-zA-Z0-9][a-zA-Z0-9_.-]+` (moby's daemon/names), so at least two characters; a
/// leading `/` (as Docker's API prints names) is dropped.
public enum ContainerName {
    public static func validate(_ text: String) throws(ValueError) -> String {
        let name = text.hasPrefix("/") ? String(text.dropFirst()) : text
        let bytes = Array(name.utf8)
        func isAlphanumeric(_ byte: UInt8) -> Bool {
            ASCII.isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(ASCII.lowercased(byte))
        }
        guard bytes.count >= 2, isAlphanumeric(bytes[0]),
              bytes.dropFirst().allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == ASCII.dot || $0 == UInt8(ascii: "-") })
        else {
            throw ValueError("invalid container name '\(text)': use at least two of a-z, A-Z, 0-9, '_', '.', '-', starting with a letter or digit")
        }
        return name
    }
}
