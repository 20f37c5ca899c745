/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/unik_boot_abi-8fe763abf9b04b0c.d: /work/main/libos/boot-abi/src/lib.rs /work/main/libos/boot-abi/src/pvh.rs

/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/libunik_boot_abi-8fe763abf9b04b0c.rlib: /work/main/libos/boot-abi/src/lib.rs /work/main/libos/boot-abi/src/pvh.rs

/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/libunik_boot_abi-8fe763abf9b04b0c.rmeta: /work/main/libos/boot-abi/src/lib.rs /work/main/libos/boot-abi/src/pvh.rs

/work/main/libos/boot-abi/src/lib.rs:
/work/main/libos/boot-abi/src/pvh.rs:
