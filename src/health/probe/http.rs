//! HTTP checks. Redirects are followed by hand so that configured headers
//! (which may carry secrets) go only to the origin that was configured, and
//! the body is read chunk by chunk up to a cap, so a hostile endpoint that
//! streams forever costs at most that much memory.

use super::{Observed, ProbeError};
use crate::health::condition::{Observation, Value};
use crate::health::outcome::Response;
use crate::health::spec::CheckSpec;
use crate::util::sanitize::sanitize_str;
use reqwest::Url;
use reqwest::header::{HeaderName, HeaderValue, LOCATION};

/// Lines and characters of the body kept for the detail pane.
const BODY_LINES: usize = 12;
const LINE_CHARS: usize = 200;
const HEADERS_KEPT: usize = 24;

pub fn build_client(ca_file: Option<&std::path::Path>) -> Result<reqwest::Client, ProbeError> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("firstwatch/", env!("CARGO_PKG_VERSION")))
        .pool_idle_timeout(std::time::Duration::from_secs(30));
    if let Some(path) = ca_file {
        let pem = std::fs::read(path)
            .map_err(|err| ProbeError::CannotRun(format!("cannot read CA file {}: {err}", path.display())))?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|err| ProbeError::CannotRun(format!("CA file {} is not PEM: {err}", path.display())))?;
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder.build().map_err(|err| ProbeError::CannotRun(format!("cannot set up HTTP: {}", root_cause(&err))))
}

pub async fn probe(client: &reqwest::Client, spec: &CheckSpec, url: &str) -> Result<Observed, ProbeError> {
    let headers = expand_headers(&spec.http.headers)?;
    let first = Url::parse(url).map_err(|err| ProbeError::CannotRun(format!("invalid URL: {err}")))?;
    let mut method = reqwest::Method::from_bytes(spec.http.method.as_bytes())
        .map_err(|_| ProbeError::CannotRun(format!("invalid method {}", spec.http.method)))?;
    let mut current = first.clone();
    let mut redirects = 0;
    let mut response = loop {
        let mut request = client.request(method.clone(), current.clone());
        // Configured headers only ever go to the configured origin.
        if current.origin() == first.origin() {
            for (name, value) in &headers {
                request = request.header(name.clone(), value.clone());
            }
        }
        let response = request.send().await.map_err(|err| ProbeError::Failed(describe(&err, &current)))?;
        let status = response.status();
        let Some(location) = status.is_redirection().then(|| response.headers().get(LOCATION)).flatten() else {
            break response;
        };
        if redirects >= spec.http.max_redirects {
            return Err(ProbeError::Failed(format!(
                "more than {} redirects (a loop?); last went to {}",
                spec.http.max_redirects,
                sanitize_str(&String::from_utf8_lossy(location.as_bytes()))
            )));
        }
        let location = String::from_utf8_lossy(location.as_bytes()).into_owned();
        current = current
            .join(&location)
            .map_err(|_| ProbeError::Failed(format!("redirect to an invalid address {}", sanitize_str(&location))))?;
        if status == reqwest::StatusCode::SEE_OTHER {
            method = reqwest::Method::GET;
        }
        redirects += 1;
    };
    let status = response.status();
    let response_headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_string(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect();
    let (body, truncated) = read_capped(&mut response, spec.http.body_limit).await?;
    let text = String::from_utf8_lossy(&body).into_owned();
    let summary = format!(
        "{} {}{}{}",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        if redirects > 0 {
            format!(" after {redirects} redirect{}", if redirects == 1 { "" } else { "s" })
        } else {
            String::new()
        },
        if truncated { format!(", body cut at {} B", spec.http.body_limit) } else { String::new() }
    );
    let shown = Response {
        status: status.as_u16(),
        headers: response_headers.iter().take(HEADERS_KEPT).map(|(k, v)| shown_header(k, v)).collect(),
        body_lines: text
            .lines()
            .take(BODY_LINES)
            .map(|l| sanitize_str(&l.chars().take(LINE_CHARS).collect::<String>()))
            .collect(),
        body_bytes: body.len(),
        truncated,
        redirects,
    };
    Ok(Observed {
        observation: Observation {
            status: Some(status.as_u16()),
            latency: None,
            value: Some(Value::from_text(&text)),
            body: Some(text),
            headers: response_headers,
            exit: None,
        },
        response: Some(shown),
        summary,
        threshold: None,
    })
}

/// Reads at most `limit` bytes, one chunk at a time; the rest is never read.
async fn read_capped(response: &mut reqwest::Response, limit: u64) -> Result<(Vec<u8>, bool), ProbeError> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut body = Vec::new();
    while let Some(chunk) =
        response.chunk().await.map_err(|err| ProbeError::Failed(format!("the body broke off: {}", root_cause(&err))))?
    {
        let room = limit - body.len();
        if chunk.len() >= room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, chunk.len() > room || response.content_length().is_some_and(|l| l as usize > limit)));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

/// Secrets in response headers (cookies) are not shown either.
fn shown_header(name: &str, value: &str) -> (String, String) {
    let value = if name.eq_ignore_ascii_case("set-cookie") {
        "(hidden)".to_string()
    } else {
        sanitize_str(&value.chars().take(LINE_CHARS).collect::<String>())
    };
    (sanitize_str(name), value)
}

/// `${VAR}` in header values comes from the environment; an unset one is an error naming the variable only.
fn expand_headers(headers: &[(String, String)]) -> Result<Vec<(HeaderName, HeaderValue)>, ProbeError> {
    headers
        .iter()
        .map(|(name, template)| {
            let value = expand_env(template).map_err(|var| {
                ProbeError::CannotRun(format!("header {name}: environment variable {var} is not set"))
            })?;
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ProbeError::CannotRun(format!("`{name}` is not a valid header name")))?;
            let mut value = HeaderValue::from_str(&value)
                .map_err(|_| ProbeError::CannotRun(format!("header {name} has characters a header cannot carry")))?;
            value.set_sensitive(true);
            Ok((name, value))
        })
        .collect()
}

/// Replaces every `${NAME}`; `Err(NAME)` for the first one that is unset.
pub fn expand_env(template: &str) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = &after[..end];
        out.push_str(&std::env::var(name).map_err(|_| name.to_string())?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn describe(err: &reqwest::Error, url: &Url) -> String {
    let place = format!("{}:{}", url.host_str().unwrap_or("?"), url.port_or_known_default().unwrap_or(0));
    let cause = root_cause(err);
    if err.is_connect() {
        format!("cannot connect to {place}: {cause}")
    } else if err.is_timeout() {
        format!("{place} timed out")
    } else {
        format!("request to {place} failed: {cause}")
    }
}

/// The innermost error, which says what actually happened ("Connection refused").
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
    fn env_references_expand_and_unset_ones_name_only_the_variable() {
        // PATH is always set; the unset name is unlikely to exist.
        let path = std::env::var("PATH").unwrap();
        assert_eq!(expand_env("x ${PATH} y").unwrap(), format!("x {path} y"));
        assert_eq!(expand_env("no refs").unwrap(), "no refs");
        assert_eq!(expand_env("Bearer ${FIRSTWATCH_SURELY_UNSET_1}"), Err("FIRSTWATCH_SURELY_UNSET_1".into()));
        assert_eq!(expand_env("${open").unwrap(), "${open");
    }
}
