//! The six tabs, in the order they appear.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TabId {
    Health,
    Calendar,
    Gpu,
    Logs,
    Backups,
    Incident,
}

impl TabId {
    pub const ALL: [TabId; 6] =
        [TabId::Health, TabId::Calendar, TabId::Gpu, TabId::Logs, TabId::Backups, TabId::Incident];

    pub fn title(self) -> &'static str {
        match self {
            TabId::Health => "health",
            TabId::Calendar => "calendar",
            TabId::Gpu => "gpu",
            TabId::Logs => "logs",
            TabId::Backups => "backups",
            TabId::Incident => "incident",
        }
    }

    pub fn index(self) -> usize {
        TabId::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    pub fn next(self) -> TabId {
        TabId::ALL[(self.index() + 1) % TabId::ALL.len()]
    }

    pub fn previous(self) -> TabId {
        TabId::ALL[(self.index() + TabId::ALL.len() - 1) % TabId::ALL.len()]
    }
}
