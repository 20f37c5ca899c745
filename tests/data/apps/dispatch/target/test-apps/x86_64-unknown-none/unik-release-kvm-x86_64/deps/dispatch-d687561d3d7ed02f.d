/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/dispatch-d687561d3d7ed02f.d: src/main.rs

/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/dispatch-d687561d3d7ed02f: src/main.rs

src/main.rs:
