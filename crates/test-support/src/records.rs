//! Store records for tests: the store's own builders (`stepwise_store::contract::records`),
//! which its contract suite uses too.

pub use stepwise_store::contract::records::*;
