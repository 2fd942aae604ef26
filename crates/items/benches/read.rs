//! Reading a Distributed Map's items (`cargo bench -p stepwise-items --bench read`): 100,000
//! JSON Lines items from an object in memory, in 64 KiB chunks as S3 answers, through
//! [`Items`] (chunked buffering, line splitting, parsing, position counting); the baseline, in
//! the same run, is `serde_json` parsing the same lines from one slice. Items/s for both; the
//! ratio is what the reader costs over parsing alone. Also a CSV object of the same rows.

use std::io::Write;
use std::sync::Arc;

use divan::Bencher;
use divan::counter::ItemsCount;
use serde_json::{Value, json};
use stepwise_items::{ItemReaderSpec, Items, MemoryStore, ObjectStore};

const ITEMS: usize = 100_000;

fn main() {
    divan::main();
}

fn jsonl() -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..ITEMS {
        let _ = writeln!(
            out,
            r#"{{"id":{i},"name":"item-{i}","score":{}.5,"tags":["a","b"]}}"#,
            i % 97
        );
    }
    out
}

fn csv() -> Vec<u8> {
    let mut out = b"id,name,score\n".to_vec();
    for i in 0..ITEMS {
        let _ = writeln!(out, "{i},item-{i},{}.5", i % 97);
    }
    out
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
}

fn read(
    store: &Arc<dyn ObjectStore>,
    key: &str,
    config: Value,
    rt: &tokio::runtime::Runtime,
) -> u64 {
    let reader = json!({"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": config});
    let spec =
        ItemReaderSpec::parse(&reader, &json!({"Bucket": "b", "Key": key}), None).expect("spec");
    rt.block_on(async {
        let mut items = Items::open(spec, store.clone(), 0).await.expect("open");
        let mut n = 0;
        while let Some(item) = items.next().await.expect("item") {
            divan::black_box(item);
            n += 1;
        }
        n
    })
}

#[divan::bench]
fn baseline_serde_json_lines(bencher: Bencher) {
    let data = jsonl();
    bencher.counter(ItemsCount::new(ITEMS)).bench(|| {
        let mut n = 0;
        for line in data.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let v: Value = serde_json::from_slice(line).expect("json");
            divan::black_box(v);
            n += 1;
        }
        assert_eq!(n, ITEMS);
    });
}

#[divan::bench]
fn items_jsonl(bencher: Bencher) {
    let store = MemoryStore::new();
    store.insert("b", "items.jsonl", jsonl());
    let store: Arc<dyn ObjectStore> = Arc::new(store);
    let rt = runtime();
    bencher.counter(ItemsCount::new(ITEMS)).bench(|| {
        assert_eq!(
            read(&store, "items.jsonl", json!({"InputType": "JSONL"}), &rt),
            ITEMS as u64
        )
    });
}

#[divan::bench]
fn items_csv(bencher: Bencher) {
    let store = MemoryStore::new();
    store.insert("b", "items.csv", csv());
    let store: Arc<dyn ObjectStore> = Arc::new(store);
    let rt = runtime();
    bencher.counter(ItemsCount::new(ITEMS)).bench(|| {
        assert_eq!(
            read(&store, "items.csv", json!({"InputType": "CSV"}), &rt),
            ITEMS as u64
        )
    });
}
