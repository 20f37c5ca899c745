/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/unik_args-fcdcc7125f13f51b.d: /work/main/libos/components/args/src/lib.rs

/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/libunik_args-fcdcc7125f13f51b.rlib: /work/main/libos/components/args/src/lib.rs

/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/libunik_args-fcdcc7125f13f51b.rmeta: /work/main/libos/components/args/src/lib.rs

/work/main/libos/components/args/src/lib.rs:
