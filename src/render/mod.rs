//! The pixels a vc shows: its framebuffer and what changed in it between two
//! renders, the form in which the VNC server takes them.

pub mod frame;
