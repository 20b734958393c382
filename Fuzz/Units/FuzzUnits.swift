import Units

/// Fuzzes the parsers of values users type (Sources/Units): the input, as UTF-8 text, goes
/// to each parser. Each must return a value or throw a ``ValueError``, never crash; a size
/// is never negative, a memory limit never below its minimum, and a CPU count is finite
/// and positive.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let bytes = try? ByteSize.parse(text) {
        precondition(bytes >= 0, "size \(text) parsed to \(bytes)")
    }
    if let limit = try? MemoryLimit.parse(text) {
        precondition(limit >= MemoryLimit.minimum, "memory limit \(text) parsed to \(limit)")
    }
    _ = try? DurationValue.parse(text)
    if let cpus = try? CPUCount.parse(text) {
        precondition(cpus.isFinite && cpus > 0, "CPU count \(text) parsed to \(cpus)")
    }
    _ = try? PortRange.parse(text)
    _ = try? ContainerName.validate(text)
    return 0
}
