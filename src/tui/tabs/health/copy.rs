//! `y` on the health tab: the selected check, its target and its last answer,
//! or the selected alert with its labels.

use super::HealthTab;
use crate::tui::clipboard::Copied;

impl HealthTab {
    pub fn copy(&self) -> Option<Copied> {
        if let Some(alert) = self.selected_alert() {
            let labels: Vec<String> = alert.labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
            let text =
                format!("{} {{{}}} {}: {}", alert.name, labels.join(", "), alert.state.as_str(), alert.summary());
            return Some(Copied { what: "the alert and its labels", text });
        }
        let row = self.selected_row()?;
        if let Some(series) = self.selected_series() {
            let labels: Vec<String> = series.labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
            let text = format!(
                "{} ({} {}): {} [{}]",
                series.name,
                row.kind,
                row.target,
                series.message,
                crate::util::sanitize::sanitize_str(&labels.join(" "))
            );
            return Some(Copied { what: "the series, its labels and its last result", text });
        }
        let mut text = format!("{} ({} {})", row.name, row.kind, row.target);
        if let Some(last) = &row.last {
            text.push_str(&format!(": {}", last.message));
        }
        Some(Copied { what: "the check and its last result", text })
    }
}
