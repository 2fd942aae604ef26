//! `ItemBatcher`: items grouped into child inputs `{"BatchInput": ..., "Items": [...]}` (no
//! `BatchInput` key when the batcher has none), each batch holding at most
//! `MaxItemsPerBatch` items and, as compact JSON, at most `MaxInputBytesPerBatch` bytes.
//! The items are the ones `ItemSelector` made (applied to each item first). Pure: the engine
//! batches a Map's items with it, and so will the runtime's Map Run coordinator. An error is
//! the cause of a `States.Runtime` failure.

use serde_json::{Map, Value};

/// The most `MaxInputBytesPerBatch` may be (256 KiB, a child's input limit).
pub const MAX_INPUT_BYTES_LIMIT: u64 = 256 * 1024;

/// A Map's `ItemBatcher`, its values evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemBatcherSpec {
    pub max_items: Option<u64>,
    pub max_bytes: Option<u64>,
    pub batch_input: Option<Value>,
}

impl ItemBatcherSpec {
    /// From the numbers `MaxItemsPerBatch(Path)` and `MaxInputBytesPerBatch(Path)` came to
    /// and the evaluated `BatchInput`.
    pub fn new(
        max_items: Option<i64>,
        max_bytes: Option<i64>,
        batch_input: Option<Value>,
    ) -> Result<ItemBatcherSpec, String> {
        let positive = |n: Option<i64>, name: &str| match n {
            Some(n) if n <= 0 => Err(format!("field {name} must be positive")),
            n => Ok(n.map(|n| n as u64)),
        };
        let max_items = positive(max_items, "MaxItemsPerBatch")?;
        let max_bytes =
            positive(max_bytes, "MaxInputBytesPerBatch")?.map(|b| b.min(MAX_INPUT_BYTES_LIMIT));
        if max_items.is_none() && max_bytes.is_none() {
            return Err(
                "The ItemBatcher must have MaxItemsPerBatch or MaxInputBytesPerBatch".into(),
            );
        }
        Ok(ItemBatcherSpec {
            max_items,
            max_bytes,
            batch_input,
        })
    }
}

/// Builds batches from items given one at a time.
#[derive(Debug)]
pub struct Batcher {
    spec: ItemBatcherSpec,
    items: Vec<Value>,
    /// The size of the batch input with the items so far.
    bytes: u64,
    /// The size of the batch input with no items.
    empty: u64,
}

fn size(v: &Value) -> u64 {
    serde_json::to_vec(v).map_or(0, |b| b.len() as u64)
}

impl Batcher {
    pub fn new(spec: ItemBatcherSpec) -> Batcher {
        let empty = size(&batch(spec.batch_input.as_ref(), Vec::new()));
        Batcher {
            spec,
            items: Vec::new(),
            bytes: empty,
            empty,
        }
    }

    /// Adds an item; answers the batch it closed, if it did not fit in the one being built.
    /// An item too large for any batch is an error.
    pub fn push(&mut self, item: Value) -> Result<Option<Value>, String> {
        let item_bytes = size(&item);
        if let Some(max) = self.spec.max_bytes {
            if self.empty + item_bytes > max {
                return Err(format!(
                    "An item of {item_bytes} bytes does not fit in a batch of at most {max} \
                     bytes (MaxInputBytesPerBatch)"
                ));
            }
        }
        let comma = u64::from(!self.items.is_empty());
        let full_by_count = self
            .spec
            .max_items
            .is_some_and(|max| self.items.len() as u64 >= max);
        let full_by_size = self
            .spec
            .max_bytes
            .is_some_and(|max| self.bytes + comma + item_bytes > max);
        let closed = if !self.items.is_empty() && (full_by_count || full_by_size) {
            self.finish()
        } else {
            None
        };
        self.bytes += u64::from(!self.items.is_empty()) + item_bytes;
        self.items.push(item);
        Ok(closed)
    }

    /// The batch being built, if it has items.
    pub fn finish(&mut self) -> Option<Value> {
        if self.items.is_empty() {
            return None;
        }
        self.bytes = self.empty;
        Some(batch(
            self.spec.batch_input.as_ref(),
            std::mem::take(&mut self.items),
        ))
    }
}

/// A child's input for a batch.
pub fn batch(batch_input: Option<&Value>, items: Vec<Value>) -> Value {
    let mut input = Map::new();
    if let Some(b) = batch_input {
        input.insert("BatchInput".into(), b.clone());
    }
    input.insert("Items".into(), Value::Array(items));
    Value::Object(input)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn all(spec: ItemBatcherSpec, items: Vec<Value>) -> Result<Vec<Value>, String> {
        let mut b = Batcher::new(spec);
        let mut out = Vec::new();
        for i in items {
            out.extend(b.push(i)?);
        }
        out.extend(b.finish());
        Ok(out)
    }

    #[test]
    fn batches_by_count_with_batch_input_first_as_aws_recorded() {
        let spec = ItemBatcherSpec::new(Some(2), Some(150_000), Some(json!({"T": "x"})));
        let got = all(spec.expect("spec"), vec![json!(1), json!(2), json!(3)]);
        assert_eq!(
            got.map(|v| v.iter().map(|b| b.to_string()).collect::<Vec<_>>()),
            Ok(vec![
                r#"{"BatchInput":{"T":"x"},"Items":[1,2]}"#.to_owned(),
                r#"{"BatchInput":{"T":"x"},"Items":[3]}"#.to_owned()
            ])
        );
    }

    #[test]
    fn batches_by_bytes_never_exceed_the_limit() {
        // {"Items":[]} is 12 bytes; "aaaa" is 6.
        let spec = ItemBatcherSpec::new(None, Some(12 + 6 + 1 + 6), None).expect("spec");
        let items = vec![json!("aaaa"); 5];
        let got = all(spec.clone(), items).expect("batches");
        assert_eq!(got.len(), 3);
        assert!(got.iter().all(|b| size(b) <= 25));
        assert_eq!(got[0], json!({"Items": ["aaaa", "aaaa"]}));
        let e = all(spec, vec![json!("x".repeat(100))]).expect_err("too large");
        assert!(e.contains("MaxInputBytesPerBatch"), "{e}");
    }

    #[test]
    fn limits_must_be_positive_and_one_given() {
        assert!(ItemBatcherSpec::new(Some(0), None, None).is_err());
        assert!(ItemBatcherSpec::new(None, Some(-1), None).is_err());
        assert!(ItemBatcherSpec::new(None, None, None).is_err());
        let capped = ItemBatcherSpec::new(None, Some(1 << 30), None).map(|s| s.max_bytes);
        assert_eq!(capped, Ok(Some(MAX_INPUT_BYTES_LIMIT)));
    }
}
