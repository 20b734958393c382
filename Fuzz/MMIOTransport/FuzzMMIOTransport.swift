import FuzzSupport
import Virtio

/// Fuzzes the virtio-mmio register window (virtio 1.2 §4.2.2) as a guest driver drives it:
/// byte 0 picks the device, byte 1 the number of 7-byte operations that follow (kind,
/// offset u16, value u32: a 4-byte write, a write of another width, a read of 1–8 bytes,
/// or the device thread running a queue); the rest is guest RAM from address 0. A driver
/// may set any register to anything: the transport refuses or fails the device, never
/// crashes, and every queue it accepts lies in guest RAM.
let ram = FuzzGuestRAM(size: 64 << 10)
let devices = FuzzDevices.all

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    guard input.count >= 2 else { return 0 }
    let device = devices[Int(input[0]) % devices.count]
    let operationCount = min(Int(input[1]), (input.count - 2) / 7)
    ram.load(input.dropFirst(2 + 7 * operationCount))
    guard let transport = try? MMIOTransport(device: device, memory: ram, interrupt: {}) else { return 0 }
    defer { withUnsafeBytes(of: UInt32(0)) { transport.write(offset: 0x070, data: $0) } }
    for operation in 0..<operationCount {
        let at = 2 + 7 * operation
        let kind = input[at]
        let offset = UInt64(input[at + 1]) | UInt64(input[at + 2]) << 8
        let value = (0..<4).reduce(UInt32(0)) { $0 | UInt32(input[at + 3 + $1]) << (8 * $1) }
        switch kind % 4 {
        case 0:
            withUnsafeBytes(of: value.littleEndian) { transport.write(offset: offset, data: $0) }
        case 1:
            withUnsafeBytes(of: UInt64(value).littleEndian) {
                transport.write(offset: offset, data: UnsafeRawBufferPointer(rebasing: $0.prefix(Int(kind >> 2) % 9)))
            }
        case 2:
            var bytes = [UInt8](repeating: 0, count: Int(kind >> 2) % 9)
            bytes.withUnsafeMutableBytes { transport.read(offset: offset, data: $0) }
        default:
            transport.processQueue(Int(value % 4))
        }
    }
    return 0
}
