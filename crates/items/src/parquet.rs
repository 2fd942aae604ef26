//! Parquet rows as items, a row group at a time: the footer is read with two ranged GETs,
//! then each row group's column chunks with one, so memory holds one row group's compressed
//! bytes (and its pages as they are decoded), never the file. Each row becomes an object
//! keyed by its columns, values typed as the parquet crate's JSON conversion gives them.

use std::io::Cursor;
use std::ops::Range;

use bytes::Bytes;
use parquet::file::metadata::{FooterTail, ParquetMetaData, ParquetMetaDataReader};
use parquet::file::reader::{ChunkReader, Length};
use parquet::file::serialized_reader::{ReadOptionsBuilder, SerializedFileReader};
use parquet::record::reader::RowIter;
use serde_json::Value;

use crate::error::ItemsError;
use crate::spec::ObjectRef;
use crate::store::ObjectStore;

const FOOTER: u64 = 8;

/// The rows of one Parquet object.
pub struct ParquetRows {
    object: ObjectRef,
    size: u64,
    /// The footer (metadata and its 8-byte tail) and where it starts.
    footer: (u64, Bytes),
    metadata: ParquetMetaData,
    /// The next row group to open.
    group: usize,
    /// Rows of the current row group still to pass over before the first wanted.
    rows: Option<RowIter<'static>>,
    /// Rows to pass over at the start of the next row group opened.
    skip_in_group: u64,
}

impl std::fmt::Debug for ParquetRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetRows")
            .field("object", &self.object)
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

fn failed(e: impl std::fmt::Display) -> ItemsError {
    ItemsError::reader(format!("The Parquet object cannot be read: {e}"))
}

async fn range(
    store: &dyn ObjectStore,
    object: &ObjectRef,
    r: Range<u64>,
) -> Result<Bytes, ItemsError> {
    let mut stream = store
        .get(
            &object.bucket,
            &object.key,
            object.version_id.as_deref(),
            Some(r.clone()),
        )
        .await
        .map_err(ItemsError::reading)?;
    let mut data = Vec::with_capacity((r.end - r.start) as usize);
    while let Some(chunk) = stream.next_chunk().await.map_err(ItemsError::reading)? {
        data.extend_from_slice(&chunk);
    }
    if data.len() as u64 != r.end - r.start {
        return Err(failed(format!(
            "S3 answered {} bytes for a range of {}",
            data.len(),
            r.end - r.start
        )));
    }
    Ok(Bytes::from(data))
}

impl ParquetRows {
    pub async fn open(
        store: &dyn ObjectStore,
        object: ObjectRef,
    ) -> Result<ParquetRows, ItemsError> {
        let size = store
            .size(&object.bucket, &object.key, object.version_id.as_deref())
            .await
            .map_err(ItemsError::reading)?;
        if size < FOOTER + 4 {
            return Err(failed("it is too small to be Parquet"));
        }
        let tail = range(store, &object, size - FOOTER..size).await?;
        let tail: [u8; 8] = tail[..].try_into().map_err(failed)?;
        let length = FooterTail::try_new(&tail)
            .map_err(failed)?
            .metadata_length() as u64;
        if length + FOOTER > size {
            return Err(failed("its footer is larger than the file"));
        }
        let start = size - FOOTER - length;
        let footer = range(store, &object, start..size).await?;
        let metadata =
            ParquetMetaDataReader::decode_metadata(&footer[..length as usize]).map_err(failed)?;
        Ok(ParquetRows {
            object,
            size,
            footer: (start, footer),
            metadata,
            group: 0,
            rows: None,
            skip_in_group: 0,
        })
    }

    /// Passes over whole row groups (and notes the rows to pass in the next one) for up to
    /// `wanted` rows, without reading them; how many rows that passed.
    pub fn skip_groups(&mut self, wanted: u64) -> Option<u64> {
        if self.rows.is_some() || self.skip_in_group > 0 {
            return None;
        }
        let mut passed = 0;
        while let Some(g) = self.metadata.row_groups().get(self.group) {
            let rows = g.num_rows().max(0) as u64;
            if passed + rows > wanted {
                // The rest are passed over as the group is read.
                self.skip_in_group = wanted - passed;
                return Some(wanted);
            }
            passed += rows;
            self.group += 1;
        }
        Some(passed)
    }

    pub async fn next(
        &mut self,
        store: &dyn ObjectStore,
        parse: bool,
    ) -> Result<Option<Value>, ItemsError> {
        loop {
            if let Some(rows) = self.rows.as_mut() {
                match rows.next() {
                    Some(row) => {
                        let row = row.map_err(failed)?;
                        if self.skip_in_group > 0 {
                            self.skip_in_group -= 1;
                            continue;
                        }
                        return Ok(Some(if parse {
                            row.to_json_value()
                        } else {
                            Value::Null
                        }));
                    }
                    None => self.rows = None,
                }
            }
            if self.group >= self.metadata.num_row_groups() {
                return Ok(None);
            }
            // Only the fields it needs are borrowed across the read: the row iterator is not
            // `Sync`, and a future holding `&self` could not be sent between threads.
            let rows = open_group(
                &self.object,
                self.size,
                &self.footer,
                &self.metadata,
                store,
                self.group,
            )
            .await?;
            self.rows = Some(rows);
            self.group += 1;
        }
    }
}

/// Reads row group `group` (its bytes by one ranged GET) and iterates over its rows.
async fn open_group(
    object: &ObjectRef,
    size: u64,
    footer: &(u64, Bytes),
    metadata: &ParquetMetaData,
    store: &dyn ObjectStore,
    group: usize,
) -> Result<RowIter<'static>, ItemsError> {
    let meta = metadata.row_group(group);
    let mut span: Option<Range<u64>> = None;
    for column in meta.columns() {
        let start = column
            .dictionary_page_offset()
            .filter(|&d| d > 0)
            .map_or(column.data_page_offset(), |d| {
                d.min(column.data_page_offset())
            })
            .max(0) as u64;
        let end = start + column.compressed_size().max(0) as u64;
        span = Some(match span {
            Some(s) => s.start.min(start)..s.end.max(end),
            None => start..end,
        });
    }
    let span = span.unwrap_or(0..0);
    let data = range(store, object, span.clone()).await?;
    let sparse = Sparse {
        len: size,
        regions: vec![(span.start, data), footer.clone()],
    };
    let options = ReadOptionsBuilder::new()
        .with_predicate(Box::new(move |_, i| i == group))
        .build();
    let reader = SerializedFileReader::new_with_options(sparse, options).map_err(failed)?;
    Ok(RowIter::from_file_into(Box::new(reader)))
}

/// The parts of a file that were fetched: a row group's bytes and the footer.
struct Sparse {
    len: u64,
    regions: Vec<(u64, Bytes)>,
}

impl Sparse {
    /// The bytes from `start` (`length` of them, else to the end of the region that holds
    /// them). Regions can touch (a row group's last byte is just before the footer, as pyarrow
    /// writes files), so a range is looked for in the region that holds all of it.
    fn slice(&self, start: u64, length: Option<usize>) -> parquet::errors::Result<Bytes> {
        let wanted = length.unwrap_or(1).max(1) as u64;
        for (at, data) in &self.regions {
            let end = at + data.len() as u64;
            if start >= *at && start + wanted <= end {
                let from = (start - at) as usize;
                let until = length.map_or(data.len(), |n| from + n);
                return Ok(data.slice(from..until));
            }
        }
        if length == Some(0) {
            return Ok(Bytes::new());
        }
        Err(parquet::errors::ParquetError::General(format!(
            "bytes at {start} were not fetched"
        )))
    }
}

impl Length for Sparse {
    fn len(&self) -> u64 {
        self.len
    }
}

impl ChunkReader for Sparse {
    type T = Cursor<Bytes>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        Ok(Cursor::new(self.slice(start, None)?))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        self.slice(start, Some(length))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_is_read_from_the_region_that_holds_it_when_regions_touch() {
        // A row group's bytes end where the footer starts (pyarrow's files).
        let sparse = Sparse {
            len: 18,
            regions: vec![
                (10, Bytes::from_static(b"group")),
                (15, Bytes::from_static(b"END")),
            ],
        };
        assert_eq!(
            sparse.get_bytes(15, 3).ok(),
            Some(Bytes::from_static(b"END"))
        );
        assert_eq!(
            sparse.get_bytes(12, 3).ok(),
            Some(Bytes::from_static(b"oup"))
        );
        let mut rest = Vec::new();
        std::io::Read::read_to_end(&mut sparse.get_read(15).expect("read"), &mut rest)
            .expect("bytes");
        assert_eq!(rest, b"END");
        assert!(sparse.get_bytes(14, 2).is_err(), "across two regions");
        assert!(sparse.get_bytes(2, 1).is_err(), "not fetched");
    }
}
