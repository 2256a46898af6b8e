//! Share links over QMP, vcmux's own commands: `x-vcmux-share` makes one
//! and answers with its URL, `x-vcmux-unshare` revokes one (its viewers
//! leave at once), `x-vcmux-query-shares` lists them (tokens are shown
//! only when made).
//!
//! A link is `http://HOST:PORT/#path=websockify%3Ftoken%3DTOKEN`: the page
//! served on the display's WebSocket port reads its `path` from the fragment
//! (which browsers never send to a server) and hands the token to the
//! WebSocket it opens. Behind a proxy (nginx routing `/console/a/` to the
//! port), `page` says where people reach the page, and the link starts there:
//! the WebSocket path is relative, so the token goes through the proxy too. A view-only link also carries `view_only=true`, so
//! the page hides its keyboard; the server drops such a viewer's input
//! whatever the page does.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use super::args::Args;
use super::console::Console;
use super::error::CommandError;
use super::vnc::{VncAddress, VncAuth, VncDisplay};
use crate::rfb::{ShareInfo, ShareOptions};

/// The longest a share may last: a year.
const MAX_EXPIRES_SECONDS: f64 = 365.0 * 86_400.0;

/// `x-vcmux-share`: `view-only`, `expires` (seconds), `once`, and which
/// `display` (QEMU's id; the first with a WebSocket listener if not said)
/// and `host` (the name the link uses; the listener's address if not said)
/// or `page` (the page's whole URL, as a proxy in front serves it).
pub fn share(console: &Console, mut args: Args) -> Result<Value, CommandError> {
    let view_only = args.optional_bool("view-only")?.unwrap_or(false);
    let once = args.optional_bool("once")?.unwrap_or(false);
    let expires = match args.optional_number("expires")? {
        None => None,
        Some(s) if s > 0.0 && s <= MAX_EXPIRES_SECONDS => Some(Duration::from_secs_f64(s)),
        Some(s) => {
            return Err(CommandError::Failed(format!(
                "Parameter 'expires' must be a number of seconds above 0 and at most a year, not {s}"
            )));
        }
    };
    let display_id = args.optional_string("display")?;
    let host = args.optional_string("host")?;
    let page = args.optional_string("page")?;
    args.finish()?;
    if let Some(page) = &page {
        check_page(page, host.is_some())?;
    }
    let display = web_display(console, display_id.as_deref())?;
    let address = web_address(display).ok_or_else(|| {
        CommandError::Failed(format!("the VNC display {} has no websocket port", display.id))
    })?;
    let new = display
        .shares
        .create(ShareOptions { view_only, expires, once })
        .map_err(|e| CommandError::Failed(e.to_string()))?;
    // With TLS the websocket port speaks only https and wss.
    let secure = matches!(display.auth, VncAuth::X509None | VncAuth::X509Vnc);
    let url = match &page {
        Some(page) => format!("{page}{}", fragment(&new.token, view_only)),
        None => url(&address, host.as_deref(), &new.token, view_only, secure),
    };
    let info = display.shares.list().into_iter().find(|s| s.id == new.id);
    let mut answer = info.map(|i| describe(display, &i)).unwrap_or_else(|| json!({"id": new.id}));
    answer["token"] = json!(new.token);
    answer["url"] = json!(url);
    Ok(answer)
}

/// `x-vcmux-unshare`: `token` (a share's token or id) revoked, on whichever
/// display has it.
pub fn unshare(console: &Console, mut args: Args) -> Result<Value, CommandError> {
    let token = args.string("token")?;
    args.finish()?;
    for display in console.vnc() {
        if let Ok(info) = display.shares.revoke(&token) {
            return Ok(describe(display, &info));
        }
    }
    Err(CommandError::Failed("no share has this token or id".to_string()))
}

/// `x-vcmux-query-shares`: every display's live shares, oldest first.
pub fn query_shares(console: &Console) -> Value {
    console
        .vnc()
        .iter()
        .flat_map(|display| display.shares.list().into_iter().map(move |info| describe(display, &info)))
        .collect()
}

/// A share as listed: no token.
fn describe(display: &VncDisplay, info: &ShareInfo) -> Value {
    let viewers = (display.viewers)().iter().filter(|v| v.share.as_deref() == Some(info.id.as_str())).count();
    let expires_in = info
        .expires_at
        .map(|at| at.duration_since(SystemTime::now()).map(|d| d.as_secs_f64()).unwrap_or(0.0));
    json!({
        "id": info.id,
        "display": display.id,
        "view-only": info.options.view_only,
        "once": info.options.once,
        "expires-in": expires_in,
        "used": info.used,
        "viewers": viewers,
    })
}

/// The display a share is for.
fn web_display<'a>(console: &'a Console, id: Option<&str>) -> Result<&'a VncDisplay, CommandError> {
    let displays = console.vnc();
    match id {
        Some(id) => {
            displays.iter().find(|d| d.id == id).ok_or_else(|| CommandError::DeviceNotFound(id.to_string()))
        }
        None => displays.iter().find(|d| web_address(d).is_some()).ok_or_else(|| {
            CommandError::Failed(
                "no VNC display has a websocket port: share links need -vnc ...,websocket=PORT".to_string(),
            )
        }),
    }
}

/// The TCP address of a display's WebSocket listener.
fn web_address(display: &VncDisplay) -> Option<SocketAddr> {
    display.listeners.iter().find_map(|l| match (&l.address, l.websocket) {
        (VncAddress::Tcp(addr), true) => Some(*addr),
        _ => None,
    })
}

/// The link: `host` or the listener's address (for one on every address,
/// this machine's name), and the token in the fragment; `https` when the
/// port is `secure` (TLS).
fn url(address: &SocketAddr, host: Option<&str>, token: &str, view_only: bool, secure: bool) -> String {
    let host = match host {
        Some(host) => host.to_string(),
        None if address.ip().is_unspecified() => nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_else(|| "localhost".into()),
        None => match address.ip() {
            IpAddr::V6(ip) => format!("[{ip}]"),
            IpAddr::V4(ip) => ip.to_string(),
        },
    };
    let scheme = if secure { "https" } else { "http" };
    format!("{scheme}://{host}:{}/{}", address.port(), fragment(token, view_only))
}

/// The part of a link after the page's URL: the WebSocket path, relative to
/// the page, with the token, and the page's own view-only setting.
fn fragment(token: &str, view_only: bool) -> String {
    let view_only = if view_only { "&view_only=true" } else { "" };
    format!("#path=websockify%3Ftoken%3D{token}{view_only}")
}

/// A `page` URL must be a page a link can start with: http(s), ending in `/`
/// (the page finds its WebSocket beside it, so `/console/a` would look for
/// `/console/websockify`), without a fragment of its own; and it says the
/// host itself.
fn check_page(page: &str, with_host: bool) -> Result<(), CommandError> {
    let problem = if with_host {
        Some("give either 'host' or 'page', not both")
    } else if !(page.starts_with("https://") || page.starts_with("http://")) {
        Some("it must start with https:// or http://")
    } else if !page.ends_with('/') {
        Some("it must end with / (the page finds its WebSocket beside it)")
    } else if page.contains(['#', '?']) || page.chars().any(char::is_whitespace) {
        Some("it may hold no #, ? or space")
    } else {
        None
    };
    match problem {
        Some(why) => Err(CommandError::Failed(format!("Parameter 'page' ({page}): {why}"))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_carries_its_token_in_the_fragment() {
        let v4: SocketAddr = "127.0.0.1:5700".parse().unwrap();
        assert_eq!(
            url(&v4, None, "ab12", false, false),
            "http://127.0.0.1:5700/#path=websockify%3Ftoken%3Dab12"
        );
        let v6: SocketAddr = "[::1]:5700".parse().unwrap();
        assert_eq!(
            url(&v6, Some("console.example"), "ab12", true, false),
            "http://console.example:5700/#path=websockify%3Ftoken%3Dab12&view_only=true"
        );
        assert!(url(&v6, None, "x", false, false).starts_with("http://[::1]:5700/"));
        assert!(url(&v4, None, "x", false, true).starts_with("https://127.0.0.1:5700/"));
    }

    #[test]
    fn a_page_behind_a_proxy_must_be_a_directory_url_of_its_own() {
        assert!(check_page("https://consoles.example/console/a/", false).is_ok());
        for bad in [
            "https://consoles.example/console/a",
            "ftp://x/",
            "/console/a/",
            "https://x/#y/",
            "https://x/?a/",
        ] {
            assert!(check_page(bad, false).is_err(), "{bad}");
        }
        assert!(check_page("https://consoles.example/console/a/", true).is_err());
    }
}
