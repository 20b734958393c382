import CLinux
import KVM

/// A human-readable dump of a vCPU's general-purpose, segment and control registers,
/// printed when the guest dies (triple fault, emulation failure) so the fault can be
/// located in the guest image.
enum RegisterDump {
    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }

    static func text(of vcpu: VirtualCPU) -> String {
        var lines = ["vCPU \(vcpu.id) registers:"]
        if let r = try? vcpu.registers() {
            lines.append("  rip=\(hex(r.rip)) rflags=\(hex(r.rflags)) rsp=\(hex(r.rsp)) rbp=\(hex(r.rbp))")
            lines.append("  rax=\(hex(r.rax)) rbx=\(hex(r.rbx)) rcx=\(hex(r.rcx)) rdx=\(hex(r.rdx))")
            lines.append("  rsi=\(hex(r.rsi)) rdi=\(hex(r.rdi)) r8=\(hex(r.r8)) r9=\(hex(r.r9))")
            lines.append("  r10=\(hex(r.r10)) r11=\(hex(r.r11)) r12=\(hex(r.r12)) r13=\(hex(r.r13))")
            lines.append("  r14=\(hex(r.r14)) r15=\(hex(r.r15))")
        } else {
            lines.append("  (general registers unavailable)")
        }
        if let s = try? vcpu.specialRegisters() {
            lines.append("  cr0=\(hex(s.cr0)) cr2=\(hex(s.cr2)) cr3=\(hex(s.cr3)) cr4=\(hex(s.cr4)) efer=\(hex(s.efer))")
            for (name, seg) in [("cs", s.cs), ("ds", s.ds), ("ss", s.ss), ("tr", s.tr)] {
                lines.append("  \(name)=\(String(seg.selector, radix: 16)) base=\(hex(seg.base)) limit=\(String(seg.limit, radix: 16)) type=\(seg.type) l=\(seg.l) db=\(seg.db)")
            }
            lines.append("  gdt=\(hex(s.gdt.base))/\(s.gdt.limit) idt=\(hex(s.idt.base))/\(s.idt.limit)")
        } else {
            lines.append("  (special registers unavailable)")
        }
        return lines.joined(separator: "\n")
    }
}
