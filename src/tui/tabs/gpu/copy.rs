//! `y` on the gpu tab: the selected GPU, as a line for a ticket or a chat.

use super::GpuTab;
use crate::tui::clipboard::Copied;

impl GpuTab {
    pub fn copy(&self) -> Option<Copied> {
        let state = self.state.as_ref()?;
        if state.fleet.is_some() {
            return match self.fleet.selected()? {
                super::fleet::Row::Host(host) => {
                    let host = self.fleet.hosts.get(host)?;
                    Some(Copied {
                        what: "the host",
                        text: format!("{}: {}", host.host, super::fleet_view::host_facts(host)),
                    })
                }
                super::fleet::Row::Gpu { gpu, .. } => {
                    let gpu = state.gpus.get(gpu)?;
                    Some(Copied { what: "the GPU", text: format!("{} {}", gpu.label(), gpu.name()) })
                }
            };
        }
        let gpu = state.gpus.get(self.selected)?;
        Some(Copied { what: "the GPU", text: format!("GPU {} {}", gpu.index, gpu.name()) })
    }
}
