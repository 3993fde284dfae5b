//! berth-agent's integration tests, as one binary (`tests/suite/`): one link on a 2-core CI
//! machine instead of one per file. A broken set-up fails loudly, so `expect` is allowed here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod suite;
