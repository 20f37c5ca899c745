/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/unik-7310f95b829efe90.d: /work/main/libos/unik/src/lib.rs

/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/libunik-7310f95b829efe90.rlib: /work/main/libos/unik/src/lib.rs

/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/libunik-7310f95b829efe90.rmeta: /work/main/libos/unik/src/lib.rs

/work/main/libos/unik/src/lib.rs:
