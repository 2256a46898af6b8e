//! The RFB (VNC) server of the vc backend.
//!
//! It serves a [`Screen`](screen::Screen): it asks it for the framebuffer and the
//! damage since the last render, and hands it every viewer's keys, pointer and
//! clipboard. It knows nothing of terminals.

pub mod screen;
