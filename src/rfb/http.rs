//! The websocket port's HTTP side (hyper): `GET /` answers with noVNC's page
//! and its files ([`novnc`](crate::novnc)), each `Cache-Control: no-cache`,
//! and a WebSocket upgrade on `/websockify` (the page's) or `/` (what
//! viewers that know no page use) becomes a viewer's session. An upgrade
//! may carry a share link's token (`?token=…`): it lets the viewer in
//! without the console's password, as the share allows; a bad, expired or
//! used token is refused with `403` before any RFB is spoken.
//!
//! It serves any byte stream, so TLS can be wrapped underneath. HTTP
//! connections are bounded ([`MAX_HTTP`] at once, headers within the
//! handshake timeout); a viewer's connection counts against the connection
//! limit from its upgrade on.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::Semaphore;
use tracing::{debug, info};

use super::connection;
use super::lifecycle::Peer;
use super::viewers::Shared;
use super::websocket;
use crate::novnc;

/// The most HTTP connections served at once, past the viewers: a browser
/// opens about six to load the page.
pub(crate) const MAX_HTTP: usize = 64;

/// The paths a WebSocket upgrade is accepted on.
const WEBSOCKET_PATHS: [&str; 2] = ["/", "/websockify"];

/// Serves HTTP on `stream` from `peer`: pages, and viewers that upgrade.
/// `connections` counts the server's HTTP connections: past [`MAX_HTTP`],
/// this one is closed at once. `x509_dname` is the subject of the client
/// certificate shown in the TLS session underneath, if any.
pub(crate) async fn serve<S>(
    shared: Arc<Shared>,
    connections: &Semaphore,
    stream: S,
    peer: Peer,
    x509_dname: Option<String>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Ok(_permit) = connections.try_acquire() else {
        info!("vnc: refused HTTP from {peer}: {MAX_HTTP} HTTP connections are open");
        return;
    };
    let timeout = shared.settings.handshake_timeout;
    let shutdown = shared.shutdown().clone();
    let service = {
        let (shared, peer) = (shared.clone(), peer.clone());
        service_fn(move |request| {
            let answer = answer(&shared, request, &peer, x509_dname.as_deref());
            async move { Ok::<_, Infallible>(answer) }
        })
    };
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(timeout)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::select! {
        served = connection => if let Err(e) = served {
            debug!("vnc: HTTP with {peer} ended: {e}");
        },
        () = shutdown.cancelled() => {}
    }
}

/// The answer to one request.
fn answer(
    shared: &Arc<Shared>,
    mut request: Request<Incoming>,
    peer: &Peer,
    x509_dname: Option<&str>,
) -> Response<Full<Bytes>> {
    let path = request.uri().path();
    if websocket::is_upgrade(&request) {
        if !WEBSOCKET_PATHS.contains(&path) {
            return plain(StatusCode::NOT_FOUND, "no WebSocket here: use /websockify");
        }
        let switching = match websocket::switching_protocols(&request) {
            Ok(switching) => switching,
            Err(why) => return plain(StatusCode::BAD_REQUEST, why),
        };
        let Some(slot) = shared.take_slot() else {
            let limit = shared.settings.connections;
            info!("vnc: refused {peer}: the limit of {limit} connections is reached");
            return plain(StatusCode::SERVICE_UNAVAILABLE, "too many viewers are connected");
        };
        let grant = match token(request.uri().query()) {
            None => None,
            Some(token) => match shared.shares.admit(token) {
                Ok(grant) => Some(grant),
                Err(e) => {
                    info!("vnc: refused {peer}: {e}");
                    return plain(StatusCode::FORBIDDEN, &e.to_string());
                }
            },
        };
        let upgrade = hyper::upgrade::on(&mut request);
        let (shared, peer, subject) = (shared.clone(), peer.clone(), x509_dname.map(str::to_string));
        tokio::spawn(async move {
            match upgrade.await {
                Ok(upgraded) => {
                    let stream = websocket::byte_stream(TokioIo::new(upgraded)).await;
                    connection::serve(shared, stream, peer, true, grant, subject, &slot).await;
                }
                Err(e) => info!("vnc: websocket upgrade with {peer} failed: {e}"),
            }
        });
        return switching.map(|()| Full::default());
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD");
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    match novnc::asset(path) {
        Some(asset) => {
            let mut response = Response::new(Full::new(Bytes::from_static(asset.bytes)));
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
            no_cache(headers);
            response
        }
        None => plain(StatusCode::NOT_FOUND, "not found"),
    }
}

/// The `token` of a query string.
fn token(query: Option<&str>) -> Option<&str> {
    query?.split('&').find_map(|pair| pair.strip_prefix("token="))
}

/// A short plain-text answer.
fn plain(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(format!("{text}\n"))));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    no_cache(headers);
    response
}

/// Every answer is checked again before use: a new vcmux's page is never
/// mixed with an old one's cached modules.
fn no_cache(headers: &mut hyper::HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
}
