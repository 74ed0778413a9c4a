//! SQLite checks: open read-only, run the query, take the first column of the
//! first row as the value. A query still running at the timeout is interrupted.

use super::{Observed, ProbeError};
use crate::health::condition::{Observation, Value};
use crate::health::spec::CheckSpec;
use rusqlite::{OpenFlags, types::ValueRef};
use std::path::{Path, PathBuf};

pub async fn probe(spec: &CheckSpec, path: &Path) -> Result<Observed, ProbeError> {
    let query = spec.query.clone().unwrap_or_else(|| "SELECT 1".into());
    let path: PathBuf = path.to_path_buf();
    let timeout = spec.timeout;
    let (handle_tx, handle_rx) = tokio::sync::oneshot::channel();
    let work = tokio::task::spawn_blocking(move || -> Result<Value, ProbeError> {
        if !path.exists() {
            return Err(ProbeError::Failed(format!("{} does not exist", path.display())));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = rusqlite::Connection::open_with_flags(&path, flags)
            .map_err(|err| ProbeError::Failed(format!("cannot open {}: {err}", path.display())))?;
        let _ = handle_tx.send(connection.get_interrupt_handle());
        connection.busy_timeout(timeout).map_err(|err| ProbeError::Failed(err.to_string()))?;
        let mut statement =
            connection.prepare(&query).map_err(|err| ProbeError::Failed(format!("query failed: {err}")))?;
        let mut rows = statement.query([]).map_err(|err| ProbeError::Failed(format!("query failed: {err}")))?;
        let row = rows.next().map_err(|err| ProbeError::Failed(format!("query failed: {err}")))?;
        let Some(row) = row else { return Ok(Value::Null) };
        let value = row.get_ref(0).map_err(|err| ProbeError::Failed(format!("query failed: {err}")))?;
        Ok(match value {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(n) => Value::Number(n as f64),
            ValueRef::Real(n) => Value::Number(n),
            ValueRef::Text(text) => Value::Text(String::from_utf8_lossy(text).into_owned()),
            ValueRef::Blob(blob) => Value::Text(format!("<{} byte blob>", blob.len())),
        })
    });
    let interrupt = Interrupter(None);
    let mut interrupt = interrupt;
    let joined = tokio::time::timeout(timeout, async {
        if let Ok(handle) = handle_rx.await {
            interrupt.0 = Some(handle);
        }
        work.await
    })
    .await;
    let value = match joined {
        Err(_) => {
            return Err(ProbeError::Failed(format!(
                "query ran past {}",
                crate::health::condition::format_latency(timeout)
            )));
        }
        Ok(Err(_)) => return Err(ProbeError::CannotRun("the query thread failed".into())),
        Ok(Ok(result)) => {
            interrupt.0 = None;
            result?
        }
    };
    let summary = match &value {
        Value::Null => "no value".to_string(),
        other => format!("value {}", crate::util::sanitize::sanitize_str(&other.to_string())),
    };
    Ok(Observed {
        observation: Observation { value: Some(value), ..Observation::default() },
        summary,
        ..Observed::default()
    })
}

/// Interrupts a query that is still running when the check gives up on it.
struct Interrupter(Option<rusqlite::InterruptHandle>);

impl Drop for Interrupter {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            handle.interrupt();
        }
    }
}
