//! Known-answer tests of `ring` (digests from FIPS 180, HMAC from RFC 4231, HKDF from
//! RFC 5869, AES-GCM from the GCM specification's test cases, ChaCha20-Poly1305 from
//! RFC 8439, Ed25519 from RFC 8032): one `ok` or `FAIL` line each; status 1 on a failure.
//! The first line lists the processor features std detects (through `getauxval(AT_HWCAP)`
//! on arm64 Linux), which are also the ones ring chooses its code paths by.

use ring::{aead, digest, hkdf, hmac, rand, signature};

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).expect("hex"))
        .collect()
}

fn check(name: &str, actual: &[u8], expected: &str, failures: &mut u32) {
    if actual == hex(expected).as_slice() {
        println!("ok {name}");
    } else {
        println!("FAIL {name}: {:02x?}", actual);
        *failures += 1;
    }
}

fn seal(algorithm: &'static aead::Algorithm, key: &str, nonce: &str, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let key = aead::LessSafeKey::new(aead::UnboundKey::new(algorithm, &hex(key)).expect("key"));
    let nonce = aead::Nonce::try_assume_unique_for_key(&hex(nonce)).expect("nonce");
    let mut in_out = plaintext.to_vec();
    key.seal_in_place_append_tag(nonce, aead::Aad::from(aad), &mut in_out).expect("seal");
    in_out
}

/// HKDF output of a fixed length.
struct Length(usize);

impl hkdf::KeyType for Length {
    fn len(&self) -> usize {
        self.0
    }
}

/// The features std detects, and whether the baseline the architecture's Linux ABI
/// promises (SSE2 on x86_64, Advanced SIMD on arm64) is among them.
fn detected_features() -> (Vec<&'static str>, bool) {
    let mut found = Vec::new();
    #[cfg(target_arch = "aarch64")]
    {
        use std::arch::is_aarch64_feature_detected as detected;
        for (name, present) in [("neon", detected!("neon")), ("aes", detected!("aes")), ("pmull", detected!("pmull")), ("sha2", detected!("sha2")), ("crc", detected!("crc")), ("lse", detected!("lse"))] {
            if present {
                found.push(name);
            }
        }
        let baseline = found.contains(&"neon");
        (found, baseline)
    }
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as detected;
        for (name, present) in [("sse2", detected!("sse2")), ("ssse3", detected!("ssse3")), ("aes", detected!("aes")), ("pclmulqdq", detected!("pclmulqdq")), ("avx2", detected!("avx2"))] {
            if present {
                found.push(name);
            }
        }
        let baseline = found.contains(&"sse2");
        (found, baseline)
    }
}

fn main() {
    let mut failures = 0;
    let (features, baseline) = detected_features();
    println!("{} cpu features: {}", if baseline { "ok" } else { "FAIL" }, features.join(" "));
    failures += u32::from(!baseline);
    let abc = b"abc";
    check("sha256", digest::digest(&digest::SHA256, abc).as_ref(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", &mut failures);
    check("sha384", digest::digest(&digest::SHA384, abc).as_ref(), "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7", &mut failures);
    check("sha512", digest::digest(&digest::SHA512, abc).as_ref(), "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f", &mut failures);

    let key = hmac::Key::new(hmac::HMAC_SHA256, b"Jefe");
    let tag = hmac::sign(&key, b"what do ya want for nothing?");
    check("hmac-sha256", tag.as_ref(), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", &mut failures);

    let salt = hkdf::Salt::new(hkdf::HKDF_SHA256, &hex("000102030405060708090a0b0c"));
    let info = hex("f0f1f2f3f4f5f6f7f8f9");
    let mut okm = [0u8; 42];
    salt.extract(&[0x0b; 22])
        .expand(&[&info], Length(42))
        .expect("expand")
        .fill(&mut okm)
        .expect("fill");
    check("hkdf-sha256", &okm, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865", &mut failures);

    let zero_key = "00000000000000000000000000000000";
    let zero_nonce = "000000000000000000000000";
    check("aes-128-gcm empty", &seal(&aead::AES_128_GCM, zero_key, zero_nonce, b"", b""), "58e2fccefa7e3061367f1d57a4e7455a", &mut failures);
    check("aes-128-gcm block", &seal(&aead::AES_128_GCM, zero_key, zero_nonce, b"", &[0; 16]), "0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf", &mut failures);

    let sunscreen = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
    check(
        "chacha20-poly1305",
        &seal(&aead::CHACHA20_POLY1305, "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", "070000004041424344454647", &hex("50515253c0c1c2c3c4c5c6c7"), sunscreen),
        "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b61161ae10b594f09e26a7e902ecbd0600691",
        &mut failures,
    );

    let pair = signature::Ed25519KeyPair::from_seed_unchecked(&hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")).expect("seed");
    check("ed25519 public key", signature::KeyPair::public_key(&pair).as_ref(), "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", &mut failures);
    check("ed25519 signature", pair.sign(b"").as_ref(), "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b", &mut failures);

    let mut random = [0u8; 32];
    rand::SecureRandom::fill(&rand::SystemRandom::new(), &mut random).expect("random");
    println!("{} random", if random != [0; 32] { "ok" } else { "FAIL" });

    std::process::exit(if failures == 0 { 0 } else { 1 });
}
