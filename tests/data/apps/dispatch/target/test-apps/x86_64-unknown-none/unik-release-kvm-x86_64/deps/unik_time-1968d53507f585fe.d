/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/unik_time-1968d53507f585fe.d: /work/main/libos/components/time/src/lib.rs

/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/libunik_time-1968d53507f585fe.rlib: /work/main/libos/components/time/src/lib.rs

/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/libunik_time-1968d53507f585fe.rmeta: /work/main/libos/components/time/src/lib.rs

/work/main/libos/components/time/src/lib.rs:
