//! noVNC's browser client, vendored from its 1.7.0 source tree
//! (`assets/novnc/`: `vnc.html`, `app/`, `core/`, `vendor/pako/`, its
//! `package.json` and `LICENSE.txt`, MPL 2.0) and compiled into the binary,
//! so that the websocket port serves a page that needs no file from
//! elsewhere. Two small files are vcmux's own: `defaults.json`, which
//! `vnc.html` reads to connect at once to the websocket beside it, and an
//! empty `mandatory.json`.

use include_dir::{Dir, include_dir};

/// The vendored tree.
static TREE: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/assets/novnc");

/// The path, relative to the page, that the page's websocket connects to.
pub const WEBSOCKET_PATH: &str = "websockify";

/// What `vnc.html` reads as its defaults: connect at once to
/// [`WEBSOCKET_PATH`] beside the page (a relative path, so the page also
/// works behind a proxy under a prefix), and no reconnecting. The link's
/// fragment overrides these (a share link's `path` carries its token).
const DEFAULTS: &str = r#"{"autoconnect": true, "path": "websockify", "reconnect": false, "resize": "off"}"#;

/// One file of the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asset {
    /// Its bytes.
    pub bytes: &'static [u8],
    /// Its `Content-Type`.
    pub content_type: &'static str,
}

/// The file at `path` (the request's path, `/` being `vnc.html`), if the
/// client has it.
pub fn asset(path: &str) -> Option<Asset> {
    let relative = match path.strip_prefix('/')? {
        "" => "vnc.html",
        "defaults.json" => return Some(Asset { bytes: DEFAULTS.as_bytes(), content_type: JSON }),
        "mandatory.json" => return Some(Asset { bytes: b"{}", content_type: JSON }),
        other => other,
    };
    // `include_dir` looks paths up as given: no `..` or `.` can climb out,
    // but refuse them anyway rather than rely on it.
    if relative.split('/').any(|part| part.is_empty() || part == "." || part == "..") {
        return None;
    }
    let file = TREE.get_file(relative)?;
    Some(Asset { bytes: file.contents(), content_type: content_type(relative) })
}

const JSON: &str = "application/json";

/// The `Content-Type` of a vendored file, by its extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => JSON,
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("ttf") => "font/ttf",
        Some("woff") => "font/woff",
        Some("mp3") => "audio/mpeg",
        Some("oga") => "audio/ogg",
        Some("txt" | "md") | None => "text/plain; charset=utf-8",
        Some(_) => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_its_modules_and_licence_are_served_and_nothing_outside() {
        let page = asset("/").expect("vnc.html");
        assert!(page.content_type.starts_with("text/html"));
        assert!(std::str::from_utf8(page.bytes).unwrap().contains("app/ui.js"));
        assert!(asset("/core/rfb.js").unwrap().content_type.starts_with("text/javascript"));
        assert!(asset("/vendor/pako/lib/zlib/inflate.js").is_some());
        assert!(asset("/LICENSE.txt").is_some());
        let defaults: serde_json::Value =
            serde_json::from_slice(asset("/defaults.json").unwrap().bytes).unwrap();
        assert_eq!(defaults["autoconnect"], true);
        assert_eq!(defaults["path"], WEBSOCKET_PATH);
        for bad in ["/../Cargo.toml", "/core/../vnc.html", "//etc/passwd", "/nothing.js", "vnc.html", "/app/"]
        {
            assert_eq!(asset(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_file_vnc_html_names_is_there() {
        let page = std::str::from_utf8(asset("/").unwrap().bytes).unwrap();
        let named = regex::Regex::new(r#"(?:src|href)="(app/[^"]+)""#).unwrap();
        let mut count = 0;
        for found in named.captures_iter(page) {
            assert!(asset(&format!("/{}", &found[1])).is_some(), "{}", &found[1]);
            count += 1;
        }
        assert!(count > 20, "{count}");
    }
}
