//! What the NVIDIA driver's Xid codes mean, in a few words each, for the
//! codes on-call engineers meet most. The DCGM exporter reports the last Xid
//! of each GPU as a number; this turns it into something to act on.

/// A short meaning of `code`, or `None` for a code not listed here.
pub fn meaning(code: u32) -> Option<&'static str> {
    Some(match code {
        8 => "GPU stopped responding (driver timeout)",
        13 => "graphics engine exception (often the application)",
        31 => "memory page fault (often the application)",
        32 => "corrupted command stream",
        38 => "driver firmware error",
        43 => "GPU stopped the application's work",
        45 => "work cleaned up after an earlier error",
        48 => "uncorrectable (double-bit) ECC error",
        56 | 57 => "display or memory interface error",
        61 => "internal micro-controller breakpoint",
        62 => "internal micro-controller halt",
        63 => "ECC page retirement or row remap recorded",
        64 => "ECC page retirement or row remap failed",
        68 => "video decoder or encoder exception",
        69 => "graphics engine class error",
        74 => "NVLink error",
        79 => "GPU has fallen off the bus",
        92 => "high single-bit ECC error rate",
        94 => "contained ECC error (application hit)",
        95 => "uncontained ECC error (reset needed)",
        119 => "GSP firmware did not answer in time",
        120 => "GSP firmware error",
        _ => return None,
    })
}

/// `Xid 79: GPU has fallen off the bus`, or `Xid 999` for an unlisted code; `None` for 0 (no Xid).
pub fn describe(code: u32) -> Option<String> {
    if code == 0 {
        return None;
    }
    Some(match meaning(code) {
        Some(text) => format!("Xid {code}: {text}"),
        None => format!("Xid {code}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_have_a_meaning_and_zero_is_none() {
        assert_eq!(describe(79).as_deref(), Some("Xid 79: GPU has fallen off the bus"));
        assert_eq!(describe(12345).as_deref(), Some("Xid 12345"));
        assert_eq!(describe(0), None);
    }
}
