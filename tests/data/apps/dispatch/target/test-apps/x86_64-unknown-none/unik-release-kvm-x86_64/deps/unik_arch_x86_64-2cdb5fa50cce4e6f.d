/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/unik_arch_x86_64-2cdb5fa50cce4e6f.d: /work/main/libos/arch/x86_64/src/lib.rs /work/main/libos/arch/x86_64/src/boot.rs /work/main/libos/arch/x86_64/src/cpu.rs /work/main/libos/arch/x86_64/src/lapic.rs /work/main/libos/arch/x86_64/src/mmu.rs /work/main/libos/arch/x86_64/src/pit.rs /work/main/libos/arch/x86_64/src/pvh.rs /work/main/libos/arch/x86_64/src/trap.rs /work/main/libos/arch/x86_64/src/xen.rs /work/main/libos/arch/x86_64/src/pvh_entry.S /work/main/libos/arch/x86_64/src/trap_entry.S

/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/libunik_arch_x86_64-2cdb5fa50cce4e6f.rlib: /work/main/libos/arch/x86_64/src/lib.rs /work/main/libos/arch/x86_64/src/boot.rs /work/main/libos/arch/x86_64/src/cpu.rs /work/main/libos/arch/x86_64/src/lapic.rs /work/main/libos/arch/x86_64/src/mmu.rs /work/main/libos/arch/x86_64/src/pit.rs /work/main/libos/arch/x86_64/src/pvh.rs /work/main/libos/arch/x86_64/src/trap.rs /work/main/libos/arch/x86_64/src/xen.rs /work/main/libos/arch/x86_64/src/pvh_entry.S /work/main/libos/arch/x86_64/src/trap_entry.S

/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/libunik_arch_x86_64-2cdb5fa50cce4e6f.rmeta: /work/main/libos/arch/x86_64/src/lib.rs /work/main/libos/arch/x86_64/src/boot.rs /work/main/libos/arch/x86_64/src/cpu.rs /work/main/libos/arch/x86_64/src/lapic.rs /work/main/libos/arch/x86_64/src/mmu.rs /work/main/libos/arch/x86_64/src/pit.rs /work/main/libos/arch/x86_64/src/pvh.rs /work/main/libos/arch/x86_64/src/trap.rs /work/main/libos/arch/x86_64/src/xen.rs /work/main/libos/arch/x86_64/src/pvh_entry.S /work/main/libos/arch/x86_64/src/trap_entry.S

/work/main/libos/arch/x86_64/src/lib.rs:
/work/main/libos/arch/x86_64/src/boot.rs:
/work/main/libos/arch/x86_64/src/cpu.rs:
/work/main/libos/arch/x86_64/src/lapic.rs:
/work/main/libos/arch/x86_64/src/mmu.rs:
/work/main/libos/arch/x86_64/src/pit.rs:
/work/main/libos/arch/x86_64/src/pvh.rs:
/work/main/libos/arch/x86_64/src/trap.rs:
/work/main/libos/arch/x86_64/src/xen.rs:
/work/main/libos/arch/x86_64/src/pvh_entry.S:
/work/main/libos/arch/x86_64/src/trap_entry.S:
