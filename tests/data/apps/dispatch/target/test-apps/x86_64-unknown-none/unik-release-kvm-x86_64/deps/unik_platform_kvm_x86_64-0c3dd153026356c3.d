/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/unik_platform_kvm_x86_64-0c3dd153026356c3.d: /work/main/libos/platforms/kvm-x86_64/src/lib.rs

/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/libunik_platform_kvm_x86_64-0c3dd153026356c3.rlib: /work/main/libos/platforms/kvm-x86_64/src/lib.rs

/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/libunik_platform_kvm_x86_64-0c3dd153026356c3.rmeta: /work/main/libos/platforms/kvm-x86_64/src/lib.rs

/work/main/libos/platforms/kvm-x86_64/src/lib.rs:
