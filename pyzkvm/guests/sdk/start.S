/*
 * start.S - the guest's entry point (_start), for both ABI profiles (the linker script,
 * link.ld or link_risc0.ld, places it and defines the stack top).
 *
 *   1. gp <- __global_pointer$ (linker relaxation may address .sdata/.sbss through gp),
 *      sp <- 0x00200400 (the stack grows down, below the image);
 *   2. clear .bss (the ELF zero-fills it already; clearing keeps the C contract explicit);
 *   3. a0 <- main();
 *   4. pyzkvm_halt(a0): sp1: COMMIT x8 SHA-256(journal), COMMIT_DEFERRED_PROOFS x8, HALT a0;
 *      risc0: HALT with a0 = exit code << 8 and a1 -> the Output digest.
 */
    .file "start.S"   /* names the STT_FILE symbol (else gcc would use a random temp name) */
    .section .text.start, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    lui     sp, %hi(__pyzkvm_stack_top)
    addi    sp, sp, %lo(__pyzkvm_stack_top)

    /* zero [__bss_start, __bss_end) one word at a time (both are 4-byte aligned) */
    la      t1, __bss_start
    la      t2, __bss_end
    bgeu    t1, t2, 2f
1:  sw      zero, 0(t1)
    addi    t1, t1, 4
    bltu    t1, t2, 1b
2:
    call    main
    call    pyzkvm_halt       /* never returns */
3:  j       3b
    .size _start, . - _start
