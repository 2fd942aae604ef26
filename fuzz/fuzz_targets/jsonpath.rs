#![no_main]

libfuzzer_sys::fuzz_target!(
    init: stepwise_fuzzing::init(),
    |data: &[u8]| stepwise_fuzzing::jsonpath(data)
);
