//! What `backups restore` says before an overlay restore: the mode, and what it sets aside.

use super::restore::Plan;
use crate::util::sanitize::sanitize_str;

/// Paths listed one by one before the rest are counted.
const LISTED: usize = 20;

pub(super) fn print_overlay(plan: &Plan, aside: &str) {
    println!(
        "  mode     overlay: the backup's files are written over the folder; files it does not hold stay as they are"
    );
    match &plan.overlay {
        None => {}
        Some(Err(why)) => println!("  cannot list what it would replace: {}", sanitize_str(why)),
        Some(Ok(preview)) if preview.replaced.is_empty() => {
            println!("  sets aside nothing: the backup replaces no existing file ({} new)", preview.added);
        }
        Some(Ok(preview)) => {
            println!(
                "  sets aside the {} paths it replaces, under {aside} (or -2, -3 ... if taken); {} new:",
                preview.replaced.len(),
                preview.added
            );
            for path in preview.replaced.iter().take(LISTED) {
                println!("    {}", sanitize_str(&path.display().to_string()));
            }
            if preview.replaced.len() > LISTED {
                println!("    … and {} more", preview.replaced.len() - LISTED);
            }
        }
    }
}
