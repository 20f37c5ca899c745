/*
 * Trap stubs. Exception stub n sits at unik_x86_64_exception_stubs + 4*n: it pushes the
 * vector and jumps (a short jump: the 32 stubs and their common path fit in 128 bytes) to
 * the common path, which calls unik_x86_64_exception with the address of the vector on
 * the stack; the CPU's error code, where the vector has one, lies above it. Exceptions
 * are fatal, so that path never returns and saves nothing. Interrupt stubs push a uniform
 * frame (0 for the error code, then the vector), save the caller-saved registers, call
 * unik_x86_64_trap(&mut TrapFrame) and return; they live in their own sections so that an
 * image without interrupts carries none.
 */

    .macro TRAP_COMMON
    push %rax
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %r8
    push %r9
    push %r10
    push %r11
    mov %rsp, %rdi
    cld
    call unik_x86_64_trap
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rax
    add $16, %rsp
    iretq
    .endm

    .pushsection .text.unik_x86_64_exception_stubs, "ax"
    .global unik_x86_64_exception_stubs
unik_x86_64_exception_stubs:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .org    4 * \n
    push    $\n
    jmp     .Lunik_x86_64_exception_common
    .endr
    .org    4 * 32
.Lunik_x86_64_exception_common:
    mov     %rsp, %rdi
    and     $-16, %rsp
    call    unik_x86_64_exception
    ud2
    .popsection

    /*
     * Interrupt stubs for vectors 32..=47, 16 bytes apart; `trap::register_interrupt`
     * points IDT entries at them. Only images that register an interrupt carry them.
     */
    .pushsection .text.unik_x86_64_interrupt_stubs, "ax"
    .balign 16
    .global unik_x86_64_interrupt_stubs
unik_x86_64_interrupt_stubs:
    .irp n, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
    .balign 16
    push $0
    push $\n
    jmp unik_x86_64_interrupt_common
    .endr
unik_x86_64_interrupt_common:
    TRAP_COMMON
    .popsection

    /* Spurious interrupts (vector 255): no EOI, nothing to do. */
    .pushsection .text.unik_x86_64_spurious_stub, "ax"
    .global unik_x86_64_spurious_stub
unik_x86_64_spurious_stub:
    iretq
    .popsection
