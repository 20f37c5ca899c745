/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/unik_platform_api-a66d0bc8aadb1d4b.d: /work/main/libos/platform-api/src/lib.rs /work/main/libos/platform-api/src/bench.rs /work/main/libos/platform-api/src/fault.rs /work/main/libos/platform-api/src/hex.rs /work/main/libos/platform-api/src/memory.rs /work/main/libos/platform-api/src/status.rs

/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/libunik_platform_api-a66d0bc8aadb1d4b.rlib: /work/main/libos/platform-api/src/lib.rs /work/main/libos/platform-api/src/bench.rs /work/main/libos/platform-api/src/fault.rs /work/main/libos/platform-api/src/hex.rs /work/main/libos/platform-api/src/memory.rs /work/main/libos/platform-api/src/status.rs

/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/libunik_platform_api-a66d0bc8aadb1d4b.rmeta: /work/main/libos/platform-api/src/lib.rs /work/main/libos/platform-api/src/bench.rs /work/main/libos/platform-api/src/fault.rs /work/main/libos/platform-api/src/hex.rs /work/main/libos/platform-api/src/memory.rs /work/main/libos/platform-api/src/status.rs

/work/main/libos/platform-api/src/lib.rs:
/work/main/libos/platform-api/src/bench.rs:
/work/main/libos/platform-api/src/fault.rs:
/work/main/libos/platform-api/src/hex.rs:
/work/main/libos/platform-api/src/memory.rs:
/work/main/libos/platform-api/src/status.rs:
