//! Berth's data home, below every other app crate: the database ([`store`]), where files live
//! ([`paths`]), and the two helpers every record is written with ([`time`], [`token`]).

pub mod paths;
pub mod store;
pub mod time;
pub mod token;

pub use store::{Store, StoreError};
