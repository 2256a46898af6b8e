//! Answers for people: `query chardev` as a table, the other queries in a
//! line or a few, and any shape not known here (`query vnc` grows fields)
//! as indented `key: value` lines.

use serde_json::Value;

/// `query-chardev`'s list as a table: label, filename, frontend-open.
pub fn chardevs(value: &Value) -> String {
    let Some(list) = value.as_array() else { return generic(value) };
    let mut rows = vec![["label".to_string(), "filename".to_string(), "frontend-open".to_string()]];
    for chardev in list {
        rows.push([
            scalar(chardev.get("label").unwrap_or(&Value::Null)),
            scalar(chardev.get("filename").unwrap_or(&Value::Null)),
            scalar(chardev.get("frontend-open").unwrap_or(&Value::Null)),
        ]);
    }
    let width = |column: usize| rows.iter().map(|r| r[column].chars().count()).max().unwrap_or(0);
    let (label, filename) = (width(0), width(1));
    rows.iter().map(|[a, b, c]| format!("{a:<label$}  {b:<filename$}  {c}\n")).collect()
}

/// `x-vcmux-query-shares`' list as a table: id, display, what it allows,
/// when it expires, how often it was used, viewers now.
pub fn shares(value: &Value) -> String {
    let Some(list) = value.as_array() else { return generic(value) };
    if list.is_empty() {
        return "no share links\n".to_string();
    }
    let mut rows = vec![["id", "display", "access", "expires-in", "used", "viewers"].map(String::from)];
    for share in list {
        let mut access =
            if share["view-only"].as_bool() == Some(true) { "view-only" } else { "read-write" }.to_string();
        if share["once"].as_bool() == Some(true) {
            access.push_str(",once");
        }
        let expires = match share["expires-in"].as_f64() {
            Some(s) => format!("{}s", s.round()),
            None => "never".to_string(),
        };
        rows.push([
            scalar(&share["id"]),
            scalar(&share["display"]),
            access,
            expires,
            scalar(&share["used"]),
            scalar(&share["viewers"]),
        ]);
    }
    let widths: Vec<usize> =
        (0..6).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    rows.iter()
        .map(|row| {
            let cells: Vec<String> =
                row.iter().zip(&widths).map(|(cell, &w)| format!("{cell:<w$}")).collect();
            format!("{}\n", cells.join("  ").trim_end())
        })
        .collect()
}

/// `query-status`: `status: running`.
pub fn status(value: &Value) -> String {
    match value.get("status").and_then(Value::as_str) {
        Some(status) => format!("status: {status}\n"),
        None => generic(value),
    }
}

/// `query-version`: the package (`vcmux 0.1.0`), else QEMU's numbers.
pub fn version(value: &Value) -> String {
    if let Some(package) = value.get("package").and_then(Value::as_str).filter(|p| !p.trim().is_empty()) {
        return format!("{}\n", package.trim());
    }
    let qemu = &value["qemu"];
    match (qemu["major"].as_u64(), qemu["minor"].as_u64(), qemu["micro"].as_u64()) {
        (Some(major), Some(minor), Some(micro)) => format!("{major}.{minor}.{micro}\n"),
        _ => generic(value),
    }
}

/// `query-commands`: one name a line.
pub fn commands(value: &Value) -> String {
    let names: Option<Vec<&str>> = value
        .as_array()
        .map(|list| list.iter().filter_map(|c| c.get("name").and_then(Value::as_str)).collect());
    match names {
        Some(names) if !names.is_empty() => names.iter().map(|n| format!("{n}\n")).collect(),
        _ => generic(value),
    }
}

/// Any JSON as indented `key: value` lines and `- item` lists.
pub fn generic(value: &Value) -> String {
    let mut out = String::new();
    nested(value, 0, &mut out);
    if out.is_empty() {
        out.push_str(&scalar(value));
        out.push('\n');
    }
    out
}

fn nested(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(object) => {
            for (key, item) in object {
                if is_leaf(item) {
                    out.push_str(&format!("{pad}{key}: {}\n", scalar(item)));
                } else {
                    out.push_str(&format!("{pad}{key}:\n"));
                    nested(item, indent + 2, out);
                }
            }
        }
        Value::Array(list) => {
            for item in list {
                if is_leaf(item) {
                    out.push_str(&format!("{pad}- {}\n", scalar(item)));
                } else {
                    // The item's first line carries the dash.
                    let mut inner = String::new();
                    nested(item, indent + 2, &mut inner);
                    out.push_str(&format!("{pad}- {}", &inner[indent + 2..]));
                }
            }
        }
        leaf => out.push_str(&format!("{pad}{}\n", scalar(leaf))),
    }
}

/// Whether a value prints on its key's line: not an object or list with
/// something in it.
fn is_leaf(value: &Value) -> bool {
    match value {
        Value::Object(o) => o.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => true,
    }
}

/// A value on one line: strings bare, `{}` and `[]` for empty ones.
fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn known_queries_read_as_people_read_them() {
        let list = json!([
            {"label": "vc0", "filename": "vc", "frontend-open": true},
            {"label": "serial", "filename": "unix:/tmp/s,server=on", "frontend-open": true},
        ]);
        assert_eq!(
            chardevs(&list),
            "label   filename               frontend-open\n\
             vc0     vc                     true\n\
             serial  unix:/tmp/s,server=on  true\n"
        );
        assert_eq!(status(&json!({"running": true, "status": "running"})), "status: running\n");
        assert_eq!(
            version(&json!({"qemu": {"major": 0, "minor": 1, "micro": 0}, "package": "vcmux 0.1.0"})),
            "vcmux 0.1.0\n"
        );
        assert_eq!(version(&json!({"qemu": {"major": 9, "minor": 2, "micro": 1}, "package": ""})), "9.2.1\n");
        assert_eq!(commands(&json!([{"name": "quit"}, {"name": "send-key"}])), "quit\nsend-key\n");
    }

    #[test]
    fn unknown_shapes_are_indented_lines() {
        let vnc = json!({
            "enabled": true,
            "host": "127.0.0.1",
            "clients": [{"host": "127.0.0.1", "service": "50000"}, {"host": "::1", "service": "4"}],
            "tags": ["a", "b"],
            "none": [],
        });
        assert_eq!(
            generic(&vnc),
            // Keys in serde_json's order (sorted).
            "clients:\n  - host: 127.0.0.1\n    service: 50000\n  - host: ::1\n    service: 4\n\
             enabled: true\nhost: 127.0.0.1\nnone: []\ntags:\n  - a\n  - b\n"
        );
        assert_eq!(generic(&json!({})), "{}\n");
        assert_eq!(generic(&json!([[1, 2], 3])), "- - 1\n  - 2\n- 3\n");
    }
}
