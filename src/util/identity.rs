//! Who is at the keyboard: recorded on every audit row and timeline entry.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Identity {
    /// `SUDO_USER` when running under sudo (the human), else `USER`.
    pub user: String,
    pub host: String,
    /// The client address from `SSH_CONNECTION`, when logged in over SSH.
    pub ssh_client: Option<String>,
    /// The controlling terminal, to tell two sessions of one user apart.
    pub tty: Option<String>,
}

impl Identity {
    pub fn current() -> Identity {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let user = match (env("SUDO_USER"), env("USER").or_else(|| env("LOGNAME"))) {
            (Some(sudo), Some(user)) if sudo != user => format!("{sudo} (as {user})"),
            (Some(sudo), _) => sudo,
            (None, Some(user)) => user,
            // Not set in some service managers and tmux setups: ask the user database.
            (None, None) => {
                let uid = nix::unistd::getuid();
                nix::unistd::User::from_uid(uid).ok().flatten().map_or_else(|| format!("uid {uid}"), |u| u.name)
            }
        };
        Identity {
            user,
            host: hostname(),
            ssh_client: env("SSH_CONNECTION").and_then(|c| c.split_whitespace().next().map(str::to_string)),
            tty: nix::unistd::ttyname(std::io::stdin()).ok().map(|p| p.display().to_string()),
        }
    }
}

pub fn hostname() -> String {
    nix::unistd::gethostname().ok().and_then(|name| name.into_string().ok()).unwrap_or_else(|| "unknown-host".into())
}
