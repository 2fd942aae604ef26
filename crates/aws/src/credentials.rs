//! Where the keys for AWS itself come from: the AWS SDKs' standard credential chain
//! (aws-config's `DefaultCredentialsChain`: environment, shared config and credentials files
//! and profiles, SSO, web identity, ECS container and EC2 instance metadata), its HTTP calls
//! made with Stepwise's own client. Resolved on first use, kept until shortly before they
//! expire.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use aws_config::default_provider::credentials::DefaultCredentialsChain;
use aws_config::provider_config::ProviderConfig;
use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_types::region::Region;
use tokio::sync::OnceCell;

use crate::client::StaticCredentials;

/// Credentials are resolved again this long before they expire.
const REFRESH: Duration = Duration::from_secs(300);

/// The SDKs' credential chain, resolved lazily.
#[derive(Debug)]
pub(crate) struct Chain {
    http: reqwest::Client,
    provider: OnceCell<DefaultCredentialsChain>,
    cached: Mutex<Option<(StaticCredentials, Option<SystemTime>)>>,
}

impl Chain {
    pub(crate) fn new(http: reqwest::Client) -> Chain {
        Chain {
            http,
            provider: OnceCell::new(),
            cached: Mutex::new(None),
        }
    }

    /// The chain's credentials (`region`: for the providers that call STS).
    pub(crate) async fn resolve(&self, region: &str) -> Result<StaticCredentials, String> {
        if let Some((c, until)) = self.lock().as_ref() {
            if until.is_none_or(|t| t > SystemTime::now() + REFRESH) {
                return Ok(c.clone());
            }
        }
        let provider = self
            .provider
            .get_or_init(|| async {
                let config = ProviderConfig::default()
                    .with_http_client(Reqwest(self.http.clone()))
                    .with_region(Some(Region::new(region.to_owned())));
                DefaultCredentialsChain::builder()
                    .configure(config)
                    .build()
                    .await
            })
            .await;
        let found = provider
            .provide_credentials()
            .await
            .map_err(|e| aws_smithy_types::error::display::DisplayErrorContext(e).to_string())?;
        let credentials = StaticCredentials {
            access_key_id: found.access_key_id().to_owned(),
            secret_access_key: found.secret_access_key().to_owned(),
            session_token: found.session_token().map(str::to_owned),
        };
        *self.lock() = Some((credentials.clone(), found.expiry()));
        Ok(credentials)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(StaticCredentials, Option<SystemTime>)>> {
        self.cached.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// aws-config's HTTP calls (instance metadata, container credentials, STS, SSO) through
/// Stepwise's reqwest client rather than a second HTTP stack.
#[derive(Debug, Clone)]
struct Reqwest(reqwest::Client);

impl HttpClient for Reqwest {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(ReqwestConnector {
            client: self.0.clone(),
            timeout: settings
                .read_timeout()
                .zip(settings.connect_timeout())
                .map(|(r, c)| r + c),
        })
    }
}

#[derive(Debug, Clone)]
struct ReqwestConnector {
    client: reqwest::Client,
    timeout: Option<Duration>,
}

impl HttpConnector for ReqwestConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = self.client.clone();
        let timeout = self.timeout;
        HttpConnectorFuture::new(async move {
            let request = request
                .try_into_http1x()
                .map_err(|e| ConnectorError::other(e.into(), None))?;
            let (parts, body) = request.into_parts();
            let body = body.bytes().map(<[u8]>::to_vec).unwrap_or_default();
            let mut builder = client
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body);
            if let Some(t) = timeout {
                builder = builder.timeout(t);
            }
            let response = builder.send().await.map_err(|e| {
                if e.is_timeout() {
                    ConnectorError::timeout(e.into())
                } else {
                    ConnectorError::io(e.into())
                }
            })?;
            let mut answer = http::Response::builder().status(response.status());
            for (k, v) in response.headers() {
                answer = answer.header(k, v);
            }
            let bytes = response
                .bytes()
                .await
                .map_err(|e| ConnectorError::io(e.into()))?;
            let answer = answer
                .body(SdkBody::from(bytes.to_vec()))
                .map_err(|e| ConnectorError::other(e.into(), None))?;
            aws_smithy_runtime_api::http::Response::try_from(answer)
                .map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}
