//! libFuzzer target `config_parse`: see `src/lib.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| stackdock_fuzz::config_parse(data));
