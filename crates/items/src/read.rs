//! Reading a Distributed Map's items one at a time: [`Items`] pulls an object's bytes a chunk
//! at a time and holds at most the item being read (a Parquet row group), never the object.
//!
//! Items as Step Functions gives them: a JSON or JSON Lines value as it is; a CSV or S3
//! Inventory row as an object of strings keyed by the headers, its keys in the order AWS's
//! Java `HashMap` gives them ([`crate::java`]); a listed object as
//! `{"Etag", "Key", "LastModified" (epoch seconds), "Size", "StorageClass"}`.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::Arc;

use flate2::write::GzDecoder;
use serde_json::{Map, Value};

use crate::error::ItemsError;
use crate::json::{ArrayScanner, Step, parse_element};
use crate::spec::{CsvConfig, Format, ItemReaderSpec, ItemSource, ObjectRef, check_headers};
use crate::store::{ByteStream, ObjectStore};

/// A Distributed Map's items, read in order. [`Items::position`] is how many have been
/// passed; a Map Run that stopped continues with [`Items::open`] at that position.
#[derive(Debug)]
pub struct Items {
    store: Arc<dyn ObjectStore>,
    spec: ItemReaderSpec,
    /// Data files still to read (a manifest's).
    files: VecDeque<(ObjectRef, Format)>,
    current: Option<Reader>,
    /// Listing: where the next page starts; `Some(None)` before the first.
    listing: Option<Listing>,
    listed: VecDeque<Value>,
    position: u64,
}

impl Items {
    /// Opens the items `spec` names and passes over the first `start_at` of them.
    pub async fn open(
        spec: ItemReaderSpec,
        store: Arc<dyn ObjectStore>,
        start_at: u64,
    ) -> Result<Items, ItemsError> {
        let mut items = Items {
            store,
            files: VecDeque::new(),
            current: None,
            listing: None,
            listed: VecDeque::new(),
            position: 0,
            spec,
        };
        match items.spec.source.clone() {
            ItemSource::Listing { .. } => items.listing = Some(Listing::Start),
            ItemSource::Object { object, format } => match format {
                Format::S3Inventory => {
                    items.files = inventory_files(&*items.store, &object).await?
                }
                Format::AthenaManifest { data } => {
                    items.files = athena_files(&*items.store, &object, &data).await?;
                }
                format => items.files.push_back((object, format)),
            },
        }
        while items.position < start_at {
            if let Some(skipped) = items.skip_rows(start_at - items.position).await? {
                if skipped > 0 {
                    items.position += skipped;
                    continue;
                }
            }
            if items.item(false).await?.is_none() {
                break;
            }
        }
        Ok(items)
    }

    /// The next item, `None` after the last (or after `MaxItems`).
    pub async fn next(&mut self) -> Result<Option<Value>, ItemsError> {
        self.item(true).await
    }

    /// How many items have been read or passed over since the first.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// The object bytes held right now (received, not yet made into items): what shows that
    /// an object is streamed, not held.
    pub fn buffered_bytes(&self) -> usize {
        match &self.current {
            Some(Reader::Json(b, _) | Reader::Lines(b) | Reader::Csv { bytes: b, .. }) => {
                b.buf.len()
            }
            #[cfg(feature = "parquet")]
            Some(Reader::Parquet(_)) | None => 0,
            #[cfg(not(feature = "parquet"))]
            None => 0,
        }
    }

    async fn item(&mut self, parse: bool) -> Result<Option<Value>, ItemsError> {
        if self.spec.max_items.is_some_and(|max| self.position >= max) {
            return Ok(None);
        }
        let item = if self.listing.is_some() {
            self.listed_item().await?
        } else {
            loop {
                if self.current.is_none() {
                    let Some((object, format)) = self.files.pop_front() else {
                        return Ok(None);
                    };
                    self.current = Some(Reader::open(&*self.store, object, format).await?);
                }
                let Some(reader) = self.current.as_mut() else {
                    return Ok(None);
                };
                match reader.next(&*self.store, parse).await? {
                    Some(item) => break Some(item),
                    None => self.current = None,
                }
            }
        };
        if item.is_some() {
            self.position += 1;
        }
        Ok(item)
    }

    /// Passes over whole Parquet row groups when the items to skip cover them.
    async fn skip_rows(&mut self, wanted: u64) -> Result<Option<u64>, ItemsError> {
        #[cfg(feature = "parquet")]
        {
            if self.current.is_none() && matches!(self.files.front(), Some((_, Format::Parquet))) {
                if let Some((object, format)) = self.files.pop_front() {
                    self.current = Some(Reader::open(&*self.store, object, format).await?);
                }
            }
            if let Some(Reader::Parquet(p)) = self.current.as_mut() {
                return Ok(p.skip_groups(wanted));
            }
        }
        let _ = wanted;
        Ok(None)
    }

    async fn listed_item(&mut self) -> Result<Option<Value>, ItemsError> {
        loop {
            if let Some(item) = self.listed.pop_front() {
                return Ok(Some(item));
            }
            let token = match &self.listing {
                Some(Listing::Start) => None,
                Some(Listing::Next(t)) => Some(t.clone()),
                _ => return Ok(None),
            };
            let ItemSource::Listing { bucket, prefix } = &self.spec.source else {
                return Ok(None);
            };
            let page = self
                .store
                .list(bucket, prefix.as_deref(), token.as_deref())
                .await
                .map_err(ItemsError::reading)?;
            self.listed = page.objects.iter().map(listed_object).collect();
            self.listing = Some(match page.next {
                Some(next) => Listing::Next(next),
                None => Listing::Done,
            });
        }
    }
}

/// Where a listing is.
#[derive(Debug)]
enum Listing {
    Start,
    Next(String),
    Done,
}

/// A listed object as Step Functions gives it to a child: `LastModified` in epoch seconds.
fn listed_object(o: &stepwise_aws::s3::ListedObject) -> Value {
    let modified = chrono::DateTime::parse_from_rfc3339(&o.last_modified)
        .map(|t| Value::from(t.timestamp()))
        .unwrap_or_else(|_| Value::String(o.last_modified.clone()));
    let mut item = Map::new();
    item.insert("Etag".into(), Value::String(o.etag.clone()));
    item.insert("Key".into(), Value::String(o.key.clone()));
    item.insert("LastModified".into(), modified);
    item.insert("Size".into(), Value::from(o.size));
    item.insert(
        "StorageClass".into(),
        Value::String(o.storage_class.clone().unwrap_or_else(|| "STANDARD".into())),
    );
    Value::Object(item)
}

/// An object's bytes as they arrive, gunzipped when the object is gzip.
#[derive(Debug)]
struct Bytes {
    stream: Box<dyn ByteStream>,
    gunzip: Option<GzDecoder<Vec<u8>>>,
    /// Received and not yet used.
    buf: Vec<u8>,
    eof: bool,
}

impl Bytes {
    async fn open(store: &dyn ObjectStore, object: &ObjectRef) -> Result<Bytes, ItemsError> {
        let stream = store
            .get(
                &object.bucket,
                &object.key,
                object.version_id.as_deref(),
                None,
            )
            .await
            .map_err(ItemsError::reading)?;
        Ok(Bytes {
            stream,
            gunzip: object
                .key
                .ends_with(".gz")
                .then(|| GzDecoder::new(Vec::new())),
            buf: Vec::new(),
            eof: false,
        })
    }

    /// Appends the next chunk to `buf`; false at the end.
    async fn fill(&mut self) -> Result<bool, ItemsError> {
        if self.eof {
            return Ok(false);
        }
        let chunk = self
            .stream
            .next_chunk()
            .await
            .map_err(ItemsError::reading)?;
        match (chunk, &mut self.gunzip) {
            (Some(c), None) => self.buf.extend_from_slice(&c),
            (Some(c), Some(gz)) => {
                gz.write_all(&c).map_err(|e| {
                    ItemsError::reader(format!("The object is not valid gzip: {e}"))
                })?;
                self.buf.append(gz.get_mut());
            }
            (None, gz) => {
                if let Some(gz) = gz {
                    gz.try_finish().map_err(|e| {
                        ItemsError::reader(format!("The object is not valid gzip: {e}"))
                    })?;
                    self.buf.append(gz.get_mut());
                }
                self.eof = true;
            }
        }
        Ok(true)
    }

    fn consume(&mut self, n: usize) {
        self.buf.drain(..n);
    }
}

/// Reads one object's items.
#[derive(Debug)]
enum Reader {
    Json(Bytes, ArrayScanner),
    Lines(Bytes),
    Csv {
        bytes: Bytes,
        delimiter: u8,
        /// Header names and the order their keys are written in.
        headers: Option<(Vec<String>, Vec<usize>)>,
    },
    #[cfg(feature = "parquet")]
    Parquet(crate::parquet::ParquetRows),
}

impl Reader {
    async fn open(
        store: &dyn ObjectStore,
        object: ObjectRef,
        format: Format,
    ) -> Result<Reader, ItemsError> {
        Ok(match format {
            Format::Json { items_pointer } => Reader::Json(
                Bytes::open(store, &object).await?,
                ArrayScanner::new(items_pointer.as_deref()),
            ),
            Format::JsonLines => Reader::Lines(Bytes::open(store, &object).await?),
            Format::Csv(CsvConfig { headers, delimiter }) => Reader::Csv {
                bytes: Bytes::open(store, &object).await?,
                delimiter,
                headers: headers.map(|h| {
                    let order = crate::java::hash_map_order(&h);
                    (h, order)
                }),
            },
            #[cfg(feature = "parquet")]
            Format::Parquet => {
                Reader::Parquet(crate::parquet::ParquetRows::open(store, object).await?)
            }
            #[cfg(not(feature = "parquet"))]
            Format::Parquet => {
                return Err(ItemsError::reader(
                    "This Stepwise was built without Parquet support (feature `parquet`)",
                ));
            }
            Format::S3Inventory | Format::AthenaManifest { .. } => {
                return Err(ItemsError::reader("A manifest cannot list manifests"));
            }
        })
    }

    /// The next item (`Value::Null` in place of it when `parse` is false), `None` at the end.
    async fn next(
        &mut self,
        store: &dyn ObjectStore,
        parse: bool,
    ) -> Result<Option<Value>, ItemsError> {
        let _ = store;
        match self {
            Reader::Json(bytes, scanner) => loop {
                match scanner.next(&bytes.buf, bytes.eof) {
                    Step::NeedMore => {
                        let keep = scanner.keep_from();
                        bytes.consume(keep);
                        scanner.shift(keep);
                        bytes.fill().await?;
                    }
                    Step::Element { start, end } => {
                        let item = if parse {
                            parse_element(&bytes.buf[start..end]).map_err(ItemsError::reader)?
                        } else {
                            Value::Null
                        };
                        return Ok(Some(item));
                    }
                    Step::End => return Ok(None),
                    Step::Invalid(cause) => return Err(ItemsError::reader(cause)),
                }
            },
            Reader::Lines(bytes) => loop {
                let Some(line) = next_line(bytes).await? else {
                    return Ok(None);
                };
                let text = line.trim_ascii();
                if text.is_empty() {
                    continue;
                }
                if !parse {
                    return Ok(Some(Value::Null));
                }
                return serde_json::from_slice(text).map(Some).map_err(|e| {
                    ItemsError::reader(format!(
                        "The JSONL object has a line that is not valid JSON: {e}"
                    ))
                });
            },
            Reader::Csv {
                bytes,
                delimiter,
                headers,
            } => loop {
                let Some(fields) = next_record(bytes, *delimiter).await? else {
                    return Ok(None);
                };
                if fields.is_empty() {
                    continue;
                }
                let Some((names, order)) = headers.as_ref() else {
                    check_headers(&fields)?;
                    let order = crate::java::hash_map_order(&fields);
                    *headers = Some((fields, order));
                    continue;
                };
                if !parse {
                    return Ok(Some(Value::Null));
                }
                return Ok(Some(csv_item(names, order, fields)));
            },
            #[cfg(feature = "parquet")]
            Reader::Parquet(rows) => rows.next(store, parse).await,
        }
    }
}

/// A row as an object: each header's field, `""` for those the row lacks; extra fields
/// dropped.
pub(crate) fn csv_item(names: &[String], order: &[usize], mut fields: Vec<String>) -> Value {
    fields.resize(names.len().max(fields.len()), String::new());
    let mut item = Map::new();
    for &i in order {
        item.insert(
            names[i].clone(),
            Value::String(std::mem::take(&mut fields[i])),
        );
    }
    Value::Object(item)
}

async fn next_record(bytes: &mut Bytes, delimiter: u8) -> Result<Option<Vec<String>>, ItemsError> {
    loop {
        match crate::csv::record(&bytes.buf, delimiter, bytes.eof) {
            Ok(Some((fields, used))) => {
                bytes.consume(used);
                return Ok(Some(fields));
            }
            Ok(None) => return Ok(None),
            Err(crate::csv::Incomplete::NeedMore) => {
                bytes.fill().await?;
            }
        }
    }
}

/// The next line (without its newline), `None` at the end.
async fn next_line(bytes: &mut Bytes) -> Result<Option<Vec<u8>>, ItemsError> {
    let mut searched = 0;
    loop {
        if let Some(at) = bytes.buf[searched..].iter().position(|&b| b == b'\n') {
            let end = searched + at;
            let line = bytes.buf[..end].to_vec();
            bytes.consume(end + 1);
            return Ok(Some(line));
        }
        searched = bytes.buf.len();
        if bytes.eof {
            if bytes.buf.is_empty() {
                return Ok(None);
            }
            let line = std::mem::take(&mut bytes.buf);
            return Ok(Some(line));
        }
        bytes.fill().await?;
    }
}

/// The CSV inventory files an S3 Inventory `manifest.json` lists, in its order, read with
/// the headers of its `fileSchema`.
async fn inventory_files(
    store: &dyn ObjectStore,
    manifest: &ObjectRef,
) -> Result<VecDeque<(ObjectRef, Format)>, ItemsError> {
    let text = read_small(store, manifest).await?;
    let doc: Value = serde_json::from_slice(&text)
        .map_err(|e| ItemsError::reader(format!("The manifest is not valid JSON: {e}")))?;
    let format = doc
        .get("fileFormat")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !format.eq_ignore_ascii_case("CSV") {
        return Err(ItemsError::reader(format!(
            "The S3 inventory's fileFormat is {format}: only CSV inventories can be read"
        )));
    }
    let headers: Vec<String> = doc
        .get("fileSchema")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .split(',')
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .collect();
    if headers.is_empty() {
        return Err(ItemsError::reader(
            "The S3 inventory's manifest has no fileSchema",
        ));
    }
    let bucket = doc
        .get("destinationBucket")
        .and_then(Value::as_str)
        .map(|b| b.strip_prefix("arn:aws:s3:::").unwrap_or(b).to_owned())
        .unwrap_or_else(|| manifest.bucket.clone());
    let files = doc
        .get("files")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    files
        .iter()
        .map(|f| {
            let key = f.get("key").and_then(Value::as_str).ok_or_else(|| {
                ItemsError::reader("The S3 inventory's manifest lists a file without a key")
            })?;
            let object = ObjectRef {
                bucket: bucket.clone(),
                key: key.to_owned(),
                version_id: None,
            };
            let csv = CsvConfig {
                headers: Some(headers.clone()),
                delimiter: b',',
            };
            Ok((object, Format::Csv(csv)))
        })
        .collect()
}

/// The data files an Athena `UNLOAD` manifest lists (one `s3://bucket/key` a line).
async fn athena_files(
    store: &dyn ObjectStore,
    manifest: &ObjectRef,
    data: &Format,
) -> Result<VecDeque<(ObjectRef, Format)>, ItemsError> {
    let text = read_small(store, manifest).await?;
    String::from_utf8_lossy(&text)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|uri| {
            let (bucket, key) = uri
                .strip_prefix("s3://")
                .and_then(|r| r.split_once('/'))
                .filter(|(b, k)| !b.is_empty() && !k.is_empty())
                .ok_or_else(|| {
                    ItemsError::reader(format!(
                        "The Athena manifest lists '{uri}', which is not an s3://bucket/key URI"
                    ))
                })?;
            let object = ObjectRef {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                version_id: None,
            };
            Ok((object, data.clone()))
        })
        .collect()
}

/// The most a manifest may hold (it lists files; it is not data).
const MAX_MANIFEST_BYTES: usize = 64 * 1024 * 1024;

async fn read_small(store: &dyn ObjectStore, object: &ObjectRef) -> Result<Vec<u8>, ItemsError> {
    let mut bytes = Bytes::open(store, object).await?;
    while bytes.fill().await? {
        if bytes.buf.len() > MAX_MANIFEST_BYTES {
            return Err(ItemsError::reader("The manifest is larger than 64 MiB"));
        }
    }
    Ok(bytes.buf)
}
