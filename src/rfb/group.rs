//! Encode once, send to many: viewers that want their updates in the same
//! encoding and pixel format ([`GroupKey`]) are sent the same bytes, encoded
//! once by their group on a frame clock.
//!
//! A group keeps a pending region of its own (a registry entry like a
//! viewer's) and its own encoders. While one of its viewers has taken the
//! newest frame (it is sending it, or waits for the next), its task
//! ([`produce`]) takes that region at the next tick of the clock (at most
//! `rate` frames a second, [`ServerSettings::frame_rate`]; at once within
//! `viewers::BOOST` of the pointer), encodes it and appends it to a short
//! log of [`Frame`]s: the next
//! frame is encoded while the viewers' round trip for the last one goes on,
//! and none is encoded while every viewer is behind or nothing changed. Each
//! viewer sends, whenever it is ready (asked, and not throttled), every
//! frame after the last it sent, as one FramebufferUpdate: a viewer that
//! keeps up gets every frame, a slower one fewer, larger updates, and none
//! waits for another. A viewer fed the same frames holds the same
//! decoder state as the group's encoders (ZRLE's one zlib stream, Tight's
//! four), so the bytes that follow decode for it too. Viewers in ZRLE,
//! Tight, Hextile or Raw share.
//!
//! A key's echo gets a frame of its own, whether or not a member took the
//! newest frame: if the desktop had not changed since the last frame when
//! the key came, the next change is taken to be its echo and goes at once
//! (a shell); on a busy desktop (a flood) a change that came after the key
//! may still be the program's earlier output, so the frame is cut [`ECHO`]
//! after the key, and none is cut before that. The typist's viewer then
//! gets the echo in the first update after its key, not after a frame
//! encoded before it; and it takes that frame alone for [`TYPIST_FIRST`],
//! so that it decodes it before the other members' decoders compete with
//! its own for the CPU.
//!
//! A viewer joins after an update of its own (its ZRLE stream, or each of
//! its Tight streams, must have started: the group's send no zlib header;
//! Tight starts them in a viewer's first update), at a keyframe: a frame
//! that repaints the whole screen with encoders that forget what came
//! before (ZRLE matches nothing earlier; Tight's streams go on from fresh
//! raw-deflate compressors), so it decodes the same whatever the viewer was
//! sent. Tight's streams are never reset (the rectangle's reset bits: noVNC's
//! inflater, pako, fails after one). The group makes its next frame a
//! keyframe while someone waits to join and the log holds none.
//!
//! A viewer leaves (and goes on alone, with the whole screen pending and its
//! own encoders resumed from the [`Checkpoint`] of the last frame it sent,
//! or for Tight from fresh compressors)
//! when it falls out of the log (it lagged [`MAX_FRAMES`] frames or
//! [`MAX_BYTES`]), asks for something else (a non-incremental update, another
//! format or encoding), is given a framebuffer of its own (scrolled back), or
//! the screen is resized (the group dissolves: each viewer is told its new
//! size alone). What each viewer keeps is then its place in the log; the
//! framebuffer copies, zlib windows and hash chains are the group's.

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tracing::debug;

use super::desktop::ViewerId;
use super::encoding::{Checkpoint, Effort, Encoders, Encoding};
use super::group_key::GroupKey;
use super::pending::Pending;
use super::update::{self, Cut, Spare, update_cost};
use super::viewers::{BOOST, Shared, lock};
use crate::frame::Rect;
use crate::memory::{self, Reservation};

/// How long after a key on a busy desktop its echo is taken to be drawn:
/// the program must see the key and answer, and vcmux read and draw that.
const ECHO: Duration = Duration::from_millis(2);

/// How long the desktop must have gone without a frame for the next to be
/// worth the best effort (a keystroke's echo, a screen that settles):
/// sooner, frames are coming one after another and go at the fast effort.
const QUIET: Duration = Duration::from_millis(100);

/// How long a key's echo frame goes to the viewer that typed the key alone,
/// before the others take it too: it then decodes the frame while they do
/// not yet compete with it for the CPU, and they are shown it that much later.
const TYPIST_FIRST: Duration = Duration::from_micros(1500);

/// Frames a group keeps for viewers behind; one further behind leaves it.
pub(super) const MAX_FRAMES: usize = 32;

/// Encoded bytes a group keeps for viewers behind.
pub(super) const MAX_BYTES: usize = 4 << 20;

/// One update, encoded once for a group.
pub(super) struct Frame {
    /// Its place in the group's log.
    seq: u64,
    /// Its rectangles, headers included.
    pub body: Vec<u8>,
    /// How many.
    pub count: u32,
    /// Decodes the same whatever a viewer was sent before.
    keyframe: bool,
    /// A frame cut for a key's echo goes to the viewer that typed it first:
    /// the others take it from this time on ([`TYPIST_FIRST`]).
    typist: Option<(ViewerId, Instant)>,
    /// The group's streams after it (ZRLE's window), for a viewer leaving here.
    checkpoint: Checkpoint,
    /// Its bytes, held on the process's budget while the log keeps it.
    _memory: Reservation,
}

/// Viewers sent the same bytes, and the task that encodes them.
pub(super) struct Group {
    key: GroupKey,
    /// Its registry entry: what changed since its last frame.
    id: ViewerId,
    pending: Arc<Mutex<Pending>>,
    log: Mutex<Log>,
    /// The newest frame's `seq`.
    head: watch::Sender<u64>,
    /// A member took the newest frame or waits past it, someone joined or
    /// left: what the group may encode next changed.
    wanted: Notify,
}

/// A group's frames and members.
struct Log {
    frames: VecDeque<Arc<Frame>>,
    bytes: usize,
    next_seq: u64,
    /// The newest frame a member has taken (0: the founder's state, before
    /// the first). A member that took the head is sending it or waits past
    /// it: the group encodes the next frame meanwhile, on the clock.
    taken: u64,
    /// Each member's flag, set when it must leave.
    members: HashMap<ViewerId, Arc<AtomicBool>>,
    /// Members that have not taken a keyframe yet.
    joiners: usize,
}

impl Log {
    /// The newest frame's `seq` (0 before the first).
    fn head(&self) -> u64 {
        self.next_seq - 1
    }

    /// Whether a member has taken the newest frame: the next is worth
    /// encoding now, while it is sent (it is what that member asks for next).
    fn at_head(&self) -> bool {
        self.taken == self.head()
    }

    /// Whether a member waits to join and the log holds no keyframe it can
    /// start from.
    fn needs_keyframe(&self) -> bool {
        self.joiners > 0 && !self.frames.iter().any(|f| f.keyframe)
    }
}

/// What a member is to send next.
pub(super) enum Next {
    /// These frames, in order.
    Frames(Vec<Arc<Frame>>),
    /// Nothing yet: wait for the head to move.
    Wait,
    /// It must leave the group and go on alone.
    Evicted,
}

/// One viewer's place in a group; it leaves when this is dropped.
pub(super) struct Membership {
    group: Arc<Group>,
    viewer: ViewerId,
    /// The last frame sent; `None` until it takes a keyframe.
    cursor: Option<u64>,
    evicted: Arc<AtomicBool>,
    /// Moves when a frame is added.
    pub head: watch::Receiver<u64>,
    /// Its streams after the last frame sent.
    checkpoint: Checkpoint,
}

impl Membership {
    /// The group's key.
    pub fn key(&self) -> GroupKey {
        self.group.key
    }

    /// Whether it has taken a keyframe (its own encoders are not needed).
    pub fn joined(&self) -> bool {
        self.cursor.is_some()
    }

    /// Its streams after the last frame it sent.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The frames to send now, at most 65535 rectangles.
    pub fn next(&mut self) -> Next {
        self.head.borrow_and_update();
        if self.evicted.load(Ordering::SeqCst) {
            return Next::Evicted;
        }
        let mut log = lock(&self.group.log);
        let from = match self.cursor {
            None => match log.frames.iter().rposition(|f| f.keyframe) {
                Some(at) => at,
                None => return Next::Wait,
            },
            Some(cursor) => match log.frames.front() {
                Some(first) if first.seq > cursor + 1 => return Next::Evicted,
                Some(first) => (cursor + 1 - first.seq) as usize,
                None if log.next_seq > cursor + 1 => return Next::Evicted,
                None => return Next::Wait,
            },
        };
        let mut frames = Vec::new();
        let mut count = 0u32;
        for frame in log.frames.iter().skip(from) {
            if count + frame.count > u32::from(u16::MAX) && !frames.is_empty() {
                break;
            }
            if frame.typist.is_some_and(|(typist, until)| typist != self.viewer && Instant::now() < until) {
                // The typist's for now: the group wakes every member when
                // the others may take it.
                break;
            }
            count += frame.count;
            frames.push(frame.clone());
        }
        let Some(last) = frames.last() else { return Next::Wait };
        if self.cursor.is_none() {
            log.joiners -= 1;
            debug!("vnc: viewer {} joined a {:?} group at a keyframe", self.viewer, self.group.key.encoding);
        }
        self.cursor = Some(last.seq);
        self.checkpoint = last.checkpoint.clone();
        if last.seq > log.taken {
            log.taken = last.seq;
            drop(log);
            // The first at the head: the group may encode the next frame.
            self.group.wanted.notify_one();
        }
        Next::Frames(frames)
    }

    /// Tells the group this viewer waits for a frame past the head.
    pub fn want(&self) {
        self.group.wanted.notify_one();
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        let mut log = lock(&self.group.log);
        log.members.remove(&self.viewer);
        if self.cursor.is_none() {
            log.joiners -= 1;
        }
        drop(log);
        self.group.wanted.notify_one();
    }
}

impl Shared {
    /// Makes `viewer` a member of the group of `key` (a new one if there is
    /// none), waiting for a keyframe.
    ///
    /// A viewer that starts a group needs no keyframe: the group goes on
    /// from its state, its `pending` region and its `encoders`' streams.
    pub(super) fn join(
        self: &Arc<Self>,
        viewer: ViewerId,
        key: GroupKey,
        pending: &Mutex<Pending>,
        encoders: &Encoders,
    ) -> Option<Membership> {
        let mut groups = lock(&self.groups);
        let mut founded = None;
        let found = groups.get(&key).and_then(|g| g.clone().downcast::<Group>().ok());
        let group = match found {
            Some(group) => group,
            None => {
                let id = self.next_id();
                let pending = self.add_group_entry(id, pending)?;
                let (head, _) = watch::channel(0);
                let group = Arc::new(Group {
                    key,
                    id,
                    pending,
                    log: Mutex::new(Log {
                        frames: VecDeque::new(),
                        bytes: 0,
                        next_seq: 1,
                        taken: 0,
                        members: HashMap::new(),
                        joiners: 0,
                    }),
                    head,
                    wanted: Notify::new(),
                });
                groups.insert(key, group.clone());
                let checkpoint = encoders.checkpoint();
                let mut streams = Encoders::shared();
                streams.resume(&checkpoint);
                tokio::spawn(produce(self.clone(), group.clone(), streams));
                founded = Some(checkpoint);
                debug!("vnc: viewer {viewer} started a {:?} group", key.encoding);
                group
            }
        };
        let evicted = Arc::new(AtomicBool::new(false));
        let mut log = lock(&group.log);
        log.members.insert(viewer, evicted.clone());
        let cursor = founded.is_some().then_some(0);
        if cursor.is_none() {
            log.joiners += 1;
        }
        drop(log);
        let head = group.head.subscribe();
        group.wanted.notify_one();
        let checkpoint = founded.unwrap_or_default();
        Some(Membership { group, viewer, cursor, evicted, head, checkpoint })
    }

    /// Removes `group` if nobody is in it; whether it was.
    fn close_if_empty(&self, group: &Arc<Group>) -> bool {
        let mut groups = lock(&self.groups);
        if !lock(&group.log).members.is_empty() {
            return false;
        }
        if groups.get(&group.key).is_some_and(|g| is(g, group)) {
            groups.remove(&group.key);
        }
        self.remove_entry(group.id);
        true
    }
}

impl Group {
    /// Every member must leave: the screen was resized, or the desktop went away.
    fn dissolve(&self) {
        let mut log = lock(&self.log);
        for evicted in log.members.values() {
            evicted.store(true, Ordering::SeqCst);
        }
        log.frames.clear();
        log.bytes = 0;
        let seq = log.next_seq;
        drop(log);
        self.head.send_replace(seq);
    }

    /// Members given a framebuffer of their own must leave, and are woken to
    /// find out: no frame may come to wake them (a viewer scrolled back while
    /// the console is quiet), and one waiting for the head would wait forever.
    fn evict(&self, own: &[ViewerId]) {
        let log = lock(&self.log);
        let mut evicted_any = false;
        for id in own {
            if let Some(evicted) = log.members.get(id) {
                evicted.store(true, Ordering::SeqCst);
                evicted_any = true;
            }
        }
        drop(log);
        if evicted_any {
            self.head.send_modify(|_| {});
        }
    }

    /// Appends a frame; a `typist` (the viewer whose key the frame answers)
    /// that is a member takes it alone for [`TYPIST_FIRST`], whose end it returns.
    fn push(
        &self,
        body: Vec<u8>,
        count: u32,
        keyframe: bool,
        checkpoint: Checkpoint,
        typist: Option<ViewerId>,
    ) -> Option<Instant> {
        let mut log = lock(&self.log);
        let typist = typist
            .filter(|typist| log.members.contains_key(typist))
            .map(|typist| (typist, Instant::now() + TYPIST_FIRST));
        let seq = log.next_seq;
        log.next_seq += 1;
        log.bytes += body.len();
        let _memory = memory::process().force(body.len());
        log.frames.push_back(Arc::new(Frame { seq, body, count, keyframe, typist, checkpoint, _memory }));
        while log.frames.len() > MAX_FRAMES || (log.bytes > MAX_BYTES && log.frames.len() > 1) {
            if let Some(old) = log.frames.pop_front() {
                log.bytes -= old.body.len();
            }
        }
        drop(log);
        self.head.send_replace(seq);
        typist.map(|(_, until)| until)
    }
}

/// A group's task: a frame at each tick of the clock while there is
/// something to send (a change, or a keyframe for a joiner) and a member
/// took the newest frame (it is sending it or waits past it), so that the
/// next is encoded while that one travels; none while every member is
/// behind, nor while nothing changed.
async fn produce(shared: Arc<Shared>, group: Arc<Group>, mut encoders: Encoders) {
    let mut changes = shared.desktop.changes();
    let interval = Duration::from_secs(1) / shared.settings.frame_rate.max(1);
    let key = group.key;
    let copies = key.copy_rect.then_some(key.encoding);
    // The last frame's buffers, while frames follow one another, and the
    // budget of a frame's work, which holds them in between.
    let mut spare = Spare::default();
    let mut working: Option<Reservation> = None;
    let mut last: Option<Instant> = None;
    // The desktop changed since the last refresh (seen by `changed()`).
    // True at first: it may have changed between the founder's last update
    // and `changes` above, which would not say so.
    let mut changed = true;
    // The desktop changed again while the last frame was being encoded: the
    // next goes at [`Effort::for_load`]'s fast effort (as does one within
    // QUIET of the last).
    let mut behind = false;
    // The last key whose echo a frame was cut for.
    let mut answered: Option<Instant> = None;
    // The desktop's change count at the last cut.
    let mut cut_count = *changes.borrow();
    loop {
        if shared.close_if_empty(&group) {
            return;
        }
        let (keyframe, at_head) = {
            let log = lock(&group.log);
            (log.needs_keyframe(), log.at_head())
        };
        // A key typed since the last frame cut for its echo, and whether the
        // desktop had not changed since the last frame when it was: the next
        // change is then its echo, which goes at once; on a busy desktop
        // the frame cut ECHO after the key is the first that may show it.
        let typed = shared.last_typed();
        let echo = typed
            .map(|typed| (Instant::from_std(typed.at), typed.changes == cut_count))
            .filter(|&(at, _)| answered != Some(at) && at.elapsed() < BOOST);
        if !keyframe {
            if !at_head && echo.is_none() {
                tokio::select! {
                    () = group.wanted.notified() => {}
                    () = shared.input.notified() => {}
                    () = shared.shutdown().cancelled() => break,
                }
                continue;
            }
            if !changed {
                match changes.has_changed() {
                    Err(_) => break,
                    Ok(true) => changed = true,
                    Ok(false) => {
                        // Idle: its buffers go back to the system.
                        spare = Spare::default();
                        working = None;
                        tokio::select! {
                            // Seen now: remembered, as `has_changed` will not say it again.
                            result = changes.changed() => match result {
                                Ok(()) => changed = true,
                                Err(_) => break,
                            },
                            () = group.wanted.notified() => {}
                            () = shared.input.notified() => {}
                            () = shared.shutdown().cancelled() => break,
                        }
                        continue;
                    }
                }
            }
        }
        // When to cut: at the clock's tick; within BOOST of the pointer at
        // once; for a key's echo at once or at its time, whether or not a
        // member took the newest frame.
        let due = match (echo, last) {
            (Some((_, true)), _) => None,
            (Some((at, false)), _) => Some(at + ECHO),
            (None, _) if shared.boosted() => None,
            (None, Some(last)) => Some(last + interval),
            (None, None) => None,
        };
        if let Some(due) = due {
            let input = shared.input.notified();
            tokio::pin!(input);
            input.as_mut().enable();
            tokio::select! {
                () = tokio::time::sleep_until(due) => {}
                () = input => continue,
                () = shared.shutdown().cancelled() => break,
            }
        }
        // A joiner may have taken a keyframe, or the member at the head left, meanwhile.
        let (keyframe, at_head) = {
            let log = lock(&group.log);
            (log.needs_keyframe(), log.at_head())
        };
        if !keyframe && !at_head && echo.is_none() {
            continue;
        }
        let (width, height) = lock(&group.pending).size();
        let cost = update_cost(width, height);
        if working.as_ref().is_none_or(|held| held.bytes() != cost) {
            // None held, or held for another size: that goes back before this is reserved.
            drop(working.take());
            spare = Spare::default();
            working = memory::process().try_reserve(cost);
        }
        if working.is_none() {
            // The budget is spent: no frame until memory is given back.
            let mut pressure = memory::process().pressure();
            tokio::select! {
                _ = pressure.wait_for(|over| !over) => {}
                () = shared.shutdown().cancelled() => break,
            }
            continue;
        }
        let now = Instant::now();
        // A frame within QUIET of the last: the desktop is busy, even when
        // it did not change during the last encode (a flood whose program
        // the viewers crowd out, or a hundred viewers taking frames slower
        // than the clock), and an encode at the best effort, ten times the
        // fast one's, would hold every member back.
        let busy = last.is_some_and(|last| now - last < QUIET);
        last = Some(now);
        // The viewer whose key this frame answers.
        let mut typist = None;
        if let Some((at, quiet)) = echo
            && (quiet || now >= at + ECHO)
        {
            answered = Some(at);
            typist = typed.map(|typed| typed.by);
        }
        cut_count = *changes.borrow_and_update();
        changed = false;
        let cell_size = shared.desktop.cell_size();
        let pending = group.pending.clone();
        let cut = shared.refresh(group.id, |framebuffer, own| {
            group.evict(own);
            if keyframe {
                let mut pending = lock(&pending);
                pending.add_rect(Rect::new(0, 0, framebuffer.width(), framebuffer.height()));
            }
            Cut::take(framebuffer, &pending, cell_size, copies, &mut spare)
        });
        let Some(cut) = cut else { break };
        if cut.taken.resized {
            group.dissolve();
            encoders.forget();
            continue;
        }
        if cut.is_empty() {
            continue;
        }
        if keyframe {
            encoders.forget();
        }
        let (_, pixels) = cut.into_parts();
        encoders.set_effort(Effort::for_load(behind || busy));
        let Ok(encoded) =
            update::encode(pixels, key.encoding, key.format, &mut encoders, cell_size, Vec::new()).await
        else {
            break;
        };
        behind = changes.has_changed().unwrap_or(false);
        let checkpoint =
            if key.encoding == Encoding::Zrle { encoders.checkpoint() } else { Checkpoint::default() };
        if memory::process().under_pressure() {
            (working, spare) = (None, Spare::default());
        } else {
            spare.keep(encoded.spare, usize::from(width) * usize::from(height));
        }
        if let Some(until) = group.push(encoded.body, encoded.count, keyframe, checkpoint, typist) {
            // The other members may take it now.
            tokio::select! {
                () = tokio::time::sleep_until(until) => group.head.send_modify(|_| {}),
                () = shared.shutdown().cancelled() => break,
            }
        }
    }
    // The desktop or the server is gone: every member leaves, and finds out.
    group.dissolve();
    let mut groups = lock(&shared.groups);
    if groups.get(&group.key).is_some_and(|g| is(g, &group)) {
        groups.remove(&group.key);
    }
    drop(groups);
    shared.remove_entry(group.id);
}

/// Whether the registry's `entry` is `group`.
fn is(entry: &Arc<dyn Any + Send + Sync>, group: &Arc<Group>) -> bool {
    std::ptr::addr_eq(Arc::as_ptr(entry), Arc::as_ptr(group))
}
