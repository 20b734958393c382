import AgentProtocol
import HostSystem

/// Fuzzes the agent protocol's frame codec (Sources/AgentProtocol/FrameCodec.swift), which
/// reads what a guest sends the host: byte 0 is the chunk size the bytes arrive in, the
/// rest the stream. Every message the decoder returns must encode to a frame that decodes
/// to an equal message; malformed frames must throw, never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    guard let first = input.first else { return 0 }
    let chunk = max(1, Int(first))
    let stream = input.dropFirst()
    var decoder = AgentFrameDecoder()
    var offset = stream.startIndex
    while offset < stream.endIndex {
        let end = min(offset + chunk, stream.endIndex)
        decoder.append(stream[offset..<end])
        offset = end
        do throws(SwiftletError) {
            while let message = try decoder.next() {
                checkRoundTrip(message)
            }
        } catch {
            return 0
        }
    }
    if stream.count > 0 {
        _ = try? AgentMessage.decode(body: ArraySlice(stream))
    }
    return 0
}

func checkRoundTrip(_ message: AgentMessage) {
    var decoder = AgentFrameDecoder()
    decoder.append(message.encode())
    let again: AgentMessage?
    do throws(SwiftletError) { again = try decoder.next() } catch { fatalError("re-encoded \(message) does not decode: \(error)") }
    precondition(again == message, "re-encoded \(message) decodes to \(String(describing: again))")
    precondition(decoder.pendingByteCount == 0, "re-encoded \(message) leaves \(decoder.pendingByteCount) bytes")
}
