//! `server_name` as Prometheus's `tls_config` means it: the name sent as SNI
//! and checked against the engine's certificate, while the connection goes to
//! the URL's own host and the Host header stays the URL's.
//!
//! reqwest takes SNI and the certificate's name from the request's URL, so a
//! request is addressed to `server_name`, carries the URL's Host header, and
//! this resolver sends `server_name` to the addresses of the URL's host, looked
//! up when the request is made (a host that does not resolve yet fails its
//! requests, not the engine, and needs no restart once it does).

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::HeaderValue;

/// Resolves `server_name` as the URL's host; any other name as itself.
pub(super) struct ServerNameResolver {
    server_name: String,
    /// The URL's host without brackets: a name to look up, or an address.
    host: String,
}

/// What a request needs for `server_name`: the URL to send it to, its Host header and the resolver.
pub(super) struct Addressed {
    pub url: Url,
    pub host_header: HeaderValue,
    pub resolver: ServerNameResolver,
}

/// Readdresses `base` to `server_name`, keeping what the server is told and where it is reached.
pub(super) fn address(base: &Url, server_name: &str) -> Result<Addressed, String> {
    let host_text = base.host_str().ok_or("the url has no host")?;
    // As hyper would write it: the URL's host, and its port unless it is the scheme's own.
    let host_header = match base.port() {
        Some(port) => format!("{host_text}:{port}"),
        None => host_text.to_string(),
    };
    let host_header =
        HeaderValue::from_str(&host_header).map_err(|_| format!("`{host_header}` is not a Host header"))?;
    let mut url = base.clone();
    url.set_host(Some(server_name)).map_err(|err| format!("server_name `{server_name}`: {err}"))?;
    let server_name = url.host_str().unwrap_or(server_name).to_string();
    if unbracketed(&server_name).parse::<std::net::IpAddr>().is_ok() {
        return Err(format!("server_name `{server_name}` is an address; it names the certificate's DNS name"));
    }
    let host = unbracketed(host_text).to_string();
    Ok(Addressed { url, host_header, resolver: ServerNameResolver { server_name, host } })
}

/// An IPv6 host as a URL writes it (`[::1]`) as an address parses (`::1`).
fn unbracketed(host: &str) -> &str {
    host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host)
}

impl Resolve for ServerNameResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = if name.as_str().eq_ignore_ascii_case(&self.server_name) {
            self.host.clone()
        } else {
            name.as_str().to_string()
        };
        Box::pin(async move {
            // Port 0: the connector puts the URL's port in.
            let found: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|err| format!("cannot resolve {host}: {err}"))?
                .collect();
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_goes_to_server_name_with_the_urls_host_header() {
        let base = Url::parse("https://10.0.0.7:9090/prom").unwrap();
        let addressed = address(&base, "Prom.Internal").unwrap();
        assert_eq!(addressed.url.as_str(), "https://prom.internal:9090/prom");
        assert_eq!(addressed.host_header, "10.0.0.7:9090");
        assert_eq!(addressed.resolver.host, "10.0.0.7");
        let v6 = address(&Url::parse("https://[::1]/").unwrap(), "prom.internal").unwrap();
        assert_eq!(v6.host_header, "[::1]", "the scheme's own port is left out, as hyper does");
        assert_eq!(v6.resolver.host, "::1");
        assert!(address(&base, "10.0.0.8").err().unwrap().contains("is an address"));
    }

    #[tokio::test]
    async fn server_name_resolves_to_the_urls_host_when_asked() {
        let addressed = address(&Url::parse("https://127.0.0.1:9090/").unwrap(), "prom.internal").unwrap();
        let name: Name = "prom.internal".parse().unwrap();
        let found: Vec<_> = addressed.resolver.resolve(name).await.unwrap().collect();
        assert_eq!(found, vec!["127.0.0.1:0".parse().unwrap()]);
    }
}
