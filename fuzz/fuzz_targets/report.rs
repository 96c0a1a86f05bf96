#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| idenfy_fuzz_targets::report(data));
