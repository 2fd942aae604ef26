//! Drives the engine for the server.
