/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/unik_alloc-517206983a04171e.d: /work/main/libos/components/alloc/src/lib.rs

/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/libunik_alloc-517206983a04171e.rlib: /work/main/libos/components/alloc/src/lib.rs

/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/libunik_alloc-517206983a04171e.rmeta: /work/main/libos/components/alloc/src/lib.rs

/work/main/libos/components/alloc/src/lib.rs:
