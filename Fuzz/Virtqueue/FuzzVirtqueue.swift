import FuzzSupport
import Virtio

/// Fuzzes the split virtqueue (virtio 1.2 §2.7) and every device's queue work over guest
/// RAM the input fills. Input: byte 0 picks the device and queue, byte 1 the queue size
/// (a power of two) and event-idx; the rest is guest RAM from address 0, where the
/// descriptor table (0x0000), available ring (0x1000) and used ring (0x2000) lie.
/// Any ring the guest wrote may be refused with an error, never crash the VMM or touch
/// memory outside guest RAM (AddressSanitizer checks that).
let ram = FuzzGuestRAM(size: 64 << 10)
let devices = FuzzDevices.all

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    guard input.count >= 2 else { return 0 }
    let device = devices[Int(input[0]) % devices.count]
    let queueIndex = Int(input[0]) / devices.count % device.queueSizes.count
    let queueSize = UInt16(1) << ((input[1] & 0x0F) % 9)
    ram.load(input.dropFirst(2))
    device.activate(features: device.features | TransportFeature.all)
    defer { device.reset() }
    guard var queue = try? SplitQueue(size: queueSize, maximumSize: device.queueSizes[queueIndex], descriptorTable: 0,
                                      availableRing: 0x1000, usedRing: 0x2000, eventIndex: input[1] & 0x10 != 0,
                                      memory: ram) else { return 0 }
    for _ in 0..<3 {
        do throws(VirtioError) {
            guard try device.process(queue: &queue, index: queueIndex, memory: ram) else { break }
            _ = try queue.needsInterrupt(memory: ram)
        } catch {
            break
        }
    }
    return 0
}
