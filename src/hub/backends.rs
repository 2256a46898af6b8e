//! The backends a hub drives: attaching one (its driver started), detaching
//! one (its driver let finish), handing a chunk to all, and letting all finish.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use super::attach::{AttachOptions, BackendStats, MAX_BACKENDS};
use super::driver::{Delivery, Driver, Shared};
use super::error::HubError;
use super::port::Connector;

/// A backend as the hub holds it: the way to hand it chunks, and its driver.
struct Attachment {
    id: String,
    deliveries: mpsc::Sender<Delivery>,
    driver: JoinHandle<BackendStats>,
}

/// A hub's backends, in the order they were attached.
pub(super) struct Backends {
    attached: Vec<Attachment>,
    shared: Shared,
    /// The ids attached now, for [`super::HubHandle::backends`].
    ids: watch::Sender<Vec<String>>,
}

impl Backends {
    /// No backends yet; their drivers will send typed input to `input`, and
    /// hear all of it, for peers that record it, on `typed`.
    pub(super) fn new(hub: &str, input: mpsc::Sender<Bytes>, typed: broadcast::Sender<Bytes>) -> Backends {
        Backends {
            attached: Vec::new(),
            shared: Shared { hub: hub.to_string(), input, open: Arc::default(), typed },
            ids: watch::Sender::new(Vec::new()),
        }
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
        let (deliveries, inbox) = mpsc::channel(1);
        let (connected_tx, connected_rx) = oneshot::channel();
        let driver = Driver::new(id, self.shared.clone(), options, connected_tx);
        let driver = tokio::spawn(driver.run(connector, inbox));
        self.attached.push(Attachment { id: id.to_string(), deliveries, driver });
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

    /// Hands `chunk` to every backend and waits until each has written or dropped it.
    pub(super) async fn deliver(&self, chunk: Bytes) {
        let mut answers = Vec::with_capacity(self.attached.len());
        for backend in &self.attached {
            let (done, answer) = oneshot::channel();
            if backend.deliveries.send(Delivery { data: chunk.clone(), done }).await.is_ok() {
                answers.push(answer);
            }
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
        for Attachment { id, deliveries, driver } in self.attached {
            drop(deliveries);
            figures.push((id, driver.await.unwrap_or_default()));
        }
        figures
    }

    fn publish(&self) {
        self.ids.send_replace(self.attached.iter().map(|a| a.id.clone()).collect());
    }
}
