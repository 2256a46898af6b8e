//! KEYS in QEMU's HMP `sendkey` spelling: key names joined by `-`
//! (`ctrl-alt-delete`, `shift-a`, `ret`), each a QKeyCode name that QMP's
//! `send-key` takes as `{"type": "qcode", "data": NAME}`.
//!
//! The names are the server's to check (it says which one it does not know);
//! only what cannot be a name is refused here: an empty one (`ctrl--`: the
//! key `-` is `minus`) and HMP's `0x..` numbers, which vcmux's server does
//! not take.

use serde_json::{Value, json};

/// KEYS: the names of keys pressed together, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys(pub Vec<String>);

/// KEYS as the names it joins (clap's value parser for it).
pub fn parse(text: &str) -> Result<Keys, String> {
    let mut names = Vec::new();
    for name in text.split('-') {
        if name.is_empty() {
            return Err(format!(
                "'{text}' has an empty key name: names are joined by '-', and the key '-' is 'minus'"
            ));
        }
        if name.starts_with("0x") {
            return Err(format!(
                "'{name}' is a key number; vcmux's control socket takes key names only \
                 (QEMU's qcodes: ctrl, alt, ret, a, f1, …)"
            ));
        }
        names.push(name.to_string());
    }
    Ok(Keys(names))
}

/// QMP's `keys` argument for these keys.
pub fn qcodes(keys: &Keys) -> Value {
    Value::Array(keys.0.iter().map(|name| json!({"type": "qcode", "data": name})).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmp_spelling_becomes_qcodes() {
        assert_eq!(parse("ctrl-alt-delete").unwrap().0, ["ctrl", "alt", "delete"]);
        assert_eq!(parse("ret").unwrap().0, ["ret"]);
        assert_eq!(
            qcodes(&parse("shift-a").unwrap()),
            json!([{"type": "qcode", "data": "shift"}, {"type": "qcode", "data": "a"}])
        );
        assert!(parse("ctrl--").unwrap_err().contains("'minus'"));
        assert!(parse("").is_err());
        assert!(parse("ctrl-0x1d").unwrap_err().contains("key names only"));
    }
}
