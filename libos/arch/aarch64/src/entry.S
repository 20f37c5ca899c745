/*
 * arm64 entry. A loader (QEMU's, Xen's) puts the image anywhere in RAM, 2 MiB-aligned,
 * and jumps to its first byte at EL1 with the MMU and caches off and x0 = the physical
 * address of the device tree. Before any Rust runs this code:
 *   - enables FP/SIMD (the Rust target uses NEON registers freely),
 *   - moves rodata and data from where the file has them (packed right after the text)
 *     to their page-aligned addresses, so the file holds no alignment padding,
 *   - zeroes .bss (loaders copy only the file's bytes),
 *   - applies the image's R_AARCH64_RELATIVE relocations for the address it runs at,
 *   - gives the program the main stack and exceptions their own,
 *   - installs the exception vectors,
 * then calls unik_aarch64_entry(dtb). All addresses here are PC-relative (`unik_address`).
 *
 * The image's first 2 KiB are its exception vector table (VBAR_EL1 = the image's start,
 * which loaders align to 2 MiB). Of its sixteen entries one can be taken: the program
 * runs on SP_EL1 (SPSel = 1), never drops to EL0, and masks IRQ, FIQ and SError here
 * (loaders enter with them masked; nothing unmasks them, `tests/tidy.rs` checks), so only
 * "current EL with SP_ELx, synchronous" (0x200) remains. The Image header and the boot
 * code sit in the entries before it, the program's code in those after it: the 2 KiB
 * hold header, vector and code rather than padding.
 *
 * Symbols required from the linker script: __image_start, __rodata_start,
 * __rodata_end_unpadded, __rodata_file_end, __data_start, __data_end, __bss_start,
 * __bss_end, __rela_start, __rela_end, __stack_top, __unik_image_size, __unik_link_base.
 * `unik_bench_entry_counter` and `unik_bench_store_entry_counter` are assembler macros from
 * lib.rs: empty except in bench builds, where the first reads the counter into x20.
 */

/* reg = the address of symbol, PC-relative (within 4 GiB). */
    .macro unik_address reg, symbol
    adrp    \reg, \symbol
    add     \reg, \reg, :lo12:\symbol
    .endm

    .pushsection .text.unik_aarch64_head, "ax"
    .global unik_aarch64_head
    .global unik_aarch64_vectors
unik_aarch64_head:
unik_aarch64_vectors:
    /* The Linux arm64 Image header (Documentation/arch/arm64/booting.rst). */
    b       .Lunik_aarch64_start      /* code0: the entry */
    .long   0                       /* code1 */
    .quad   0                       /* text_offset: at the 2 MiB-aligned base */
    .quad   __unik_image_size       /* image_size: file bytes, bss and stack */
    .quad   0xa                     /* flags: little endian, 4 KiB pages, anywhere in RAM */
    .quad   0, 0, 0                 /* reserved */
    .ascii  "ARM\x64"               /* magic */
    .long   0                       /* reserved (PE header offset) */

.Lunik_aarch64_start:
    unik_bench_entry_counter
    msr     daifset, #0xf
    mov     x19, x0
    msr     spsel, #1

    /* FP/SIMD: CPACR_EL1.FPEN = 0b11, no trapping at EL1 or EL0. */
    mov     x1, #(3 << 20)
    msr     cpacr_el1, x1
    isb

    /* Data, then rodata, to their addresses, 16 bytes at a time from the end: each moves
     * up (or stays), so copying downwards never overwrites bytes not yet copied. The
     * script aligns every bound to 16. x3 = the source's end, x4 = the destination's. */
    unik_address x1, __data_start
    unik_address x4, __data_end
    unik_address x3, __rodata_file_end
    add     x3, x3, x4
    sub     x3, x3, x1
    bl      .Lunik_aarch64_move_down
    unik_address x1, __rodata_start
    unik_address x4, __rodata_end_unpadded
    unik_address x3, __rodata_file_end
    bl      .Lunik_aarch64_move_down
    unik_bench_store_entry_counter

    /* Zero .bss, 16 bytes at a time (the script aligns both ends to 16). */
    unik_address x1, __bss_start
    unik_address x2, __bss_end
1:  cmp     x1, x2
    b.hs    2f
    stp     xzr, xzr, [x1], #16
    b       1b
2:
    /* Self-relocation: x1 = where the image runs minus where it was linked. */
    unik_address x1, __image_start
    movz    x2, #:abs_g3:__unik_link_base
    movk    x2, #:abs_g2_nc:__unik_link_base
    movk    x2, #:abs_g1_nc:__unik_link_base
    movk    x2, #:abs_g0_nc:__unik_link_base
    sub     x1, x1, x2
    unik_address x2, __rela_start
    unik_address x3, __rela_end
3:  cmp     x2, x3
    b.hs    4f
    ldp     x4, x5, [x2], #16       /* r_offset, r_info */
    ldr     x6, [x2], #8            /* r_addend */
    cmp     w5, #1027               /* R_AARCH64_RELATIVE: the only kind the verifier admits */
    b.ne    3b
    add     x6, x6, x1
    str     x6, [x4, x1]
    b       3b
4:
    /* The program's stack is SP_EL1; SP_EL0 holds the exception stack's top until an
     * exception takes it (see the vectors). */
    unik_address x1, unik_aarch64_fault_stack_top
    msr     sp_el0, x1
    unik_address x1, __stack_top
    mov     sp, x1

    unik_address x1, unik_aarch64_vectors
    msr     vbar_el1, x1
    isb

    mov     x0, x19
    bl      unik_aarch64_entry
5:  wfe
    b       5b

/* Copies down to x1 (the destination's start) from the end: x3 = the source's end,
 * x4 = the destination's end; 16 bytes at a time. */
.Lunik_aarch64_move_down:
    cmp     x4, x1
    b.ls    6f
    ldp     x5, x6, [x3, #-16]!
    stp     x5, x6, [x4, #-16]!
    b       .Lunik_aarch64_move_down
6:  ret

/*
 * The vector that can be taken: current EL with SP_ELx, synchronous. Every exception is
 * fatal, so it passes ESR, ELR, FAR and the program's stack pointer to
 * unik_aarch64_exception, on the exception stack: SP_EL0 holds its top, taken (and
 * zeroed) by the first exception, so an exception in the handler stays on the stack it
 * runs on.
 */
    .org    0x200
    mov     x3, sp
    mrs     x4, sp_el0
    cbz     x4, 7f
    msr     sp_el0, xzr
    mov     sp, x4
7:  mrs     x0, esr_el1
    mrs     x1, elr_el1
    mrs     x2, far_el1
    bl      unik_aarch64_exception
8:  wfe
    b       8b
    .popsection

/*
 * Semihosting call: w0 = operation, x1 = parameter block. When the host does not listen
 * (QEMU without -semihosting), `hlt` is an undefined instruction; the exception handler
 * recognises this address and lets semihosting::exit fall back to PSCI.
 */
    .pushsection .text.unik_aarch64_semihosting, "ax"
    .global unik_aarch64_semihosting
unik_aarch64_semihosting:
    hlt     #0xf000
    ret
    .popsection

/* The stack exceptions run on: a stack overflow still gets its report. */
    .pushsection .bss.unik_aarch64_fault_stack, "aw", %nobits
    .balign 16
unik_aarch64_fault_stack:
    .space  8192
    .global unik_aarch64_fault_stack_top
unik_aarch64_fault_stack_top:
    .popsection
