//! What an engine's request carries, seen from a real server on 127.0.0.1:
//! `server_name` as SNI and certificate name while the Host header stays the
//! URL's, a bearer token read from its file on every request, and extra headers
//! (a Mimir tenant's X-Scope-OrgID).

#[path = "support/echo.rs"]
mod echo;

use firstwatch::config::load_str;
use firstwatch::engine::{Engine, prometheus};
use std::path::Path;

/// The one `[[engine]]` of `toml`, built with relative paths under `dir`.
fn engine(toml: &str, dir: &Path) -> Engine {
    let config = load_str(toml, &dir.join("firstwatch.toml")).unwrap_or_else(|e| panic!("{e}"));
    Engine::new(&config.engines[0], dir).unwrap_or_else(|e| panic!("{e}"))
}

fn tls_engine(name: &str, url: &str, server_name: Option<&str>) -> String {
    let mut toml =
        format!("[[engine]]\nname = \"{name}\"\nkind = \"prometheus\"\nurl = \"{url}\"\nca_file = \"ca.pem\"\n");
    if let Some(server_name) = server_name {
        toml.push_str(&format!("server_name = \"{server_name}\"\n"));
    }
    toml
}

#[tokio::test]
async fn server_name_is_the_certificates_name_while_host_stays_the_urls() {
    let dir = tempfile::tempdir().unwrap();
    let certificate = echo::certificate(&["prom.internal"]);
    std::fs::write(dir.path().join("ca.pem"), &certificate.ca_pem).unwrap();
    let mut server = echo::serve_tls(&certificate).await;

    let named = engine(&tls_engine("prom", &server.url, Some("prom.internal")), dir.path());
    assert_eq!(named.url().as_str(), format!("{}/", server.url), "the engine is still shown by its url");
    let samples = prometheus::query(&named, "vector(1)", None).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(samples[0].value, 1.0);
    let seen = server.next().await;
    assert_eq!(seen.sni.as_deref(), Some("prom.internal"), "SNI names the certificate's name");
    assert_eq!(seen.header("host"), Some(format!("127.0.0.1:{}", server.port).as_str()), "{}", seen.head);

    // The certificate names prom.internal only: another server_name, or none, fails its check.
    let wrong = engine(&tls_engine("wrong", &server.url, Some("other.internal")), dir.path());
    let error = prometheus::query(&wrong, "vector(1)", None).await.unwrap_err().to_string();
    assert!(error.starts_with("engine `wrong`: unreachable: 127.0.0.1:"), "{error}");
    assert!(error.contains("as other.internal"), "the name checked is said: {error}");
    assert!(error.contains("certificate not valid for name \"other.internal\""), "{error}");
    let unnamed = engine(&tls_engine("unnamed", &server.url, None), dir.path());
    let error = prometheus::query(&unnamed, "vector(1)", None).await.unwrap_err().to_string();
    assert!(error.contains("certificate not valid for name \"127.0.0.1\""), "{error}");
}

#[tokio::test]
async fn the_tls_keys_may_be_nested_under_tls_config_as_in_a_scrape_config() {
    let dir = tempfile::tempdir().unwrap();
    let certificate = echo::certificate(&["prom.internal"]);
    std::fs::write(dir.path().join("ca.pem"), &certificate.ca_pem).unwrap();
    let mut server = echo::serve_tls(&certificate).await;
    let toml = format!(
        "[[engine]]\nname = \"copied\"\nkind = \"prometheus\"\nurl = \"{}\"\n\
         tls_config = {{ ca_file = \"ca.pem\", server_name = \"prom.internal\" }}\n",
        server.url
    );
    prometheus::query(&engine(&toml, dir.path()), "vector(1)", None).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(server.next().await.sni.as_deref(), Some("prom.internal"));

    // One spelling per key; and what firstwatch does not speak is named, not ignored.
    let twice = format!("{toml}server_name = \"other.internal\"\n");
    let error = load_str(&twice, &dir.path().join("firstwatch.toml")).unwrap_err().to_string();
    assert!(error.contains("engine `copied`: server_name is set both flat and in tls_config"), "{error}");
    let skip = toml.replace("server_name = \"prom.internal\"", "insecure_skip_verify = true");
    let error = load_str(&skip, &dir.path().join("firstwatch.toml")).unwrap_err().to_string();
    assert!(error.contains("unknown field `insecure_skip_verify`"), "{error}");
}

#[tokio::test]
async fn a_server_name_whose_host_does_not_resolve_fails_its_requests_not_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), echo::certificate(&["prom.internal"]).ca_pem).unwrap();
    // `.invalid` never resolves (RFC 6761); building the engine must not look it up.
    let toml = tls_engine("later", "https://prometheus.invalid:9090", Some("prom.internal"));
    let later = engine(&toml, dir.path());
    let error = prometheus::query(&later, "vector(1)", None).await.unwrap_err().to_string();
    assert!(error.starts_with("engine `later`: unreachable: prometheus.invalid:9090 as prom.internal: "), "{error}");
    assert!(error.contains("cannot resolve prometheus.invalid"), "{error}");
}

#[tokio::test]
async fn a_bearer_token_is_read_from_its_file_for_every_request_beside_the_extra_headers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), "first-token\n").unwrap();
    let mut server = echo::serve().await;
    let toml = format!(
        "[[engine]]\nname = \"mimir\"\nkind = \"prometheus\"\nurl = \"{}/prometheus\"\nbearer_token_file = \"token\"\n\
         headers = {{ \"X-Scope-OrgID\" = \"team-a\" }}\n",
        server.url
    );
    let mimir = engine(&toml, dir.path());
    prometheus::query(&mimir, "up", None).await.unwrap_or_else(|e| panic!("{e}"));
    let seen = server.next().await;
    assert!(seen.head.starts_with("GET /prometheus/api/v1/query?query=up HTTP/1.1"), "{}", seen.head);
    assert_eq!(seen.header("authorization"), Some("Bearer first-token"), "{}", seen.head);
    assert_eq!(seen.header("x-scope-orgid"), Some("team-a"), "{}", seen.head);

    // A rotated token is sent from the next request on, with no restart.
    std::fs::write(dir.path().join("token"), "second-token\n").unwrap();
    prometheus::query(&mimir, "up", None).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(server.next().await.header("authorization"), Some("Bearer second-token"));

    // A token file that is gone fails the request, naming the engine and the file.
    std::fs::remove_file(dir.path().join("token")).unwrap();
    let error = prometheus::query(&mimir, "up", None).await.unwrap_err().to_string();
    assert!(error.starts_with("engine `mimir`: cannot read bearer_token_file "), "{error}");
}

#[tokio::test]
async fn basic_auth_sends_the_password_files_first_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("password"), "s3cret\nignored second line\n").unwrap();
    let mut server = echo::serve().await;
    let toml = format!(
        "[[engine]]\nname = \"prom\"\nkind = \"prometheus\"\nurl = \"{}\"\n\
         basic_auth = {{ username = \"fleet\", password_file = \"password\" }}\n",
        server.url
    );
    prometheus::query(&engine(&toml, dir.path()), "up", None).await.unwrap_or_else(|e| panic!("{e}"));
    // base64("fleet:s3cret")
    assert_eq!(server.next().await.header("authorization"), Some("Basic ZmxlZXQ6czNjcmV0"));
}
