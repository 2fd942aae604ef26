//! End-to-end tests of Distributed Maps that read their items from S3: `stepwise serve` pointed
//! at moto's server (`AWS_ENDPOINT_URL`), boto3 running the state machines
//! (`tests/e2e/distributed_map.py`).
//!
//! Without Python or PyPI it skips with a message, unless STEPWISE_E2E_REQUIRED=1.

mod support;

use support::{Moto, Server, python, run_python_env, scratch_store};

#[test]
fn distributed_maps_read_their_items_from_s3() {
    let Some(python) = python() else { return };
    let moto = Moto::start(&python);
    let store = scratch_store("distributed");
    let server = Server::start(&store, &[("AWS_ENDPOINT_URL", moto.url.as_str())]);
    run_python_env(
        &python,
        "distributed_map.py",
        &server,
        &[],
        &[("MOTO_URL", moto.url.as_str())],
    );
}

/// Every kind of ItemReader through a state machine (`tests/e2e/distributed_readers.py`): CSV
/// (header row, headers given, other delimiters), JSON with `ItemsPointer`, JSON Lines, Parquet,
/// an S3 Inventory manifest, a listObjectsV2 prefix of 5,000 keys, and `MaxItems`.
#[test]
fn distributed_maps_read_every_kind_of_item_source() {
    let Some(python) = python() else { return };
    let moto = Moto::start(&python);
    let store = scratch_store("distributed-readers");
    let server = Server::start(&store, &[("AWS_ENDPOINT_URL", moto.url.as_str())]);
    run_python_env(
        &python,
        "distributed_readers.py",
        &server,
        &[],
        &[("MOTO_URL", moto.url.as_str())],
    );
}
