/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/unik_console-c3c1adc6ec1c7ec3.d: /work/main/libos/components/console/src/lib.rs

/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/libunik_console-c3c1adc6ec1c7ec3.rlib: /work/main/libos/components/console/src/lib.rs

/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/libunik_console-c3c1adc6ec1c7ec3.rmeta: /work/main/libos/components/console/src/lib.rs

/work/main/libos/components/console/src/lib.rs:
