/* Swiftlet SMP test guest, entered through the PVH boot ABI: 32-bit protected
 * mode, paging off, %ebx = hvm_start_info. Builds identity page tables for 4 GiB,
 * enters long mode and calls smp_main(start_info). Also holds the real-mode
 * trampoline application processors start in after INIT/SIPI (vector 0x08 ->
 * 0x8000): each AP reads its APIC id with CPUID, sets its bit in ap_mask and
 * increments ap_count, then halts. */
    .section .note.Xen, "a", @note
    .balign 4
    .long 4                 /* namesz */
    .long 4                 /* descsz */
    .long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .balign 4
    .long pvh_start
    .balign 4

    .section .trampoline, "ax"
    .code16
    .globl ap_trampoline
ap_trampoline:
    cli
    xor %ax, %ax
    mov %ax, %ds
    mov $1, %eax
    cpuid
    shr $24, %ebx
    lock btsl %ebx, ap_mask
    lock incl ap_count
1:  hlt
    jmp 1b
    .balign 16
    .globl ap_mask, ap_count
ap_mask:  .long 0
ap_count: .long 0

    .section .text.head, "ax"
    .code32
    .globl pvh_start
pvh_start:
    cli
    mov %ebx, %esi
    /* PML4[0] -> PDPT; PDPT[0..3] -> PD0..PD3; PDs map 2 MiB pages over 4 GiB. */
    mov $pml4, %edi
    lea 0x3(%edi), %eax
    add $0x1000, %eax
    mov %eax, (%edi)
    mov $pdpt, %edi
    mov $pd, %eax
    or $0x3, %eax
    mov $4, %ecx
1:  mov %eax, (%edi)
    add $8, %edi
    add $0x1000, %eax
    loop 1b
    mov $pd, %edi
    xor %eax, %eax
    mov $2048, %ecx
2:  mov %eax, %edx
    or $0x83, %edx          /* present, writable, 2 MiB page; high dword stays 0 */
    mov %edx, (%edi)
    add $8, %edi
    add $0x200000, %eax
    loop 2b

    mov $pml4, %eax
    mov %eax, %cr3
    mov %cr4, %eax
    or $0x20, %eax          /* PAE */
    mov %eax, %cr4
    mov $0xc0000080, %ecx   /* EFER.LME */
    rdmsr
    or $0x100, %eax
    wrmsr
    mov %cr0, %eax
    or $0x80000001, %eax    /* PG | PE */
    mov %eax, %cr0
    lgdt gdt_descriptor
    ljmp $0x08, $long_entry

    .code64
long_entry:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    lea stack_top(%rip), %rsp
    mov %esi, %edi
    call smp_main
4:  cli
    hlt
    jmp 4b

    .section .rodata
    .balign 8
gdt:
    .quad 0
    .quad 0x00af9a000000ffff    /* 64-bit code */
    .quad 0x00cf92000000ffff    /* data */
gdt_descriptor:
    .word gdt_descriptor - gdt - 1
    .long gdt

    .section .bss
    .balign 4096
pml4: .skip 4096
pdpt: .skip 4096
pd:   .skip 4096 * 4
    .balign 16
    .skip 16384
stack_top:
