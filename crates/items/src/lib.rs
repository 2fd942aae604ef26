//! A Distributed Map's data plane: reading its items, batching them, writing its results.
//!
//! - [`ItemReaderSpec`] reads a Map's `ItemReader` (its `Resource`, evaluated `Parameters`,
//!   `ReaderConfig`); [`Items`] reads the items it names one at a time, from S3 or any
//!   [`ObjectStore`], and resumes at a given position.
//! - [`ResultWriterSpec`] reads a Map's `ResultWriter`; [`ResultWriter`] takes each child's
//!   result ([`ChildResult`]: plain data, its item index, ARN, name, status, input, output or
//!   error and cause, dates) as it finishes and writes `manifest.json` and the
//!   `SUCCEEDED_n.json`, `FAILED_n.json`, `PENDING_n.json` files, or gives the results back for
//!   the state's output. With an S3 destination, the Map state's output is
//!   `{"MapRunArn": ..., "ResultWriterDetails": {"Bucket": ..., "Key":
//!   "Prefix/<MapRunId>/manifest.json"}}`, the Map Run's id being its ARN's last part; without
//!   one (`WriterConfig` alone), the transformed results in item order. The shapes are
//!   described in [`write`](mod@write).
//!
//! Not here: the Map Run itself (child executions, its events, its durability), and the
//! evaluation of paths, JSONata and `ItemSelector`: the engine does those and hands this crate
//! their values. Failures are [`ItemsError`]s carrying Step Functions' error names.

mod csv;
pub mod error;
mod java;
mod json;
#[cfg(feature = "parquet")]
mod parquet;
mod read;
pub mod spec;
pub mod store;
pub mod write;

pub use error::ItemsError;
pub use read::Items;
pub use spec::{CsvConfig, Format, ItemReaderSpec, ItemSource, ObjectRef};
pub use store::{MemoryStore, ObjectStore};
pub use write::{ChildResult, ChildStatus, ResultWriter, ResultWriterSpec, WriterOutcome};
