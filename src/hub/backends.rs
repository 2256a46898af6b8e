//! The backends a hub drives: attaching one (its driver started), detaching
//! one (its driver let finish), handing a chunk to all (cutting off one that
//! fell further behind than its lag), and letting all finish.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tracing::warn;

use super::attach::{AttachOptions, BackendStats, CutOff, MAX_BACKENDS};
use super::driver::{Delivery, Driver, Shared};
use super::error::HubError;
use super::lag::{Admission, Backlog};
use super::port::Connector;

/// Cut-offs kept for a listener that is slow to hear them; older ones are lost.
const CUT_OFF_QUEUE: usize = 16;

/// A backend as the hub holds it: the way to hand it chunks, how far behind
/// it is, and its driver.
struct Attachment {
    id: String,
    /// Unbounded: what it holds is bounded in bytes by its [`Backlog`].
    deliveries: mpsc::UnboundedSender<Delivery>,
    backlog: Arc<Backlog>,
    driver: JoinHandle<BackendStats>,
}

/// A hub's backends, in the order they were attached.
pub(super) struct Backends {
    attached: Vec<Attachment>,
    shared: Shared,
    /// The ids attached now, for [`super::HubHandle::backends`].
    ids: watch::Sender<Vec<String>>,
    /// Where the hub tells of each backend it cuts off.
    cut_offs: broadcast::Sender<CutOff>,
}

impl Backends {
    /// No backends yet; their drivers will send typed input to `input`, and
    /// hear all of it, for peers that record it, on `typed`.
    pub(super) fn new(hub: &str, input: mpsc::Sender<Bytes>, typed: broadcast::Sender<Bytes>) -> Backends {
        Backends {
            attached: Vec::new(),
            shared: Shared { hub: hub.to_string(), input, open: Arc::default(), typed },
            ids: watch::Sender::new(Vec::new()),
            cut_offs: broadcast::Sender::new(CUT_OFF_QUEUE),
        }
    }

    /// Each backend cut off from now on for falling too far behind.
    pub(super) fn cut_offs(&self) -> broadcast::Receiver<CutOff> {
        self.cut_offs.subscribe()
    }

    /// The ids attached now and as they change.
    pub(super) fn ids(&self) -> watch::Receiver<Vec<String>> {
        self.ids.subscribe()
    }

    /// Starts a driver for a new backend; the receiver fires when its first
    /// peer has connected.
    pub(super) fn attach(
        &mut self,
        id: &str,
        connector: Box<dyn Connector>,
        options: AttachOptions,
    ) -> Result<oneshot::Receiver<()>, HubError> {
        let hub = &self.shared.hub;
        if self.attached.iter().any(|a| a.id == id) {
            return Err(HubError::AlreadyAttached { hub: hub.clone(), id: id.to_string() });
        }
        if self.attached.len() >= MAX_BACKENDS {
            return Err(HubError::TooManyBackends { hub: hub.clone(), id: id.to_string() });
        }
        let (deliveries, inbox) = mpsc::unbounded_channel();
        let (connected_tx, connected_rx) = oneshot::channel();
        let backlog = Arc::new(Backlog::new(options.lag));
        let driver = Driver::new(id, self.shared.clone(), options, backlog.clone(), connected_tx);
        let driver = tokio::spawn(driver.run(connector, inbox));
        self.attached.push(Attachment { id: id.to_string(), deliveries, backlog, driver });
        self.publish();
        Ok(connected_rx)
    }

    /// Takes a backend out: it gets no chunk after the ones already handed to
    /// it, and its driver closes its peer and logfile and ends with its figures.
    pub(super) fn detach(&mut self, id: &str) -> Result<JoinHandle<BackendStats>, HubError> {
        let Some(index) = self.attached.iter().position(|a| a.id == id) else {
            return Err(HubError::NotAttached { hub: self.shared.hub.clone(), id: id.to_string() });
        };
        let Attachment { deliveries, driver, .. } = self.attached.remove(index);
        drop(deliveries);
        self.publish();
        Ok(driver)
    }

    /// Hands `chunk`, read at console offset `offset`, to every backend, and
    /// waits until each backend with a lag of 0 has written or dropped it. A
    /// backend that falls further behind than its lag is cut off (and said so,
    /// once, in the log and to [`Backends::cut_offs`]).
    pub(super) async fn deliver(&self, chunk: Bytes, offset: u64) {
        let mut answers = Vec::with_capacity(self.attached.len());
        for backend in &self.attached {
            let done = match backend.backlog.admit(chunk.len()) {
                Admission::Skip => continue,
                Admission::Wait => {
                    let (done, answer) = oneshot::channel();
                    answers.push(answer);
                    Some(done)
                }
                Admission::Hand => None,
                Admission::Cut { behind } => {
                    self.cut_off(backend, behind, offset);
                    None
                }
            };
            // A driver that has ended (it panicked) answers nobody; its
            // answer's sender is dropped with the delivery.
            let _ = backend.deliveries.send(Delivery { data: chunk.clone(), done });
        }
        drop(chunk);
        for answer in answers {
            let _ = answer.await;
        }
    }

    /// Lets every driver finish the chunk it holds and close; returns their figures.
    pub(super) async fn flush(self) -> Vec<(String, BackendStats)> {
        self.ids.send_replace(Vec::new());
        let mut figures = Vec::with_capacity(self.attached.len());
        for Attachment { id, deliveries, driver, .. } in self.attached {
            drop(deliveries);
            figures.push((id, driver.await.unwrap_or_default()));
        }
        figures
    }

    fn cut_off(&self, backend: &Attachment, behind: usize, offset: u64) {
        let hub = &self.shared.hub;
        let lag = backend.backlog.lag();
        warn!(
            "{hub}: {} fell {behind} bytes behind the console (lag={lag}): cut off at console offset \
             {offset}, its peer let go and those bytes dropped; it may connect again at the current position",
            backend.id
        );
        let cut = CutOff { hub: hub.clone(), backend: backend.id.clone(), lag, behind, offset };
        // Nobody listening is no error.
        let _ = self.cut_offs.send(cut);
    }

    fn publish(&self) {
        self.ids.send_replace(self.attached.iter().map(|a| a.id.clone()).collect());
    }
}
