//! The pixel encodings this server writes, and the choice among them in the
//! order a viewer prefers.

use super::number;

/// An encoding that carries pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// [`raw`](super::raw).
    Raw,
    /// [`hextile`](super::hextile).
    Hextile,
    /// [`zrle`](super::zrle).
    Zrle,
    /// [`tight`](super::tight).
    Tight,
}

impl Encoding {
    /// The encoding a number stands for, if this server can write it.
    pub fn from_number(number: i32) -> Option<Encoding> {
        match number {
            number::RAW => Some(Encoding::Raw),
            number::HEXTILE => Some(Encoding::Hextile),
            number::ZRLE => Some(Encoding::Zrle),
            number::TIGHT => Some(Encoding::Tight),
            _ => None,
        }
    }

    /// The first pixel encoding in the viewer's list that we write; Raw, which
    /// every viewer takes, when there is none.
    pub fn preferred(announced: &[i32]) -> Encoding {
        announced.iter().find_map(|&n| Encoding::from_number(n)).unwrap_or(Encoding::Raw)
    }
}
