//! Hex strings, as xterm's title modes (XTSMTITLE) and XTGETTCAP carry bytes.

/// `bytes` as upper-case hex digits, two a byte.
pub(crate) fn encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The bytes that pairs of hex digits stand for; `None` for an odd length
/// or a byte that is not a hex digit.
pub(crate) fn decode(hex: &[u8]) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    hex.chunks(2)
        .map(|p| {
            let s = std::str::from_utf8(p).ok()?;
            u8::from_str_radix(s, 16).ok()
        })
        .collect()
}
