/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/spinning_top-afb91122ffa03e65.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/spinning_top-0.3.1/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/spinning_top-0.3.1/src/relax.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/spinning_top-0.3.1/src/rw_spinlock.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/spinning_top-0.3.1/src/spinlock.rs

/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/libspinning_top-afb91122ffa03e65.rlib: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/spinning_top-0.3.1/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/spinning_top-0.3.1/src/relax.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/spinning_top-0.3.1/src/rw_spinlock.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/spinning_top-0.3.1/src/spinlock.rs

/work/main/tests/data/apps/dispatch/target/test-apps/x86_64-unknown-none/unik-release-kvm-x86_64/deps/libspinning_top-afb91122ffa03e65.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/spinning_top-0.3.1/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/spinning_top-0.3.1/src/relax.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/spinning_top-0.3.1/src/rw_spinlock.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/spinning_top-0.3.1/src/spinlock.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/spinning_top-0.3.1/src/lib.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/spinning_top-0.3.1/src/relax.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/spinning_top-0.3.1/src/rw_spinlock.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/spinning_top-0.3.1/src/spinlock.rs:
