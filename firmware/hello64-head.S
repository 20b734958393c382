/* A minimal bzImage: a Linux boot-protocol 2.15 setup header (boot.rst) with
 * XLF_KERNEL_64, one setup sector, and a protected-mode part whose 64-bit entry at
 * +0x200 sets a stack and calls hello64_main(boot_params). Linked so the image is
 * contiguous from 0xFFC00: boot sector + setup sector, then 0x100000. */
    .section .header, "a"
    .code16
    .org 0x1f1
    .byte 1                 /* setup_sects */
    .word 0                 /* root_flags */
    .long 0                 /* syssize */
    .word 0                 /* ram_size */
    .word 0xffff            /* vid_mode */
    .word 0                 /* root_dev */
    .word 0xaa55            /* boot_flag */
    .byte 0xeb, 0x66        /* jump: the header ends at 0x202 + 0x66 */
    .ascii "HdrS"           /* 0x202 */
    .word 0x020f            /* 0x206 version 2.15 */
    .org 0x211
    .byte 0x01              /* loadflags: LOADED_HIGH */
    .org 0x22c
    .long 0x7fffffff        /* initrd_addr_max */
    .long 0x200000          /* kernel_alignment */
    .byte 0                 /* relocatable_kernel */
    .byte 0                 /* min_alignment */
    .word 0x0001            /* 0x236 xloadflags: XLF_KERNEL_64 */
    .long 255               /* 0x238 cmdline_size */
    .org 0x260
    .long 0x20000           /* init_size */
    .org 0x400

    .section .text.head, "ax"
    .code64
    .org 0x200
    .globl startup_64
startup_64:
    lea stack_top(%rip), %rsp
    mov %rsi, %rdi
    call hello64_main
1:  cli
    hlt
    jmp 1b

    .section .bss
    .balign 16
    .skip 16384
stack_top:
