/*
 * PVH entry: the loader jumps to pvh_start32 in 32-bit protected mode, paging off,
 * %ebx = physical address of struct hvm_start_info. We zero .bss, identity-map the first
 * GiB with 2 MiB pages (NX everywhere but the slot holding the image), enable PAE, long
 * mode and NX, load a 64-bit GDT and call unik_x86_64_entry(start_info).
 *
 * Symbols required from the linker script: __bss_start, __bss_end, __stack_top.
 * `unik_bench_entry_tsc` is an assembler macro from lib.rs: empty, except in bench builds.
 */

    .pushsection .note.Xen, "a", @note
    .balign 4
    .long 4                 /* namesz: "Xen\0" */
    .long 8                 /* descsz */
    .long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .balign 4
    .quad pvh_start32
    .balign 4
    .popsection

    .pushsection .text.pvh_start32, "ax"
    .code32
    .global pvh_start32
pvh_start32:
    unik_bench_entry_tsc
    cli
    cld
    mov %ebx, %esi

    /* Zero .bss four bytes at a time (emulators run each iteration), then the rest. */
    mov $__bss_start, %edi
    mov $__bss_end, %ecx
    sub %edi, %ecx
    mov %ecx, %edx
    shr $2, %ecx
    xor %eax, %eax
    rep stosl
    mov %edx, %ecx
    and $3, %ecx
    rep stosb

    mov $unik_x86_64_boot_pdpt, %eax
    or $0x3, %eax
    mov %eax, unik_x86_64_boot_pml4
    mov $unik_x86_64_boot_pd, %eax
    or $0x3, %eax
    mov %eax, unik_x86_64_boot_pdpt

    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax
    mov %eax, unik_x86_64_boot_pd(,%ecx,8)
    movl $0x80000000, unik_x86_64_boot_pd+4(,%ecx,8)
    inc %ecx
    cmp $512, %ecx
    jb 1b
    movl $0, unik_x86_64_boot_pd+4

    /* CR4: PAE, and OSFXSR + OSXMMEXCPT so that SSE code (std's target uses it) runs. */
    mov %cr4, %eax
    or $0x620, %eax
    mov %eax, %cr4
    mov $unik_x86_64_boot_pml4, %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx
    rdmsr
    or $0x900, %eax
    wrmsr
    /* CR0: paging, write protection, protected mode; MP set and EM clear for SSE. */
    mov %cr0, %eax
    and $0xfffffffb, %eax
    or $0x80010003, %eax
    mov %eax, %cr0

    lgdt unik_x86_64_gdt_pointer
    ljmp $0x08, $pvh_start64

    .code64
pvh_start64:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    mov $__stack_top, %rsp
    mov %esi, %edi
    xor %ebp, %ebp
    call unik_x86_64_entry
    ud2
    .popsection

    .pushsection .data.unik_x86_64_gdt, "aw"
    .balign 16
    .global unik_x86_64_gdt
unik_x86_64_gdt:
    .quad 0
    .quad 0x00af9a000000ffff    /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff    /* 0x10: data */
    .quad 0, 0                  /* 0x18: TSS, filled in by trap::init */
unik_x86_64_gdt_end:
    .balign 8
unik_x86_64_gdt_pointer:
    .word unik_x86_64_gdt_end - unik_x86_64_gdt - 1
    .long unik_x86_64_gdt
    .popsection

    .pushsection .bss.unik_x86_64_page_tables, "aw", @nobits
    .balign 4096
    .global unik_x86_64_boot_pml4, unik_x86_64_boot_pdpt, unik_x86_64_boot_pd
unik_x86_64_boot_pml4: .skip 4096
unik_x86_64_boot_pdpt: .skip 4096
unik_x86_64_boot_pd:   .skip 4096
    .popsection

    /* Xen's hypercall page: executable, no file bytes (see xen.rs). */
    .pushsection .unik_text_nobits, "ax", @nobits
    .balign 4096
    .global unik_x86_64_hypercall_page
unik_x86_64_hypercall_page: .skip 4096
    .popsection
