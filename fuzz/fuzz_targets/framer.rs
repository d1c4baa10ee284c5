#![no_main]
//! See `at_wifi_fuzz::framer` for the input format and what is checked.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| at_wifi_fuzz::framer::run(data));
