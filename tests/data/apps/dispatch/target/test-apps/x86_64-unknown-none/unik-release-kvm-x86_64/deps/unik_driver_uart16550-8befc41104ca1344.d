/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/unik_driver_uart16550-8befc41104ca1344.d: /work/main/libos/drivers/uart16550/src/lib.rs

/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/libunik_driver_uart16550-8befc41104ca1344.rlib: /work/main/libos/drivers/uart16550/src/lib.rs

/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/libunik_driver_uart16550-8befc41104ca1344.rmeta: /work/main/libos/drivers/uart16550/src/lib.rs

/work/main/libos/drivers/uart16550/src/lib.rs:
