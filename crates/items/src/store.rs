//! Where items are read from and results written to: S3 through `stepwise_aws::s3`, or an
//! in-memory bucket set for tests and benchmarks. Both answer S3's way (a missing key is
//! `S3.NoSuchKeyException`), so readers and writers cannot tell them apart.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use stepwise_aws::AwsError;
use stepwise_aws::s3::{ListPage, ListedObject, ObjectBody, S3};

/// A boxed future, so that stores can be used as `dyn ObjectStore`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An object's bytes, a chunk at a time.
pub trait ByteStream: Send + Debug {
    /// The next chunk; `None` at the end.
    fn next_chunk(&mut self) -> BoxFuture<'_, Result<Option<Vec<u8>>, AwsError>>;
}

/// The S3 calls a Distributed Map makes.
pub trait ObjectStore: Send + Sync + Debug {
    /// GetObject, all of it or the bytes of `range`.
    fn get<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        version: Option<&'a str>,
        range: Option<Range<u64>>,
    ) -> BoxFuture<'a, Result<Box<dyn ByteStream>, AwsError>>;
    /// HeadObject: the object's size.
    fn size<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        version: Option<&'a str>,
    ) -> BoxFuture<'a, Result<u64, AwsError>>;
    /// ListObjectsV2: one page.
    fn list<'a>(
        &'a self,
        bucket: &'a str,
        prefix: Option<&'a str>,
        token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<ListPage, AwsError>>;
    /// PutObject.
    fn put<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        body: Vec<u8>,
    ) -> BoxFuture<'a, Result<(), AwsError>>;
    /// CreateMultipartUpload: the upload id.
    fn start_upload<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<String, AwsError>>;
    /// UploadPart: the part's ETag.
    fn upload_part<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        upload: &'a str,
        number: u32,
        body: Vec<u8>,
    ) -> BoxFuture<'a, Result<String, AwsError>>;
    /// CompleteMultipartUpload.
    fn complete_upload<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        upload: &'a str,
        etags: &'a [String],
    ) -> BoxFuture<'a, Result<(), AwsError>>;
    /// AbortMultipartUpload.
    fn abort_upload<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        upload: &'a str,
    ) -> BoxFuture<'a, Result<(), AwsError>>;
}

impl ByteStream for ObjectBody {
    fn next_chunk(&mut self) -> BoxFuture<'_, Result<Option<Vec<u8>>, AwsError>> {
        Box::pin(self.chunk())
    }
}

const CONTENT_TYPE: &str = "application/json";

impl ObjectStore for S3 {
    fn get<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        version: Option<&'a str>,
        range: Option<Range<u64>>,
    ) -> BoxFuture<'a, Result<Box<dyn ByteStream>, AwsError>> {
        Box::pin(async move {
            let body = self.get_object(bucket, key, version, range).await?;
            Ok(Box::new(body) as Box<dyn ByteStream>)
        })
    }

    fn size<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        version: Option<&'a str>,
    ) -> BoxFuture<'a, Result<u64, AwsError>> {
        Box::pin(self.object_size(bucket, key, version))
    }

    fn list<'a>(
        &'a self,
        bucket: &'a str,
        prefix: Option<&'a str>,
        token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<ListPage, AwsError>> {
        Box::pin(self.list_objects_v2(bucket, prefix, None, token))
    }

    fn put<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        body: Vec<u8>,
    ) -> BoxFuture<'a, Result<(), AwsError>> {
        Box::pin(self.put_object(bucket, key, body, CONTENT_TYPE))
    }

    fn start_upload<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<String, AwsError>> {
        Box::pin(self.create_multipart_upload(bucket, key, CONTENT_TYPE))
    }

    fn upload_part<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        upload: &'a str,
        number: u32,
        body: Vec<u8>,
    ) -> BoxFuture<'a, Result<String, AwsError>> {
        Box::pin(S3::upload_part(self, bucket, key, upload, number, body))
    }

    fn complete_upload<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        upload: &'a str,
        etags: &'a [String],
    ) -> BoxFuture<'a, Result<(), AwsError>> {
        Box::pin(self.complete_multipart_upload(bucket, key, upload, etags))
    }

    fn abort_upload<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        upload: &'a str,
    ) -> BoxFuture<'a, Result<(), AwsError>> {
        Box::pin(self.abort_multipart_upload(bucket, key, upload))
    }
}

/// Objects by bucket and key.
type Objects = BTreeMap<(String, String), Arc<Vec<u8>>>;

/// Buckets in memory (tests, benchmarks): objects, and the parts of uploads under way.
#[derive(Debug, Default)]
pub struct MemoryStore {
    objects: Mutex<Objects>,
    uploads: Mutex<BTreeMap<String, Vec<Vec<u8>>>>,
    /// Chunk size of reads (S3 answers in chunks too).
    chunk: usize,
    /// Keys a listing page holds at most (S3: 1,000).
    page: usize,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore {
            chunk: 64 * 1024,
            page: 1000,
            ..MemoryStore::default()
        }
    }

    /// Reads come in chunks of `bytes` (to test readers at chunk boundaries).
    pub fn with_chunk(mut self, bytes: usize) -> MemoryStore {
        self.chunk = bytes.max(1);
        self
    }

    pub fn insert(&self, bucket: &str, key: &str, body: impl Into<Vec<u8>>) {
        self.lock()
            .insert((bucket.into(), key.into()), Arc::new(body.into()));
    }

    pub fn object(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        self.lock()
            .get(&(bucket.into(), key.into()))
            .map(|b| b.to_vec())
    }

    /// Every key in `bucket`, in order.
    pub fn keys(&self, bucket: &str) -> Vec<String> {
        self.lock()
            .keys()
            .filter(|(b, _)| b == bucket)
            .map(|(_, k)| k.clone())
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Objects> {
        self.objects.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn missing(key: &str) -> AwsError {
        AwsError::new(
            "S3.NoSuchKeyException",
            format!(
                "The specified key does not exist. (Service: S3, Status Code: 404, Key: {key})"
            ),
        )
    }
}

#[derive(Debug)]
struct MemoryBody {
    data: Arc<Vec<u8>>,
    at: usize,
    end: usize,
    chunk: usize,
}

impl ByteStream for MemoryBody {
    fn next_chunk(&mut self) -> BoxFuture<'_, Result<Option<Vec<u8>>, AwsError>> {
        let next = (self.at < self.end).then(|| {
            let until = (self.at + self.chunk).min(self.end);
            let c = self.data[self.at..until].to_vec();
            self.at = until;
            c
        });
        Box::pin(std::future::ready(Ok(next)))
    }
}

impl ObjectStore for MemoryStore {
    fn get<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        _version: Option<&'a str>,
        range: Option<Range<u64>>,
    ) -> BoxFuture<'a, Result<Box<dyn ByteStream>, AwsError>> {
        let found = self.lock().get(&(bucket.into(), key.into())).cloned();
        let chunk = self.chunk;
        Box::pin(async move {
            let data = found.ok_or_else(|| MemoryStore::missing(key))?;
            let len = data.len();
            let (at, end) = match range {
                Some(r) => ((r.start as usize).min(len), (r.end as usize).min(len)),
                None => (0, len),
            };
            Ok(Box::new(MemoryBody {
                data,
                at,
                end,
                chunk,
            }) as Box<dyn ByteStream>)
        })
    }

    fn size<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        _version: Option<&'a str>,
    ) -> BoxFuture<'a, Result<u64, AwsError>> {
        let found = self
            .lock()
            .get(&(bucket.into(), key.into()))
            .map(|d| d.len());
        Box::pin(async move {
            found
                .map(|n| n as u64)
                .ok_or_else(|| MemoryStore::missing(key))
        })
    }

    fn list<'a>(
        &'a self,
        bucket: &'a str,
        prefix: Option<&'a str>,
        token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<ListPage, AwsError>> {
        let prefix = prefix.unwrap_or_default();
        let mut objects: Vec<ListedObject> = self
            .lock()
            .iter()
            .filter(|((b, k), _)| b == bucket && k.starts_with(prefix))
            .filter(|((_, k), _)| token.is_none_or(|t| k.as_str() > t))
            .take(self.page + 1)
            .map(|((_, k), v)| ListedObject {
                key: k.clone(),
                size: v.len() as u64,
                etag: "\"d41d8cd98f00b204e9800998ecf8427e\"".into(),
                last_modified: "2024-01-01T00:00:00.000Z".into(),
                storage_class: Some("STANDARD".into()),
            })
            .collect();
        let next = (objects.len() > self.page).then(|| {
            objects.truncate(self.page);
            objects.last().map(|o| o.key.clone()).unwrap_or_default()
        });
        Box::pin(std::future::ready(Ok(ListPage { objects, next })))
    }

    fn put<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        body: Vec<u8>,
    ) -> BoxFuture<'a, Result<(), AwsError>> {
        self.insert(bucket, key, body);
        Box::pin(std::future::ready(Ok(())))
    }

    fn start_upload<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<String, AwsError>> {
        let id = format!("{bucket}/{key}");
        self.uploads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), Vec::new());
        Box::pin(std::future::ready(Ok(id)))
    }

    fn upload_part<'a>(
        &'a self,
        _bucket: &'a str,
        _key: &'a str,
        upload: &'a str,
        number: u32,
        body: Vec<u8>,
    ) -> BoxFuture<'a, Result<String, AwsError>> {
        let mut uploads = self.uploads.lock().unwrap_or_else(|e| e.into_inner());
        let answer = match uploads.get_mut(upload) {
            Some(parts) if parts.len() + 1 == number as usize => {
                parts.push(body);
                Ok(format!("\"part{number}\""))
            }
            _ => Err(AwsError::new("S3.NoSuchUploadException", "no such upload")),
        };
        Box::pin(std::future::ready(answer))
    }

    fn complete_upload<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        upload: &'a str,
        etags: &'a [String],
    ) -> BoxFuture<'a, Result<(), AwsError>> {
        let parts = self
            .uploads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(upload);
        let answer = match parts {
            Some(parts) if parts.len() == etags.len() => {
                self.insert(bucket, key, parts.concat());
                Ok(())
            }
            _ => Err(AwsError::new("S3.NoSuchUploadException", "no such upload")),
        };
        Box::pin(std::future::ready(answer))
    }

    fn abort_upload<'a>(
        &'a self,
        _bucket: &'a str,
        _key: &'a str,
        upload: &'a str,
    ) -> BoxFuture<'a, Result<(), AwsError>> {
        self.uploads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(upload);
        Box::pin(std::future::ready(Ok(())))
    }
}
