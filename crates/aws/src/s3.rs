//! S3 object IO for what the Task model path cannot carry: a Distributed Map's items and
//! results. Objects are streamed (GetObject, whole or by byte range) instead of read into one
//! answer capped at a Task's 256 KiB; listings come a page at a time (ListObjectsV2); results
//! go up whole (PutObject) or in parts (multipart upload).
//!
//! Requests are signed and addressed as the `aws-sdk:s3:*` Tasks' are (path-style, the
//! endpoint configured for `s3` or AWS's), and a refusal is named as the SDK names it
//! (`S3.NoSuchKeyException`, with the service's message, status and request id as its cause).
//! What a refusal means to a Map Run (`States.ItemReaderFailed`, ...) is the caller's business.

use std::ops::Range;
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::client::{AwsClient, Naming, Refusal, StaticCredentials, sign_request};
use crate::model::Models;
use crate::protocol::WireResponse;
use crate::{AwsError, Caller};

/// What S3 leaves unencoded in a key's path: the unreserved characters and `/`.
const KEY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// What is left unencoded in a query value.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The most a refusal's body is read (it is a short XML document).
const MAX_ERROR_BYTES: usize = 64 * 1024;

/// How long GetObject waits for S3's answer, and then for each part of the object's body.
const OBJECT_WAIT: Duration = Duration::from_secs(60);

/// How long an object's body may take in all. Its reader takes it at its own pace (a
/// Distributed Map reads its items as its children start, for as long as they run), so the
/// HTTP client's limit on a whole call (60 s by default) must not cut it off; a stalled
/// connection is still given up after [`OBJECT_WAIT`] without data.
const OBJECT_WHOLE: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// S3 calls made for one caller (region and role).
#[derive(Debug, Clone)]
pub struct S3 {
    client: AwsClient,
    region: String,
    role: Option<String>,
    /// [`OBJECT_WAIT`] (shorter in tests).
    object_wait: Duration,
}

/// An object's body, read a chunk at a time.
#[derive(Debug)]
pub struct ObjectBody {
    response: reqwest::Response,
    /// How long one chunk may take to come once asked for.
    wait: Duration,
}

impl ObjectBody {
    /// The next chunk, `None` at the end.
    pub async fn chunk(&mut self) -> Result<Option<Vec<u8>>, AwsError> {
        match tokio::time::timeout(self.wait, self.response.chunk()).await {
            Ok(read) => read
                .map(|c| c.map(|b| b.to_vec()))
                .map_err(|e| sdk_error(format!("Unable to read the object: {e}"))),
            Err(_) => Err(sdk_error(format!(
                "Unable to read the object: no data for {:?}",
                self.wait
            ))),
        }
    }
}

/// One object of a listing, as S3 lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedObject {
    pub key: String,
    pub size: u64,
    /// As S3 gives it, quotes included.
    pub etag: String,
    /// ISO-8601, as S3 gives it.
    pub last_modified: String,
    pub storage_class: Option<String>,
}

/// One page of ListObjectsV2.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListPage {
    pub objects: Vec<ListedObject>,
    /// Where the next page starts, when there is one.
    pub next: Option<String>,
}

impl AwsClient {
    /// S3 calls in `caller`'s region, as its role.
    pub fn s3(&self, caller: &Caller<'_>) -> S3 {
        S3 {
            client: self.clone(),
            region: caller.region.to_owned(),
            role: caller.role.map(str::to_owned),
            object_wait: OBJECT_WAIT,
        }
    }
}

impl S3 {
    /// GetObject: the object's body as a stream, the bytes of `range` only when given.
    pub async fn get_object(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&str>,
        range: Option<Range<u64>>,
    ) -> Result<ObjectBody, AwsError> {
        let mut query = Vec::new();
        if let Some(v) = version {
            query.push(("versionId", v.to_owned()));
        }
        let mut headers = Vec::new();
        if let Some(r) = range.filter(|r| r.end > r.start) {
            headers.push((
                "range".to_owned(),
                format!("bytes={}-{}", r.start, r.end - 1),
            ));
        }
        let sent = self.send_timed(
            "GET",
            bucket,
            Some(key),
            &query,
            headers,
            Vec::new(),
            Some(OBJECT_WHOLE),
        );
        let response = tokio::time::timeout(self.object_wait, sent)
            .await
            .map_err(|_| {
                sdk_error(format!(
                    "Unable to execute HTTP request: no answer in {:?}",
                    self.object_wait
                ))
            })??;
        Ok(ObjectBody {
            response,
            wait: self.object_wait,
        })
    }

    /// HeadObject: the object's size in bytes.
    pub async fn object_size(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&str>,
    ) -> Result<u64, AwsError> {
        let mut query = Vec::new();
        if let Some(v) = version {
            query.push(("versionId", v.to_owned()));
        }
        let response = self
            .send("HEAD", bucket, Some(key), &query, Vec::new(), Vec::new())
            .await?;
        response
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| sdk_error("HeadObject answered without a Content-Length".into()))
    }

    /// ListObjectsV2: one page of the objects under `prefix`, from `token` (the previous
    /// page's `next`).
    pub async fn list_objects_v2(
        &self,
        bucket: &str,
        prefix: Option<&str>,
        start_after: Option<&str>,
        token: Option<&str>,
    ) -> Result<ListPage, AwsError> {
        let mut query = vec![("list-type", "2".to_owned())];
        if let Some(p) = prefix.filter(|p| !p.is_empty()) {
            query.push(("prefix", p.to_owned()));
        }
        if let Some(s) = start_after.filter(|s| !s.is_empty()) {
            query.push(("start-after", s.to_owned()));
        }
        if let Some(t) = token {
            query.push(("continuation-token", t.to_owned()));
        }
        let body = self
            .send_read("GET", bucket, None, &query, Vec::new())
            .await?;
        let root = crate::xml::parse(&body)
            .map_err(|e| sdk_error(format!("Unable to read the listing: {e}")))?;
        let text = |el: &crate::xml::Element, name: &str| el.child(name).map(|c| c.text.clone());
        let objects = root
            .children_named("Contents")
            .map(|c| ListedObject {
                key: text(c, "Key").unwrap_or_default(),
                size: text(c, "Size").and_then(|s| s.parse().ok()).unwrap_or(0),
                etag: text(c, "ETag").unwrap_or_default(),
                last_modified: text(c, "LastModified").unwrap_or_default(),
                storage_class: text(c, "StorageClass"),
            })
            .collect();
        let truncated = text(&root, "IsTruncated").is_some_and(|t| t == "true");
        let next = text(&root, "NextContinuationToken").filter(|_| truncated);
        Ok(ListPage { objects, next })
    }

    /// PutObject.
    pub async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), AwsError> {
        let headers = vec![("content-type".to_owned(), content_type.to_owned())];
        let response = self
            .send("PUT", bucket, Some(key), &[], headers, body)
            .await?;
        read_all(response).await.map(drop)
    }

    /// CreateMultipartUpload: the upload's id.
    pub async fn create_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        content_type: &str,
    ) -> Result<String, AwsError> {
        let headers = vec![("content-type".to_owned(), content_type.to_owned())];
        let response = self
            .send(
                "POST",
                bucket,
                Some(key),
                &[("uploads", String::new())],
                headers,
                Vec::new(),
            )
            .await?;
        let body = read_all(response).await?;
        let root = crate::xml::parse(&body)
            .map_err(|e| sdk_error(format!("Unable to read the answer: {e}")))?;
        root.find_text("UploadId")
            .map(str::to_owned)
            .ok_or_else(|| sdk_error("CreateMultipartUpload answered without an UploadId".into()))
    }

    /// UploadPart: the part's ETag (numbers start at 1).
    pub async fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload: &str,
        number: u32,
        body: Vec<u8>,
    ) -> Result<String, AwsError> {
        let query = [
            ("partNumber", number.to_string()),
            ("uploadId", upload.to_owned()),
        ];
        let response = self
            .send("PUT", bucket, Some(key), &query, Vec::new(), body)
            .await?;
        response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| sdk_error("UploadPart answered without an ETag".into()))
    }

    /// CompleteMultipartUpload with the parts' ETags in order.
    pub async fn complete_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        upload: &str,
        etags: &[String],
    ) -> Result<(), AwsError> {
        let mut xml = String::from("<CompleteMultipartUpload>");
        for (i, etag) in etags.iter().enumerate() {
            xml.push_str(&format!(
                "<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>",
                i + 1,
                quick_xml::escape::escape(etag.as_str())
            ));
        }
        xml.push_str("</CompleteMultipartUpload>");
        let query = [("uploadId", upload.to_owned())];
        let response = self
            .send(
                "POST",
                bucket,
                Some(key),
                &query,
                Vec::new(),
                xml.into_bytes(),
            )
            .await?;
        // S3 can answer 200 with an error in the body once the parts are being joined.
        let body = read_all(response).await?;
        if let Ok(root) = crate::xml::parse(&body) {
            if root.name == "Error" {
                let message = root.find_text("Message").unwrap_or_default();
                return Err(AwsError::new(
                    "S3.S3Exception",
                    format!("{message} (Service: S3, Status Code: 200)"),
                ));
            }
        }
        Ok(())
    }

    /// AbortMultipartUpload.
    pub async fn abort_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        upload: &str,
    ) -> Result<(), AwsError> {
        let query = [("uploadId", upload.to_owned())];
        self.send("DELETE", bucket, Some(key), &query, Vec::new(), Vec::new())
            .await
            .map(drop)
    }

    async fn send_read(
        &self,
        method: &str,
        bucket: &str,
        key: Option<&str>,
        query: &[(&str, String)],
        headers: Vec<(String, String)>,
    ) -> Result<Vec<u8>, AwsError> {
        let response = self
            .send(method, bucket, key, query, headers, Vec::new())
            .await?;
        read_all(response).await
    }

    /// Sends a signed request; a refusal (not 2xx) is read and named.
    async fn send(
        &self,
        method: &str,
        bucket: &str,
        key: Option<&str>,
        query: &[(&str, String)],
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Result<reqwest::Response, AwsError> {
        self.send_timed(method, bucket, key, query, headers, body, None)
            .await
    }

    /// [`S3::send`], the HTTP client's limit on the whole call replaced by `whole` when given.
    #[allow(clippy::too_many_arguments)]
    async fn send_timed(
        &self,
        method: &str,
        bucket: &str,
        key: Option<&str>,
        query: &[(&str, String)],
        mut headers: Vec<(String, String)>,
        body: Vec<u8>,
        whole: Option<Duration>,
    ) -> Result<reqwest::Response, AwsError> {
        let custom = self.client.config().endpoints.get("s3");
        let base = match custom {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("https://s3.{}.amazonaws.com", self.region),
        };
        let mut url = format!("{base}/{}", utf8_percent_encode(bucket, QUERY));
        if let Some(key) = key {
            url.push('/');
            url.push_str(&utf8_percent_encode(key, KEY).to_string());
        }
        if !query.is_empty() {
            let pairs: Vec<String> = query
                .iter()
                .map(|(k, v)| {
                    if v.is_empty() {
                        (*k).to_owned()
                    } else {
                        format!("{k}={}", utf8_percent_encode(v, QUERY))
                    }
                })
                .collect();
            url.push('?');
            url.push_str(&pairs.join("&"));
        }
        let credentials = self.credentials().await?;
        let signed = sign_request(
            method,
            &url,
            &mut headers,
            &body,
            &credentials,
            &self.region,
            "s3",
            true,
        )
        .map_err(sdk_error)?;
        let method =
            reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| sdk_error(e.to_string()))?;
        let mut request = self.client.http.request(method, &url).body(body);
        if let Some(whole) = whole {
            request = request.timeout(whole);
        }
        for (k, v) in signed {
            request = request.header(k, v);
        }
        let response = request
            .send()
            .await
            .map_err(|e| sdk_error(format!("Unable to execute HTTP request: {e}")))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = read_capped(response, MAX_ERROR_BYTES).await?;
        let wire = WireResponse {
            status,
            headers,
            body,
        };
        let models = Models::bundled();
        let Some(model) = models.get("s3") else {
            return Err(sdk_error(format!("S3 answered {status}")));
        };
        let mut refusal = Refusal::of(&model, &wire);
        if refusal.code.is_empty() {
            // A HEAD refusal has no body: name it by its status, as the SDK does.
            (refusal.code, refusal.message) = match status {
                404 => ("NoSuchKey".into(), "Not Found".into()),
                403 => ("AccessDenied".into(), "Forbidden".into()),
                _ => (String::new(), format!("Status {status}")),
            };
        }
        Err(Naming::Sdk.error(&model, &refusal))
    }

    async fn credentials(&self) -> Result<StaticCredentials, AwsError> {
        match &self.role {
            Some(role) => self.client.assume(role, &self.region, "S3").await,
            None => self.client.base_credentials("s3", &self.region, "S3").await,
        }
    }
}

fn sdk_error(cause: String) -> AwsError {
    AwsError::new("S3.SdkClientException", cause)
}

async fn read_all(response: reqwest::Response) -> Result<Vec<u8>, AwsError> {
    read_capped(response, usize::MAX).await
}

async fn read_capped(mut response: reqwest::Response, cap: usize) -> Result<Vec<u8>, AwsError> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| sdk_error(format!("Unable to read the answer: {e}")))?
    {
        if body.len() + chunk.len() > cap {
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{AwsConfig, Endpoints};
    use std::io::{Read, Write};
    use std::time::Instant;

    /// A stand-in S3 on loopback answering one GetObject with `body`: all of it at once, or
    /// only its first half and then nothing for `stall`.
    fn stand_in(body: Vec<u8>, stall: Option<Duration>) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().expect("accept");
            let mut request = Vec::new();
            let mut byte = [0u8; 1];
            while !request.ends_with(b"\r\n\r\n") && conn.read(&mut byte).unwrap_or(0) == 1 {
                request.push(byte[0]);
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(head.as_bytes());
            match stall {
                None => {
                    let _ = conn.write_all(&body);
                    // Held open until the client is done.
                    let _ = conn.read(&mut byte);
                }
                Some(stall) => {
                    let _ = conn.write_all(&body[..body.len() / 2]);
                    std::thread::sleep(stall);
                }
            }
        });
        url
    }

    fn s3_at(url: &str, whole_call: Duration) -> S3 {
        // Another test may have installed it already: either is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(whole_call)
            .build()
            .expect("an HTTP client");
        let config = AwsConfig {
            endpoints: Endpoints {
                default: None,
                services: [("s3".to_owned(), url.to_owned())].into(),
            },
            credentials: Some(StaticCredentials {
                access_key_id: "AKIDEXAMPLE".into(),
                secret_access_key: "secret".into(),
                session_token: None,
            }),
        };
        AwsClient::new(config, http).s3(&Caller {
            region: "us-east-1",
            account: None,
            role: None,
            idempotency: None,
        })
    }

    async fn read_slowly(body: &mut ObjectBody, pause: Duration) -> Result<Vec<u8>, AwsError> {
        let mut got = Vec::new();
        while let Some(chunk) = body.chunk().await? {
            got.extend_from_slice(&chunk);
            tokio::time::sleep(pause).await;
        }
        Ok(got)
    }

    #[tokio::test]
    async fn an_object_read_for_longer_than_the_clients_limit_on_a_call_is_read_whole() {
        let want: Vec<u8> = (0..512 * 1024).map(|i| (i % 251) as u8).collect();
        let url = stand_in(want.clone(), None);
        // The reader takes 1.5 s over it (a Map Run starting children as it reads), the HTTP
        // client allows a call 1 s.
        let s3 = s3_at(&url, Duration::from_secs(1));
        let mut body = s3
            .get_object("items", "items.jsonl", None, None)
            .await
            .expect("the object");
        let first = body.chunk().await.expect("a first chunk").expect("data");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let rest = read_slowly(&mut body, Duration::ZERO)
            .await
            .expect("the rest of the object, read after the client's limit on a call");
        assert_eq!([first, rest].concat(), want);
    }

    #[tokio::test]
    async fn an_object_whose_data_stops_coming_is_given_up() {
        let url = stand_in(vec![7u8; 64 * 1024], Some(Duration::from_secs(5)));
        let mut s3 = s3_at(&url, Duration::from_secs(60));
        s3.object_wait = Duration::from_millis(300);
        let began = Instant::now();
        let mut body = s3
            .get_object("items", "items.jsonl", None, None)
            .await
            .expect("the answer");
        let err = read_slowly(&mut body, Duration::ZERO)
            .await
            .expect_err("half an object, then nothing");
        assert!(
            err.to_string().contains("Unable to read the object"),
            "{err}"
        );
        assert!(
            began.elapsed() < Duration::from_secs(3),
            "given up after {:?}",
            began.elapsed()
        );
    }

    #[test]
    fn keys_keep_their_slashes_and_encode_the_rest_once() {
        let k = utf8_percent_encode("a b/c+d/é.json", KEY).to_string();
        assert_eq!(k, "a%20b/c%2Bd/%C3%A9.json");
    }
}
