//! Hot-plug: a handle that attaches and detaches a hub's backends while the hub
//! runs (what QMP's `chardev-add`/`chardev-remove` ask of it, through
//! launch's plugboard). Each request goes to the hub's pump, which carries it
//! out between two chunks, and comes back with the console offset at which it
//! took effect.

use tokio::sync::{mpsc, oneshot, watch};

use super::attach::{AttachOptions, BackendStats};
use super::backends::{Backends, Closing};
use super::error::HubError;
use super::port::Connector;

/// Requests queued towards the pump before a handle waits to send more.
const REQUEST_QUEUE: usize = 8;

/// A backend attached while the hub ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attached {
    /// The hub's count of bytes read from the frontend when the backend was
    /// attached: the backend's first byte is the console's byte at this offset.
    pub offset: u64,
}

/// A backend detached while the hub ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detached {
    /// The hub's count of bytes read from the frontend when the backend was
    /// detached: it was handed every byte before this offset, none after.
    pub offset: u64,
    /// What it received while it was attached.
    pub stats: BackendStats,
}

/// A way to attach and detach a running hub's backends, from any task; cheap
/// to clone. Requests made before [`super::Hub::run`] wait for it to start;
/// once the hub has stopped they fail with [`HubError::Stopped`].
#[derive(Clone)]
pub struct HubHandle {
    hub: String,
    requests: mpsc::Sender<Request>,
    attached: watch::Receiver<Vec<String>>,
}

impl HubHandle {
    /// Attaches a backend: its first byte is the next byte of console output.
    pub async fn attach(
        &self,
        id: &str,
        connector: Box<dyn Connector>,
        options: AttachOptions,
    ) -> Result<Attached, HubError> {
        let (reply, answer) = oneshot::channel();
        let request = Request::Attach { id: id.to_string(), connector, options, reply };
        self.requests.send(request).await.map_err(|_| self.stopped())?;
        answer.await.map_err(|_| self.stopped())?
    }

    /// Detaches a backend, and returns once its driver has closed its peer
    /// and logfile.
    pub async fn detach(&self, id: &str) -> Result<Detached, HubError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request::Detach { id: id.to_string(), reply })
            .await
            .map_err(|_| self.stopped())?;
        let Detaching { offset, closing } = answer.await.map_err(|_| self.stopped())??;
        Ok(Detached { offset, stats: closing.finish().await })
    }

    /// The ids of the backends attached now, in the hub's order.
    pub fn backends(&self) -> Vec<String> {
        self.attached.borrow().clone()
    }

    fn stopped(&self) -> HubError {
        HubError::Stopped { hub: self.hub.clone() }
    }
}

/// A detach carried out: where, and the driver finishing.
pub(super) struct Detaching {
    offset: u64,
    closing: Closing,
}

/// What a handle asks of the pump.
pub(super) enum Request {
    Attach {
        id: String,
        connector: Box<dyn Connector>,
        options: AttachOptions,
        reply: oneshot::Sender<Result<Attached, HubError>>,
    },
    Detach {
        id: String,
        reply: oneshot::Sender<Result<Detaching, HubError>>,
    },
}

impl Request {
    /// Carries the request out on `backends`, with `offset` bytes read from
    /// the frontend so far and every one of them handed to every backend.
    pub(super) fn serve(self, backends: &mut Backends, offset: u64) {
        match self {
            Request::Attach { id, connector, options, reply } => {
                let result = backends.attach(&id, connector, options).map(|_first_peer| Attached { offset });
                let _ = reply.send(result);
            }
            Request::Detach { id, reply } => {
                let _ = reply.send(backends.detach(&id).map(|closing| Detaching { offset, closing }));
            }
        }
    }
}

/// A hub's side of its handles: the handle to clone, and where requests arrive.
pub(super) fn channel(hub: &str, backends: &Backends) -> (HubHandle, mpsc::Receiver<Request>) {
    let (requests, inbox) = mpsc::channel(REQUEST_QUEUE);
    (HubHandle { hub: hub.to_string(), requests, attached: backends.ids() }, inbox)
}
