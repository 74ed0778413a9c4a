//! A notify action's send: one POST of the open incident's briefing to the
//! configured webhook. It stands where a command would run inside
//! [`super::execute::ActionContext::run`], so it is confirmed, locked,
//! audited and put on the timeline like every other action.
//!
//! `${VAR}` in the address and header values is filled from the environment
//! here and nowhere else; what it filled in is blanked out of anything this
//! reports, so a secret reaches the receiver and no screen, file or row.

use super::runner::{CancelSignal, Captured, Ending, OutputLine, RunReport, Stream};
use super::spec::NotifySpec;
use crate::incident::{notify, record};
use crate::store::Store;
use crate::util::sanitize::sanitize_str;
use std::time::{Duration, Instant};

/// How much of the receiver's answer is read (Slack says `ok`).
const ANSWER_BYTES: usize = 4096;

/// Sends the open incident's briefing; the report reads like a command's.
pub async fn send(
    notify: &NotifySpec,
    timeout: Duration,
    store: Option<Store>,
    mut cancel: CancelSignal,
    mut on_line: impl FnMut(&OutputLine),
) -> RunReport {
    let started = Instant::now();
    let mut output = Captured::default();
    let mut say = |output: &mut Captured, stream: Stream, text: String| {
        let line = OutputLine { stream, text };
        on_line(&line);
        output.keep(line);
    };
    let brief = match briefing(store).await {
        Ok(brief) => brief,
        Err(why) => return report(Ending::FailedToStart(why), started, output),
    };
    let mut secrets = Vec::new();
    let request = match build(notify, &brief, &mut secrets) {
        Ok(request) => request,
        Err(why) => return report(Ending::FailedToStart(why), started, output),
    };
    say(&mut output, Stream::Stdout, format!("POST {}", notify.webhook));
    let exchange = async {
        let response = request.send().await?;
        let status = response.status();
        let answer = read_capped(response).await;
        Ok::<_, reqwest::Error>((status, answer))
    };
    let outcome = tokio::select! {
        outcome = tokio::time::timeout(timeout, exchange) => outcome,
        () = cancel.fired() => return report(Ending::Cancelled, started, output),
    };
    let ending = match outcome {
        Err(_) => Ending::TimedOut,
        Ok(Err(err)) => {
            let why = redact(&describe(&err), &secrets);
            say(&mut output, Stream::Stderr, format!("could not deliver: {why}"));
            Ending::Exited(1)
        }
        Ok(Ok((status, answer))) => {
            let answer = redact(&sanitize_str(answer.lines().next().unwrap_or("").trim()), &secrets);
            let said = if answer.is_empty() { String::new() } else { format!(": {answer}") };
            let reason = status.canonical_reason().unwrap_or("");
            if status.is_success() {
                say(&mut output, Stream::Stdout, format!("answered {} {reason}{said}", status.as_u16()));
                Ending::Exited(0)
            } else {
                say(&mut output, Stream::Stderr, format!("refused: {} {reason}{said}", status.as_u16()));
                Ending::Exited(1)
            }
        }
    };
    report(ending, started, output)
}

async fn briefing(store: Option<Store>) -> Result<notify::Briefing, String> {
    let store = store.ok_or("no store to read the incident from")?;
    let current = tokio::task::spawn_blocking(move || record::current(&store))
        .await
        .map_err(|err| err.to_string())?
        .map_err(|err| err.to_string())?;
    let current = current.ok_or("no incident is open, so there is nothing to tell")?;
    Ok(notify::briefing(&current, &crate::util::identity::hostname(), chrono::Utc::now()))
}

/// The request with its secrets filled in; `secrets` learns what was filled in.
fn build(
    notify: &NotifySpec,
    brief: &notify::Briefing,
    secrets: &mut Vec<String>,
) -> Result<reqwest::RequestBuilder, String> {
    let address = expand(&notify.webhook, secrets).map_err(|var| format!("webhook: {var} is not set"))?;
    let url = reqwest::Url::parse(&address)
        .map_err(|_| format!("webhook `{}` is not an address once filled in", notify.webhook))?;
    let client = reqwest::Client::builder()
        // Headers may carry secrets: they go to the configured address and nowhere it redirects.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("firstwatch/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|err| format!("cannot set up HTTP: {err}"))?;
    let body = serde_json::to_vec(&notify::body(brief, notify.format)).map_err(|err| err.to_string())?;
    let mut request =
        client.post(url).header(reqwest::header::CONTENT_TYPE, "application/json; charset=utf-8").body(body);
    for (name, template) in &notify.headers {
        let value = expand(template, secrets).map_err(|var| format!("header {name}: {var} is not set"))?;
        let mut value = reqwest::header::HeaderValue::from_str(&value)
            .map_err(|_| format!("header {name} has characters a header cannot carry"))?;
        value.set_sensitive(true);
        request = request.header(name.as_str(), value);
    }
    Ok(request)
}

/// Fills every `${NAME}` from the environment; `Err(NAME)` for an unset one.
fn expand(template: &str, secrets: &mut Vec<String>) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        let value = std::env::var(name).map_err(|_| format!("environment variable {name}"))?;
        if !value.is_empty() {
            secrets.push(value.clone());
        }
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `text` with every filled-in secret blanked.
fn redact(text: &str, secrets: &[String]) -> String {
    secrets.iter().fold(text.to_string(), |text, secret| text.replace(secret.as_str(), "[secret]"))
}

async fn read_capped(mut response: reqwest::Response) -> String {
    let mut body = Vec::new();
    while body.len() < ANSWER_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body.truncate(ANSWER_BYTES);
    String::from_utf8_lossy(&body).into_owned()
}

/// What went wrong, from the innermost error ("Connection refused"), without the address.
fn describe(err: &reqwest::Error) -> String {
    let mut current: &dyn std::error::Error = err;
    while let Some(next) = current.source() {
        current = next;
    }
    let cause = sanitize_str(&current.to_string());
    if err.is_connect() { format!("cannot connect: {cause}") } else { cause }
}

fn report(ending: Ending, started: Instant, output: Captured) -> RunReport {
    RunReport { ending, duration: started.elapsed(), output, left_behind: 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expanded_secrets_are_collected_and_blanked_from_reports() {
        let mut secrets = Vec::new();
        let path = std::env::var("PATH").unwrap_or_default();
        assert_eq!(expand("a ${PATH} b", &mut secrets).unwrap(), format!("a {path} b"));
        assert_eq!(secrets, std::slice::from_ref(&path));
        assert_eq!(redact(&format!("x{path}y"), &secrets), "x[secret]y");
        assert_eq!(
            expand("Bearer ${FIRSTWATCH_SURELY_UNSET_2}", &mut secrets),
            Err("environment variable FIRSTWATCH_SURELY_UNSET_2".into())
        );
    }
}
