mod decoding_properties;
mod roundtrip;
