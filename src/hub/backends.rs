//! The backends a hub drives: attaching one (its driver started), detaching
//! one (its driver let finish), handing a chunk to all (cutting off one that
//! fell further behind than its lag), and letting all finish (giving up on a
//! peer that takes nothing for a while, so that a stopped reader never holds
//! vcmux's exit or a `chardev-remove`).

use std::sync::Arc;
use std::time::Duration;

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

/// How long a closing backend may take no bytes at all before its peer is let
/// go with what it still holds: a slow reader finishes, a stopped one does not
/// hold vcmux's exit. Then as long again for the driver to end.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// A backend as the hub holds it: the way to hand it chunks, how far behind
/// it is, and its driver.
struct Attachment {
    id: String,
    /// Unbounded: what it holds is bounded in bytes by its [`Backlog`].
    deliveries: mpsc::UnboundedSender<Delivery>,
    backlog: Arc<Backlog>,
    driver: JoinHandle<BackendStats>,
}

impl Attachment {
    /// Hands it no more chunks: its driver finishes what it holds and ends.
    fn close(self, hub: &str) -> Closing {
        let Attachment { id, deliveries, backlog, driver } = self;
        drop(deliveries);
        Closing { hub: hub.to_string(), id, backlog, driver }
    }
}

/// A backend handed its last chunk, whose driver is finishing.
pub(super) struct Closing {
    hub: String,
    id: String,
    backlog: Arc<Backlog>,
    driver: JoinHandle<BackendStats>,
}

impl Closing {
    /// Waits for the driver to end, and returns its figures. While its peer
    /// takes bytes it is waited for; once it has taken none for
    /// [`CLOSE_GRACE`] it is cut off (peer let go, what it held counted
    /// dropped), and a driver stuck even then (a log on a hung mount) is
    /// abandoned after as long again, its figures lost.
    pub(super) async fn finish(mut self) -> BackendStats {
        let mut behind = self.backlog.behind();
        loop {
            if let Ok(stats) = tokio::time::timeout(CLOSE_GRACE, &mut self.driver).await {
                return stats.unwrap_or_default();
            }
            let now = self.backlog.behind();
            if now == 0 || now >= behind {
                break;
            }
            behind = now;
        }
        let (hub, id) = (&self.hub, &self.id);
        warn!(
            "{hub}: {id} took nothing for {} s while closing: let go, {} bytes it held dropped",
            CLOSE_GRACE.as_secs(),
            self.backlog.behind()
        );
        self.backlog.give_up();
        match tokio::time::timeout(CLOSE_GRACE, &mut self.driver).await {
            Ok(stats) => stats.unwrap_or_default(),
            Err(_) => {
                warn!("{hub}: {id} is stuck closing its peer or logfile: abandoned, its figures lost");
                self.driver.abort();
                BackendStats::default()
            }
        }
    }
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
    /// it, and its driver closes its peer and logfile and ends with its
    /// figures ([`Closing::finish`]).
    pub(super) fn detach(&mut self, id: &str) -> Result<Closing, HubError> {
        let Some(index) = self.attached.iter().position(|a| a.id == id) else {
            return Err(HubError::NotAttached { hub: self.shared.hub.clone(), id: id.to_string() });
        };
        let closing = self.attached.remove(index).close(&self.shared.hub);
        self.publish();
        Ok(closing)
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

    /// Lets every driver finish the chunks it holds and close, all at once;
    /// returns their figures.
    pub(super) async fn flush(self) -> Vec<(String, BackendStats)> {
        self.ids.send_replace(Vec::new());
        let hub = &self.shared.hub;
        let closing: Vec<Closing> = self.attached.into_iter().map(|a| a.close(hub)).collect();
        futures_util::future::join_all(closing.into_iter().map(|c| async move {
            let id = c.id.clone();
            (id, c.finish().await)
        }))
        .await
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
