//! libFuzzer target `cloudflare_decode`: see `src/lib.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| stackdock_fuzz::cloudflare_decode(data));
