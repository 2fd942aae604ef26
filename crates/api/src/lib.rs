//! The Step Functions wire protocol.
