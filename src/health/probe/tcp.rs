//! TCP checks: a port accepts a connection.

use super::{Observed, ProbeError};

pub async fn probe(address: &str) -> Result<Observed, ProbeError> {
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .map_err(|err| ProbeError::Failed(format!("cannot connect to {address}: {err}")))?;
    let peer = stream.peer_addr().map(|a| a.to_string()).unwrap_or_else(|_| address.to_string());
    Ok(Observed { summary: format!("connected to {peer}"), ..Observed::default() })
}
