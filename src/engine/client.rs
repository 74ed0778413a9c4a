//! One engine's HTTP client: auth, TLS, a deadline over the whole exchange and
//! a cap on what is read, with errors that say which engine and what went wrong.

use super::server_name;
use crate::config::{EngineConfig, EngineKind};
use crate::util::sanitize::sanitize_str;
use reqwest::header::{CONTENT_TYPE, HOST, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A configured engine, ready to be asked.
pub struct Engine {
    name: String,
    kind: EngineKind,
    /// The URL as configured.
    base: Url,
    /// Where requests are addressed: `base`, or with `server_name` as its host.
    target: Url,
    /// The configured URL's Host header, sent when `target` differs from `base`.
    host_header: Option<HeaderValue>,
    /// `host:port` (and `as server_name`), for messages about the connection.
    place: String,
    /// Whether a client certificate (cert_file, key_file) is presented.
    has_identity: bool,
    client: reqwest::Client,
    auth: Auth,
    /// Header values as written; `${VAR}` is filled in per request and never kept.
    headers: Vec<(String, String)>,
    timeout: Duration,
    max_series: usize,
    body_limit: u64,
}

enum Auth {
    None,
    Basic { username: String, password_file: Option<PathBuf> },
    Bearer(PathBuf),
}

/// What went wrong talking to an engine; its text always names the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineError {
    pub engine: String,
    pub problem: Problem,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// No connection (refused, DNS, TLS handshake).
    Unreachable(String),
    /// No whole answer within the engine's timeout.
    Timeout(Duration),
    /// 401 or 403: the credentials are missing or wrong.
    Refused(u16),
    /// Any other HTTP error, with the engine's own message when it gave one.
    Status(u16, String),
    /// The answer was not the JSON the API sends (a login page, a proxy's error).
    NotJson(String),
    /// The engine's API said the request failed (a PromQL syntax error).
    Api(String),
    /// The answer was bigger than the body cap.
    TooLarge(u64),
    /// A query returned more series than the engine's `max_series`.
    TooManySeries { found: usize, limit: usize },
    /// firstwatch could not prepare the request (an unreadable password file).
    Setup(String),
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "engine `{}`: ", self.engine)?;
        match &self.problem {
            Problem::Unreachable(why) => write!(f, "unreachable: {why}"),
            Problem::Timeout(limit) => {
                write!(f, "no answer within {}", crate::health::condition::format_latency(*limit))
            }
            Problem::Refused(status) => write!(f, "refused ({status}): check its basic_auth or bearer_token_file"),
            Problem::Status(status, message) if message.is_empty() => write!(f, "answered HTTP {status}"),
            Problem::Status(status, message) => write!(f, "answered HTTP {status}: {message}"),
            Problem::NotJson(what) => write!(f, "did not answer with its API's JSON ({what}); is the url right?"),
            Problem::Api(message) => write!(f, "{message}"),
            Problem::TooLarge(limit) => {
                write!(f, "answer larger than {} (body_limit)", crate::backup::human_bytes(*limit))
            }
            Problem::TooManySeries { found, limit } => {
                write!(
                    f,
                    "query returned {found} series, more than max_series {limit}; narrow it (by labels) or raise max_series"
                )
            }
            Problem::Setup(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for EngineError {}

impl Engine {
    /// Builds the client; relative file paths resolve against `base_dir` (the config's folder).
    pub fn new(config: &EngineConfig, base_dir: &Path) -> Result<Engine, String> {
        let resolve = |path: &Path| if path.is_absolute() { path.to_path_buf() } else { base_dir.join(path) };
        let base = Url::parse(config.url.get_ref())
            .map_err(|err| format!("`{}` is not a URL: {err}", config.url.get_ref()))?;
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("firstwatch/", env!("CARGO_PKG_VERSION")))
            // Redirects could carry credentials elsewhere; an engine's API does not redirect.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.timeout())
            .pool_idle_timeout(Duration::from_secs(60));
        if let Some(path) = config.ca_file() {
            let path = resolve(path);
            let pem = std::fs::read(&path).map_err(|err| format!("cannot read ca_file {}: {err}", path.display()))?;
            let certificates = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|err| format!("ca_file {} is not PEM: {err}", path.display()))?;
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        if let (Some(cert), Some(key)) = (config.cert_file(), config.key_file()) {
            let (cert, key) = (resolve(cert), resolve(key));
            let mut pem =
                std::fs::read(&cert).map_err(|err| format!("cannot read cert_file {}: {err}", cert.display()))?;
            pem.push(b'\n');
            pem.extend(std::fs::read(&key).map_err(|err| format!("cannot read key_file {}: {err}", key.display()))?);
            let identity = reqwest::Identity::from_pem(&pem)
                .map_err(|err| format!("cert_file/key_file are not a PEM certificate and key: {err}"))?;
            builder = builder.identity(identity);
        }
        let place = format!("{}:{}", base.host_str().unwrap_or("?"), base.port_or_known_default().unwrap_or(0));
        let (target, host_header, place) = match config.server_name() {
            // Connect where the URL points, but speak (SNI, certificate check) as `server_name`.
            Some(server_name) => {
                let addressed = server_name::address(&base, server_name)?;
                // No proxy from the environment: it would be asked for `server_name`, not the
                // URL's host, and NO_PROXY would be matched against the wrong name.
                builder = builder.dns_resolver(std::sync::Arc::new(addressed.resolver)).no_proxy();
                (addressed.url, Some(addressed.host_header), format!("{place} as {server_name}"))
            }
            None => (base.clone(), None, place),
        };
        let auth = match (&config.basic_auth, &config.bearer_token_file) {
            (Some(basic), _) => Auth::Basic {
                username: basic.username.clone(),
                password_file: basic.password_file.as_deref().map(resolve),
            },
            (None, Some(token)) => Auth::Bearer(resolve(token)),
            (None, None) => Auth::None,
        };
        let client = builder.build().map_err(|err| format!("cannot set up HTTP: {}", root_cause(&err)))?;
        Ok(Engine {
            name: config.name.get_ref().clone(),
            kind: config.kind,
            base,
            target,
            host_header,
            place,
            has_identity: config.cert_file().is_some(),
            client,
            auth,
            headers: config.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            timeout: config.timeout(),
            max_series: config.max_series(),
            body_limit: config.body_limit(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn kind(&self) -> EngineKind {
        self.kind
    }

    /// The base address as configured (never with credentials).
    pub fn url(&self) -> &Url {
        &self.base
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn max_series(&self) -> usize {
        self.max_series
    }

    pub(crate) fn error(&self, problem: Problem) -> EngineError {
        EngineError { engine: self.name.clone(), problem }
    }

    /// GET `path` (under the base URL's own path) and decode its JSON.
    pub(crate) async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, &str)]) -> Result<T, EngineError> {
        self.exchange(Method::GET, path, query, None).await
    }

    /// GET `path` and return the answer's bytes and content type once its status
    /// says it is an answer, for callers that decode it themselves (borrowing from it).
    pub(crate) async fn get_body(&self, path: &str, query: &[(&str, &str)]) -> Result<(Vec<u8>, String), EngineError> {
        self.body(Method::GET, path, query).await
    }

    /// Sends a request without a body and returns the answer's bytes and content type
    /// once its status says it is an answer.
    pub(crate) async fn body(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<(Vec<u8>, String), EngineError> {
        let work = async {
            let (status, content_type, bytes) = self.fetch(method, path, query, None).await?;
            check_status(&bytes, status).map_err(|problem| self.error(problem))?;
            Ok((bytes, content_type))
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .unwrap_or_else(|_| Err(self.error(Problem::Timeout(self.timeout))))
    }

    /// Sends `body` as JSON with `method` and decodes the JSON answer.
    pub(crate) async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<T, EngineError> {
        self.exchange(method, path, &[], body).await
    }

    async fn exchange<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> Result<T, EngineError> {
        let work = async {
            let (status, content_type, bytes) = self.fetch(method, path, query, body).await?;
            decode(&bytes, status, &content_type).map_err(|problem| self.error(problem))
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .unwrap_or_else(|_| Err(self.error(Problem::Timeout(self.timeout))))
    }

    async fn fetch(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> Result<(u16, String, Vec<u8>), EngineError> {
        let mut url = self.target.clone();
        url.set_path(&format!("{}{path}", self.target.path().trim_end_matches('/')));
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let mut request = self.client.request(method, url);
        if let Some(host) = &self.host_header {
            request = request.header(HOST, host.clone());
        }
        for (name, value) in self.headers().map_err(|why| self.error(Problem::Setup(why)))? {
            request = request.header(name, value);
        }
        request = match &self.auth {
            Auth::None => request,
            Auth::Basic { username, password_file } => {
                let password = match password_file {
                    Some(path) => {
                        Some(read_secret(path, "password_file").map_err(|why| self.error(Problem::Setup(why)))?)
                    }
                    None => None,
                };
                request.basic_auth(username, password)
            }
            Auth::Bearer(path) => request
                .bearer_auth(read_secret(path, "bearer_token_file").map_err(|why| self.error(Problem::Setup(why)))?),
        };
        if let Some(body) = body {
            request =
                request.header(CONTENT_TYPE, "application/json").body(serde_json::to_vec(body).unwrap_or_default());
        }
        let mut response = request.send().await.map_err(|err| {
            let cause = root_cause(&err);
            let hint = client_certificate_hint(&cause, self.has_identity);
            self.error(Problem::Unreachable(format!("{}: {cause}{hint}", self.place)))
        })?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        if response.content_length().is_some_and(|length| length > self.body_limit) {
            return Err(self.error(Problem::TooLarge(self.body_limit)));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|err| self.error(Problem::Unreachable(format!("the answer broke off: {}", root_cause(&err)))))?
        {
            if (bytes.len() + chunk.len()) as u64 > self.body_limit {
                return Err(self.error(Problem::TooLarge(self.body_limit)));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok((status, content_type, bytes))
    }

    fn headers(&self) -> Result<Vec<(HeaderName, HeaderValue)>, String> {
        self.headers
            .iter()
            .map(|(name, template)| {
                let value = crate::health::probe::expand_env(template)
                    .map_err(|var| format!("header {name}: environment variable {var} is not set"))?;
                let name =
                    HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("`{name}` is not a header name"))?;
                let mut value = HeaderValue::from_str(&value)
                    .map_err(|_| format!("header {name} has characters a header cannot carry"))?;
                value.set_sensitive(true);
                Ok((name, value))
            })
            .collect()
    }
}

/// Turns an answer into `T`, or the most telling problem: the API's own error
/// message first, then auth, then "this is not JSON at all".
fn decode<T: DeserializeOwned>(bytes: &[u8], status: u16, content_type: &str) -> Result<T, Problem> {
    check_status(bytes, status)?;
    serde_json::from_slice::<T>(bytes).map_err(|err| not_json(bytes, content_type, &err))
}

/// Auth refused, or any other status that is not 2xx, with the API's own message when it gave one.
fn check_status(bytes: &[u8], status: u16) -> Result<(), Problem> {
    if status == 401 || status == 403 {
        return Err(Problem::Refused(status));
    }
    if !(200..300).contains(&status) {
        return Err(Problem::Status(status, api_message(bytes).unwrap_or_else(|| snippet(bytes))));
    }
    Ok(())
}

/// A 2xx answer that did not decode: not JSON at all (a proxy's page), or not the JSON expected.
pub(crate) fn not_json(bytes: &[u8], content_type: &str, err: &serde_json::Error) -> Problem {
    if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_err() {
        let kind = if content_type.is_empty() { "no content type".to_string() } else { sanitize_str(content_type) };
        Problem::NotJson(format!("{kind}: {}", snippet(bytes)))
    } else {
        Problem::NotJson(format!("unexpected JSON: {}", sanitize_str(&err.to_string())))
    }
}

/// The message in an error answer: Prometheus's `{"error": ...}` or Alertmanager's plain text.
fn api_message(bytes: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let text = match &value {
        serde_json::Value::String(text) => text.clone(),
        other => other.get("error").or_else(|| other.get("message"))?.as_str()?.to_string(),
    };
    Some(sanitize_str(&text))
}

/// The start of an answer, made safe to show.
fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(120)]);
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    sanitize_str(&flat)
}

/// The first line of a secret file, read when needed (so rotation needs no restart).
fn read_secret(path: &Path, what: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|err| format!("cannot read {what} {}: {err}", path.display()))?;
    Ok(text.lines().next().unwrap_or_default().trim().to_string())
}

/// What a TLS alert about the client's certificate means for the config:
/// the engine wants one (mutual TLS), or turned down the one presented.
fn client_certificate_hint(cause: &str, has_identity: bool) -> &'static str {
    const WANTS_ONE: [&str; 2] = ["alert: BadCertificate", "alert: CertificateRequired"];
    const REFUSED: [&str; 5] = [
        "alert: BadCertificate",
        "alert: CertificateRequired",
        "alert: UnknownCA",
        "alert: CertificateExpired",
        "alert: UnsupportedCertificate",
    ];
    match has_identity {
        false if WANTS_ONE.iter().any(|alert| cause.contains(alert)) => {
            "; the engine wants a client certificate (mutual TLS): set cert_file and key_file"
        }
        true if REFUSED.iter().any(|alert| cause.contains(alert)) => {
            "; the engine refused the client certificate of cert_file: is it signed by the CA the engine trusts?"
        }
        _ => "",
    }
}

fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    sanitize_str(&current.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_html_answer_is_named_as_not_json_with_its_start() {
        let problem = decode::<serde_json::Value>(b"<html><body>Sign in</body></html>", 200, "text/html").unwrap_err();
        assert_eq!(problem, Problem::NotJson("text/html: <html><body>Sign in</body></html>".into()));
    }

    #[test]
    fn an_error_answer_carries_the_apis_own_message() {
        let body = br#"{"status":"error","errorType":"bad_data","error":"parse error at char 4"}"#;
        let problem = decode::<serde_json::Value>(body, 400, "application/json").unwrap_err();
        assert_eq!(problem, Problem::Status(400, "parse error at char 4".into()));
        assert_eq!(decode::<serde_json::Value>(b"", 401, "").unwrap_err(), Problem::Refused(401));
    }
}
