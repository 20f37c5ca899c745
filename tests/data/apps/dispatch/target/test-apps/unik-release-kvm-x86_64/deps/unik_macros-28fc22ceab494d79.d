/work/main/tests/data/apps/dispatch/target/test-apps/unik-release-kvm-x86_64/deps/unik_macros-28fc22ceab494d79.d: /work/main/libos/macros/src/lib.rs

/work/main/tests/data/apps/dispatch/target/test-apps/unik-release-kvm-x86_64/deps/libunik_macros-28fc22ceab494d79.so: /work/main/libos/macros/src/lib.rs

/work/main/libos/macros/src/lib.rs:
