//! How a Distributed Map's data plane fails: the error name a Map Run fails with, and the
//! cause, as Step Functions words them where its recordings or guide show them.

use stepwise_aws::AwsError;

/// The error names (Step Functions' own) this crate fails with.
pub mod names {
    /// The items could not be read: a bad `ReaderConfig`, an object that cannot be read or
    /// parsed.
    pub const ITEM_READER_FAILED: &str = "States.ItemReaderFailed";
    /// The results could not be written to S3.
    pub const RESULT_WRITER_FAILED: &str = "States.ResultWriterFailed";
    /// A configuration Step Functions would refuse at run time outside the reader and writer
    /// (an item larger than `MaxInputBytesPerBatch`, a bad batcher limit).
    pub const RUNTIME: &str = "States.Runtime";
}

/// A failure of the data plane: `error` is the name a Map Run (and its state) fails with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {cause}")]
pub struct ItemsError {
    pub error: &'static str,
    pub cause: String,
}

impl ItemsError {
    pub fn reader(cause: impl Into<String>) -> ItemsError {
        ItemsError {
            error: names::ITEM_READER_FAILED,
            cause: cause.into(),
        }
    }

    pub fn writer(cause: impl Into<String>) -> ItemsError {
        ItemsError {
            error: names::RESULT_WRITER_FAILED,
            cause: cause.into(),
        }
    }

    pub fn runtime(cause: impl Into<String>) -> ItemsError {
        ItemsError {
            error: names::RUNTIME,
            cause: cause.into(),
        }
    }

    /// An S3 refusal while reading: the SDK's words as the cause.
    pub fn reading(e: AwsError) -> ItemsError {
        ItemsError::reader(s3_cause(e))
    }

    /// An S3 refusal while writing.
    pub fn writing(e: AwsError) -> ItemsError {
        ItemsError::writer(s3_cause(e))
    }
}

fn s3_cause(e: AwsError) -> String {
    // `S3.NoSuchKeyException` names the SDK's exception; the cause carries S3's message.
    let exception = e.error.strip_prefix("S3.").unwrap_or(&e.error).to_owned();
    format!("{exception}: {}", e.cause)
}
