/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/unik_platform-022d7b8b3eb72e3c.d: /work/main/libos/platform/src/lib.rs

/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/libunik_platform-022d7b8b3eb72e3c.rlib: /work/main/libos/platform/src/lib.rs

/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/libunik_platform-022d7b8b3eb72e3c.rmeta: /work/main/libos/platform/src/lib.rs

/work/main/libos/platform/src/lib.rs:
