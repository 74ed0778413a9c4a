//! `y` on the gpu tab: the selected GPU, as a line for a ticket or a chat.

use super::GpuTab;
use crate::tui::clipboard::Copied;

impl GpuTab {
    pub fn copy(&self) -> Option<Copied> {
        let gpu = self.state.as_ref()?.gpus.get(self.selected)?;
        Some(Copied { what: "the GPU", text: format!("GPU {} {}", gpu.index, gpu.name()) })
    }
}
