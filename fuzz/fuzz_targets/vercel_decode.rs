//! libFuzzer target `vercel_decode`: see `src/lib.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| stackdock_fuzz::vercel_decode(data));
