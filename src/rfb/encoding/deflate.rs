//! ZRLE's zlib stream, written here so that the rectangles of an update share
//! one deflate block, parsed for the fewest bits.
//!
//! ZRLE sends each rectangle's zlib data with its length, and a viewer
//! inflates those bytes to decode that rectangle's tiles. A stock zlib stream
//! makes that so with a sync flush after every rectangle, and a flush ends the
//! deflate block: the next rectangle pays for an empty stored block and a new
//! block's code lengths. A full text screen goes as one rectangle per cell
//! column (see `zrle`), so that is paid dozens of times an update.
//!
//! Here one block of Huffman codes serves the whole update, and a rectangle's
//! bytes are cut from the one bit stream where two viewers' decoders allow:
//!
//! - TigerVNC (and RealVNC's code it grew from) inflates a rectangle's bytes
//!   into a buffer as its tiles need them, and asks for more output only
//!   while the rectangle has input left ("End of stream" otherwise): when its
//!   buffer fills in the middle of the last symbol, an input byte must be
//!   left. zlib's flush leaves the empty stored block.
//! - Then any input left must decode to nothing: TigerVNC throws away output
//!   past the rectangle, and cannot flush input that gives none.
//!
//! So a rectangle's bytes run one byte past the byte its last bit is in, and
//! those bits (8 to 15) are the start of the next rectangle's first symbol,
//! which must be longer than them: an inflater that reaches them holds them
//! and outputs nothing until the next rectangle's bytes come. A rectangle
//! after the first starts with a match where it has one (its first tile's
//! subencoding and palette repeat the tile before, 15 bits or more), and
//! where that is not long enough, the parse of the rectangle before is
//! changed (a match split, a byte sent as a literal) until its end lands
//! where it is ([`align`]). Where neither does, the block ends with a sync
//! flush there, as zlib's would, and the next rectangle starts a block with
//! the same codes. The last rectangle of an update ends the block with a sync
//! flush, so the next update starts on a byte. pako (noVNC), zlib
//! (TigerVNC, gtk-vnc, libvncclient) and zlib-rs (vnc-rs) all decode a block
//! across calls; `tests/interop` runs TigerVNC and noVNC on it.
//!
//! The parse is the cheapest one at the bits of the codes a first parse gives
//! (zopfli's approach): each position is reached by the cheapest literal or
//! match, over the matches hash chains find, with the last 32 KB of earlier
//! updates in the window as zlib keeps them. A match never runs past the end
//! of its rectangle.
//!
//! The price is encoding time, several times zlib's for a full screen, which
//! the session spends off the runtime's threads; a small update (a typed key's
//! echo) stays quick. When the screen changes faster than that (a flood), the
//! sender asks for [`Effort::Fast`] instead: zlib's lazy matching over a short
//! chain, matches looked up only where the parse stands, in the same stream
//! ([`Effort::for_load`] says when). The bytes saved and the time taken, as
//! `cargo bench --bench rfb` measures them, are in README.md's Performance
//! section.

use std::borrow::Cow;
use std::iter;

/// How far back a match reaches: deflate's window, less zlib's margin.
const MAX_DISTANCE: usize = 32 * 1024 - MAX_MATCH - MIN_MATCH - 1;
/// What the encoder keeps of earlier updates to match against.
const HISTORY: usize = 32 * 1024;
const MIN_MATCH: usize = 3;
const MAX_MATCH: usize = 258;
const HASH_BITS: u32 = 15;
/// Candidates tried for the matches at one position. Text screens come out
/// 2-3% larger at 64, and no smaller at 1024.
const MAX_CHAIN: usize = 256;
/// A match this long is taken without weighing the positions it covers. Any
/// shorter costs text screens: at 128, 2-4% more bytes.
const NICE_MATCH: usize = MAX_MATCH;
/// Once a match this long is found, at most [`GOOD_CHAIN`] more candidates are
/// tried for a longer one (zlib's `good_length` cuts its chain the same way).
const GOOD_MATCH: usize = 32;
const GOOD_CHAIN: usize = 32;

/// The longest a split match's first part may be in [`align`]'s options.
const MAX_SPLIT: usize = 16;

/// How hard [`Deflater::compress`] looks for the fewest bits. Either may be
/// used for any update: both write the same kind of block over the same
/// window and hash chains, so the stream goes on whatever the mode before.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Effort {
    /// The cheapest parse (see the module's doc): the fewest bytes, at
    /// several times zlib's time for a full screen.
    #[default]
    Best,
    /// zlib's lazy matching (as its levels 4-5) over a chain of
    /// [`FAST_CHAIN`], looking matches up only where the parse stands
    /// ([`lazy_parse`]): a full text screen of new prose in about a fifteenth
    /// of the time, for about a seventh more bytes (`cargo bench --bench
    /// rfb`). For when the encoder is what holds updates back.
    Fast,
}

impl Effort {
    /// The effort for an update, by whether a newer change of the screen
    /// came while the encode before was running (`behind`): then the encoder
    /// is what holds the viewers back (a flood), and the next update goes
    /// fast so that they get more of them. Otherwise there was time to spare
    /// (a keystroke's echo, a screen that settles), and it gets the fewest
    /// bytes. Fast updates do not make the encoder fall behind, so a flood
    /// stays fast until an encode ends with nothing newer waiting.
    pub fn for_load(behind: bool) -> Effort {
        if behind { Effort::Fast } else { Effort::Best }
    }
}

/// Candidates tried for a position's matches at [`Effort::Fast`]. At 8, a
/// screen of new prose takes a tenth less time and grows by 5 %; at 32, a
/// third more time for 4 % fewer bytes.
const FAST_CHAIN: usize = 16;

/// One deflate symbol of the parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Literal(u8),
    Match { length: u16, distance: u16 },
}

/// A zlib stream that lasts as long as the viewer's connection.
pub(crate) struct Deflater {
    /// The last bytes compressed, at least the [`HISTORY`] the viewer's window holds.
    history: Vec<u8>,
    /// The hash chains over `history`, kept from one update to the next.
    chains: Chains,
    /// Whether the two-byte zlib header has gone out.
    started: bool,
}

impl Deflater {
    /// A stream with nothing sent, as the viewer's inflater starts.
    pub(crate) fn new() -> Deflater {
        Deflater { history: Vec::new(), chains: Chains::new(), started: false }
    }

    /// What the viewer's inflater holds that this stream may match against:
    /// the last [`HISTORY`] bytes compressed. With it, [`Deflater::resume`]
    /// continues the stream as another encoder (the bits it writes depend on
    /// nothing else: every update ends on a byte, its block closed).
    pub(crate) fn window(&self) -> &[u8] {
        &self.history[self.history.len().saturating_sub(HISTORY)..]
    }

    /// Continues a started stream whose inflater holds `window` last.
    pub(crate) fn resume(window: &[u8]) -> Deflater {
        Deflater { history: window.to_vec(), chains: Chains::new(), started: true }
    }

    /// Matches nothing sent before: whatever the viewer's inflater holds, the
    /// next update decodes the same, so viewers with different windows can
    /// all be sent it (its zlib header, if not sent yet, still goes first).
    pub(crate) fn forget(&mut self) {
        *self = Deflater { started: self.started, ..Deflater::new() };
    }

    /// Compresses the pieces of one update (each rectangle's uncompressed
    /// bytes, none empty), in order. Each returned piece inflates, after the
    /// ones before it, to exactly its input.
    pub(crate) fn compress(&mut self, pieces: &[&[u8]], effort: Effort) -> Vec<Vec<u8>> {
        debug_assert!(pieces.iter().all(|piece| !piece.is_empty()), "a rectangle has tiles");
        let mut buf = std::mem::take(&mut self.history);
        let start = buf.len();
        let mut ends = Vec::with_capacity(pieces.len());
        for piece in pieces {
            buf.extend_from_slice(piece);
            ends.push(buf.len());
        }
        self.chains.extend_runs(&buf);
        let parses = parse(&buf, start, &ends, &mut self.chains, effort);
        let codes = Codes::for_tokens(parses.iter().flatten());

        let mut bits = BitWriter::default();
        if !self.started {
            // CMF: deflate, 32 KB window; FLG: level "maximum", check bits.
            bits.put(0x78, 8);
            bits.put(0xda, 8);
            self.started = true;
        }
        codes.put_header(&mut bits);
        // Where each piece's bytes end.
        let mut cuts = Vec::with_capacity(pieces.len());
        // How many bits of the piece before went with it.
        let mut spilt = 0;
        let mut at = start;
        for (i, tokens) in parses.iter().enumerate() {
            let data = &buf[at..ends[i]];
            at = ends[i];
            let Some(next) = parses.get(i + 1) else {
                tokens.iter().for_each(|&token| codes.put_token(token, &mut bits));
                codes.put_end_of_block(&mut bits);
                bits.put_sync_marker();
                cuts.push(bits.bytes.len());
                break;
            };
            // The piece's bytes run a byte past the one its last bit is in
            // (see the module's doc): the first bits of the next piece,
            // which must not make a whole symbol there.
            let next_first = next.first().and_then(|&token| codes.token_bits(token)).unwrap_or(0);
            let ends_well = |end: u32| next_first > spill(end);
            let own: u32 = tokens.iter().filter_map(|&token| codes.token_bits(token)).sum();
            let sent = if ends_well(bits.pending() + own) {
                Some(Cow::Borrowed(tokens.as_slice()))
            } else {
                align(tokens, data, &codes, bits.pending(), spilt, ends_well).map(Cow::Owned)
            };
            sent.as_deref().unwrap_or(tokens).iter().for_each(|&token| codes.put_token(token, &mut bits));
            if sent.is_some() {
                spilt = spill(bits.pending());
                cuts.push(bits.bytes.len() + usize::from(bits.pending() > 0) + 1);
            } else {
                // The block ends here with a sync flush, as zlib's would, and
                // the next piece starts a block with the same codes again.
                codes.put_end_of_block(&mut bits);
                bits.put_sync_marker();
                cuts.push(bits.bytes.len());
                codes.put_header(&mut bits);
                spilt = 0;
            }
        }
        let mut from = 0;
        let out = cuts
            .iter()
            .map(|&cut| {
                let piece = bits.bytes[from..cut].to_vec();
                from = cut;
                piece
            })
            .collect();
        // Trimmed to the window only once it is twice that: forgetting
        // positions renumbers the chains, which a small update should not pay for.
        if buf.len() > 2 * HISTORY {
            let keep_from = buf.len() - HISTORY;
            buf.drain(..keep_from);
            self.chains.forget(keep_from);
        }
        self.history = buf;
        out
    }
}

/// How many bits of what follows a piece go with it, when its last bit is
/// `end` bits into a byte: the rest of that byte, and the next one.
fn spill(end: u32) -> u32 {
    8 + (8 - end % 8) % 8
}

/// The tokens of each piece of `buf[start..]` (pieces ending at `ends`):
/// at [`Effort::Best`] the parse with the fewest bits, at the costs of the
/// parse before (deflate's fixed codes for the first); at [`Effort::Fast`]
/// [`lazy_parse`]'s. `buf[..start]` is history to match against.
///
/// At [`Effort::Best`] the update is parsed a segment at a time, whole pieces up to [`SEGMENT`]
/// bytes or that much of a longer one, so that the table of matches stays
/// small whatever the update's size; a match does not cross from one
/// segment to the next within a piece.
fn parse(buf: &[u8], start: usize, ends: &[usize], chains: &mut Chains, effort: Effort) -> Vec<Vec<Token>> {
    if effort == Effort::Fast {
        // The last bytes of the update before, which had too few after them.
        for position in chains.inserted..start {
            chains.insert(buf, position);
        }
        return ends
            .iter()
            .enumerate()
            .map(|(p, &end)| {
                let from = if p == 0 { start } else { ends[p - 1] };
                lazy_parse(buf, from, end, chains, p > 0)
            })
            .collect();
    }
    let end = ends.last().copied().unwrap_or(start);
    let chain = if end - start > LARGE_UPDATE { MAX_CHAIN / 8 } else { MAX_CHAIN };
    let mut parses = vec![Vec::new(); ends.len()];
    let mut costs = Costs::fixed();
    let (mut from, mut piece) = (start, 0);
    while from < end {
        // (piece, where its part in this segment ends)
        let mut parts: Vec<(usize, usize)> =
            (piece..ends.len()).take_while(|&p| ends[p] <= from + SEGMENT).map(|p| (p, ends[p])).collect();
        if parts.is_empty() {
            parts.push((piece, from + SEGMENT));
        }
        let part_ends: Vec<usize> = parts.iter().map(|&(_, e)| e).collect();
        let matches = Matches::find(buf, from, &part_ends, chains, chain);
        for pass in 0..PASSES {
            let mut at = from;
            let parsed: Vec<Vec<Token>> = parts
                .iter()
                .map(|&(p, end)| {
                    // A piece after the first starts with a match where it can
                    // (see `Deflater::compress`).
                    let match_first = p > 0 && at == ends[p - 1];
                    let data = &buf[at..end];
                    let tokens = cheapest_parse(data, &matches, at - from, &costs, match_first);
                    at = end;
                    tokens
                })
                .collect();
            costs = Costs::of(&Codes::dynamic_for(parsed.iter().flatten()));
            if pass + 1 == PASSES {
                for (&(p, _), tokens) in iter::zip(&parts, parsed) {
                    parses[p].extend(tokens);
                }
            }
        }
        let &(last, last_end) = parts.last().unwrap_or(&(piece, end));
        from = last_end;
        piece = if last_end == ends[last] { last + 1 } else { last };
    }
    parses
}

/// The most bytes parsed at a time ([`parse`]).
const SEGMENT: usize = 128 * 1024;

/// An update larger than this tries an eighth of the chain for its matches:
/// the parse takes about half a microsecond a byte at the full chain.
const LARGE_UPDATE: usize = 256 * 1024;

/// The match length the parse weighs after each: every one up to 16, then
/// only the first and last of each length symbol's range (the lengths
/// between cost the same), and the longest match's own.
const WEIGHED_AFTER: [u16; MAX_MATCH + 1] = {
    let mut next = [0u16; MAX_MATCH + 1];
    let mut length = 0;
    while length <= MAX_MATCH {
        let symbol = LENGTH_SYMBOL[length] as usize;
        let last_of_symbol =
            if symbol + 1 < LENGTH_BASE.len() { LENGTH_BASE[symbol + 1] as usize - 1 } else { MAX_MATCH };
        next[length] =
            if length < 16 || length >= last_of_symbol { length as u16 + 1 } else { last_of_symbol as u16 };
        length += 1;
    }
    next
};

/// How many times the parse is made, each at the costs of the one before.
const PASSES: usize = 2;

/// The cheapest tokens for `data`, whose first byte is position `first` of
/// `matches`: each position is reached the cheapest way, by a literal or by
/// any length of a match that ends there. A match of [`NICE_MATCH`] or more is
/// taken without weighing the positions it covers. With `match_first`, the
/// first token is a match if there is one at the first byte (a rectangle
/// after the first of an update; see [`Deflater::compress`]).
fn cheapest_parse(
    data: &[u8],
    matches: &Matches,
    first: usize,
    costs: &Costs,
    match_first: bool,
) -> Vec<Token> {
    let n = data.len();
    // The fewest bits to each position, and how it is reached then:
    // (bits, length, distance), length 1 a literal.
    let mut best = vec![(u32::MAX, 0u16, 0u16); n + 1];
    best[0].0 = 0;
    let mut i = 0;
    while i < n {
        let here = best[i].0;
        if here == u32::MAX {
            // Inside the first match, when the parse must start with one.
            i += 1;
            continue;
        }
        let found = matches.at(first + i);
        let literal = here + costs.literal[usize::from(data[i])];
        if literal < best[i + 1].0 && !(i == 0 && match_first && !found.is_empty()) {
            best[i + 1] = (literal, 1, 0);
        }
        let reach = &mut best[i..];
        let mut length = MIN_MATCH;
        for &(longest, distance) in found {
            let base = here + costs.distance[distance_symbol(distance)];
            let longest = usize::from(longest);
            while length <= longest {
                let total = base + costs.length[length];
                if total < reach[length].0 {
                    reach[length] = (total, length as u16, distance);
                }
                length = match usize::from(WEIGHED_AFTER[length]) {
                    next if next > longest && length < longest => longest,
                    next => next,
                };
            }
        }
        i += match found.last() {
            Some(&(longest, _)) if usize::from(longest) >= NICE_MATCH => usize::from(longest),
            _ => 1,
        };
    }
    let mut tokens = Vec::new();
    let mut at = n;
    while at > 0 {
        let (_, length, distance) = best[at];
        at -= usize::from(length);
        tokens.push(match length {
            1 => Token::Literal(data[at]),
            _ => Token::Match { length, distance },
        });
    }
    tokens.reverse();
    tokens
}

/// zlib's lazy parse of `buf[start..end]` (its `deflate_slow`), looking
/// matches up only where the parse stands, as zlib does, not at every
/// position as [`Matches`] does for [`cheapest_parse`]: the longest match at
/// a position over a chain of [`FAST_CHAIN`] candidates, unless the next
/// position has a longer one (then a literal first); the distances of the
/// last two matches are tried too, as they are what a short chain misses on
/// rows that repeat with a period (a match that the full table of
/// [`Matches`] would have found at a position inside a token). Every position goes
/// into the chains, so that the updates after match against it as if it
/// had been parsed at [`Effort::Best`]. With `match_first`, the first token
/// is a match if there is one at the first byte. The positions before
/// `start` are in `chains`.
fn lazy_parse(buf: &[u8], start: usize, end: usize, chains: &mut Chains, match_first: bool) -> Vec<Token> {
    let mut found = Vec::new();
    // The distances of the last two matches (0: none yet).
    let mut recent = [0u16; 2];
    // Looked up before `position` goes into the chains, which end there.
    let mut longest = |chains: &Chains, position: usize, recent: &[u16; 2]| {
        found.clear();
        chains.matches(buf, position, end, (FAST_CHAIN, NICE_MATCH), &mut found);
        let mut best = found.last().map(|&(length, distance)| (usize::from(length), distance));
        let limit = MAX_MATCH.min(end - position);
        for distance in recent.iter().map(|&d| usize::from(d)) {
            if distance == 0 || distance > position || limit < MIN_MATCH {
                continue;
            }
            let from = position - distance;
            let length = common_prefix(&buf[from..from + limit], &buf[position..position + limit]);
            if length >= MIN_MATCH && best.is_none_or(|(longest, _)| length > longest) {
                best = Some((length, distance as u16));
            }
        }
        best
    };
    let mut tokens = Vec::new();
    let mut i = start;
    // The match at `i`, when it was looked up as the one after a literal.
    let mut ahead = None;
    while i < end {
        let here = ahead.take().unwrap_or_else(|| longest(chains, i, &recent));
        chains.insert(buf, i);
        let Some((length, distance)) = here else {
            tokens.push(Token::Literal(buf[i]));
            i += 1;
            continue;
        };
        if !(i == start && match_first) && length < NICE_MATCH && i + 1 < end {
            let next = longest(chains, i + 1, &recent);
            if next.is_some_and(|(next, _)| next > length) {
                tokens.push(Token::Literal(buf[i]));
                i += 1;
                ahead = Some(next);
                continue;
            }
        }
        tokens.push(Token::Match { length: length as u16, distance });
        if distance != recent[0] {
            recent = [distance, recent[0]];
        }
        for p in i + 1..i + length {
            chains.insert(buf, p);
        }
        i += length;
    }
    tokens
}

/// Bits of each literal, length and distance symbol, extra bits included.
struct Costs {
    literal: [u32; 256],
    /// By match length.
    length: [u32; MAX_MATCH + 1],
    distance: [u32; 30],
}

impl Costs {
    fn fixed() -> Costs {
        Costs::of(&Codes::fixed())
    }

    /// The costs under `codes`, a symbol without a code taken as a long one.
    fn of(codes: &Codes) -> Costs {
        let bits = |code: &Code, symbol: usize| code.bits(symbol).unwrap_or(16);
        Costs {
            literal: std::array::from_fn(|b| bits(&codes.literals, b)),
            length: std::array::from_fn(|length| {
                let l = usize::from(LENGTH_SYMBOL[length]);
                bits(&codes.literals, 257 + l) + u32::from(LENGTH_EXTRA[l])
            }),
            distance: std::array::from_fn(|d| bits(&codes.distances, d) + u32::from(DISTANCE_EXTRA[d])),
        }
    }
}

/// The matches at each position of an update: those longer than every
/// nearer one, nearest first, as (length, distance). Positions inside a
/// match of [`NICE_MATCH`] or more have none: the parse takes that match.
struct Matches {
    /// Where each position's matches begin in `found`, and one past the last.
    starts: Vec<u32>,
    found: Vec<(u16, u16)>,
}

impl Matches {
    fn find(buf: &[u8], start: usize, ends: &[usize], chains: &mut Chains, chain: usize) -> Matches {
        // The last bytes of the update before, which had too few after them.
        for position in chains.inserted..start {
            chains.insert(buf, position);
        }
        let mut matches = Matches { starts: Vec::with_capacity(buf.len() - start + 1), found: Vec::new() };
        let mut position = start;
        for &end in ends {
            while position < end {
                let first = matches.found.len();
                matches.starts.push(first as u32);
                chains.matches(buf, position, end, (chain, NICE_MATCH), &mut matches.found);
                chains.insert(buf, position);
                let longest = matches.found[first..].last().map_or(0, |&(l, _)| usize::from(l));
                if longest >= NICE_MATCH {
                    for p in position + 1..position + longest {
                        matches.starts.push(matches.found.len() as u32);
                        chains.insert(buf, p);
                    }
                    position += longest;
                    continue;
                }
                position += 1;
            }
        }
        matches.starts.push(matches.found.len() as u32);
        matches
    }

    /// The matches at `position` (from the update's first byte).
    fn at(&self, position: usize) -> &[(u16, u16)] {
        &self.found[self.starts[position] as usize..self.starts[position + 1] as usize]
    }
}

/// zlib's hash chains: the earlier positions whose next three bytes hash
/// alike. A position in a run of one byte (most of a text screen's tiles are
/// runs of the background's index) is chained instead by the run's byte, what
/// is left of it and the byte after: a chain of every position in such runs
/// would be walked for nothing, as only those runs that end alike match
/// further than the run.
struct Chains {
    /// The latest position with each hash, plus one (0: none).
    head: Vec<u32>,
    /// For a position (modulo the ring), the one before it with its hash, plus one.
    previous: Vec<u32>,
    /// How many bytes from each position of the buffer equal its own, at most [`MAX_MATCH`] + 1.
    runs: Vec<u16>,
    /// Positions before this are in the chains.
    inserted: usize,
}

const RING: usize = 1 << 15;

impl Chains {
    fn new() -> Chains {
        Chains { head: vec![0; 1 << HASH_BITS], previous: vec![0; RING], runs: Vec::new(), inserted: 0 }
    }

    /// Brings `runs` up to `buf`, which has grown at its end.
    fn extend_runs(&mut self, buf: &[u8]) {
        let old = self.runs.len();
        self.runs.resize(buf.len(), 1);
        let Some(last) = buf.len().checked_sub(1) else { return };
        // The run from the position after, carried rather than read back.
        let mut after = self.runs[last];
        let mut run_at = |p: usize| {
            after = if buf[p] == buf[p + 1] { (after + 1).min(MAX_MATCH as u16 + 1) } else { 1 };
            after
        };
        // The new positions, then the old ones until one's run is what it was.
        for p in (old.min(last)..last).rev() {
            self.runs[p] = run_at(p);
        }
        for p in (0..old.min(last)).rev() {
            let run = run_at(p);
            if run == self.runs[p] {
                break;
            }
            self.runs[p] = run;
        }
    }

    /// Drops the first `count` positions: the buffer lost its first `count` bytes.
    fn forget(&mut self, count: usize) {
        self.runs.drain(..count);
        self.previous.rotate_left(count % RING);
        let count = count as u32;
        for link in self.head.iter_mut().chain(&mut self.previous) {
            *link = link.saturating_sub(count);
        }
        self.inserted = self.inserted.saturating_sub(count as usize);
    }

    fn hash(&self, buf: &[u8], position: usize) -> usize {
        let run = usize::from(self.runs[position]);
        let key = if run >= MIN_MATCH {
            let after = buf.get(position + run).copied().unwrap_or(0);
            u32::from(buf[position]) | (run as u32) << 8 | u32::from(after) << 17 | 1 << 31
        } else {
            let fourth = buf.get(position + 3).copied().unwrap_or(0);
            u32::from(buf[position])
                | u32::from(buf[position + 1]) << 8
                | u32::from(buf[position + 2]) << 16
                | u32::from(fourth) << 24
        };
        (key.wrapping_mul(0x9e37_79b1) >> (32 - HASH_BITS)) as usize
    }

    fn insert(&mut self, buf: &[u8], position: usize) {
        if position + MIN_MATCH > buf.len() {
            return;
        }
        let hash = self.hash(buf, position);
        self.previous[position % RING] = self.head[hash];
        self.head[hash] = position as u32 + 1;
        self.inserted = position + 1;
    }

    /// Appends the matches for `position` that end by `end`, each longer
    /// than the nearer ones, as (length, distance); none under three bytes.
    fn matches(
        &self,
        buf: &[u8],
        position: usize,
        end: usize,
        (chain, nice): (usize, usize),
        found: &mut Vec<(u16, u16)>,
    ) {
        let limit = MAX_MATCH.min(end - position);
        if limit < MIN_MATCH {
            return;
        }
        let mut best_length = MIN_MATCH - 1;
        // Inside a run, the byte before gives the rest of it.
        let run = usize::from(self.runs[position]).min(limit);
        if run >= MIN_MATCH && position > 0 && buf[position - 1] == buf[position] {
            found.push((run as u16, 1));
            best_length = run;
            if run >= limit.min(nice) {
                return;
            }
        }
        let mut candidate = self.head[self.hash(buf, position)] as usize;
        let mut budget = chain;
        while budget > 0 {
            budget -= 1;
            // Positions are stored plus one; a link to one not below the last
            // is the ring's newer entry: the chain has ended.
            let Some(from) = candidate.checked_sub(1).filter(|&f| f < position) else { break };
            if position - from > MAX_DISTANCE {
                break;
            }
            if buf[from + best_length] == buf[position + best_length] {
                let length = common_prefix(&buf[from..from + limit], &buf[position..position + limit]);
                if length > best_length {
                    best_length = length;
                    found.push((length as u16, (position - from) as u16));
                    if length >= limit.min(nice) {
                        break;
                    }
                    if length >= GOOD_MATCH {
                        budget = budget.min(GOOD_CHAIN);
                    }
                }
            }
            let next = self.previous[from % RING] as usize;
            if next >= candidate {
                break;
            }
            candidate = next;
        }
    }
}

/// How many bytes `a` and `b` (of one length) share from their start, eight at a time.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let mut length = 0;
    for (x, y) in iter::zip(a.chunks_exact(8), b.chunks_exact(8)) {
        let differ = u64::from_le_bytes(x.try_into().unwrap_or_default())
            ^ u64::from_le_bytes(y.try_into().unwrap_or_default());
        if differ != 0 {
            return length + differ.trailing_zeros() as usize / 8;
        }
        length += 8;
    }
    length + iter::zip(&a[length..], &b[length..]).take_while(|(x, y)| x == y).count()
}

/// `tokens` (encoding `data`, whose bits start `start` bits into a byte)
/// changed as little as `codes` allow so that their first symbol is longer
/// than `first_longer_than` bits and their bits end where `ends_well` takes
/// (it is given the bits past the last whole byte); none if no change does.
/// Each token may be sent any way [`options`] gives.
fn align(
    tokens: &[Token],
    data: &[u8],
    codes: &Codes,
    start: u32,
    first_longer_than: u32,
    ends_well: impl Fn(u32) -> bool,
) -> Option<Vec<Token>> {
    const UNREACHED: u32 = u32::MAX;
    // The fewest bits to each residue modulo 8 after the tokens so far.
    let mut cost = [UNREACHED; 8];
    cost[(start % 8) as usize] = 0;
    // For each token and residue after it: the option taken and the residue before.
    let mut steps: Vec<[(u8, u8); 8]> = Vec::with_capacity(tokens.len());
    let mut at = 0;
    for &token in tokens {
        let mut next = [UNREACHED; 8];
        let mut step = [(0u8, 0u8); 8];
        for (option, parts) in options(token, &data[at..]).enumerate() {
            let Some(bits) = codes.parts_bits(parts) else { continue };
            let first = parts[0].and_then(|part| codes.token_bits(part)).unwrap_or(0);
            if at == 0 && first <= first_longer_than {
                continue;
            }
            for (residue, &so_far) in cost.iter().enumerate() {
                if so_far == UNREACHED {
                    continue;
                }
                let to = (residue + bits as usize) % 8;
                let total = so_far + bits;
                if total < next[to] {
                    next[to] = total;
                    step[to] = (option as u8, residue as u8);
                }
            }
        }
        cost = next;
        steps.push(step);
        at += token.length();
    }
    let end = (0..8).filter(|&r| cost[r] != UNREACHED && ends_well(r as u32)).min_by_key(|&r| cost[r])?;
    // Back from that residue at the end, then forward with each token's option.
    let mut chosen = vec![0u8; tokens.len()];
    let mut residue = end;
    for (i, step) in steps.iter().enumerate().rev() {
        let (option, before) = step[residue];
        chosen[i] = option;
        residue = usize::from(before);
    }
    let mut aligned = Vec::with_capacity(tokens.len() + 2);
    let mut at = 0;
    for (&token, &option) in iter::zip(tokens, &chosen) {
        let parts = options(token, &data[at..]).nth(usize::from(option));
        aligned.extend(parts.into_iter().flatten().flatten());
        at += token.length();
    }
    Some(aligned)
}

/// The ways `token` may be sent, whose bytes begin `data`: as it is first;
/// a literal only so; a match with one or two of its end bytes as literals,
/// or split in two or three. At most 256 ways.
fn options(token: Token, data: &[u8]) -> impl Iterator<Item = [Option<Token>; 3]> {
    let (length, distance) = match token {
        Token::Literal(_) => (0, 0),
        Token::Match { length, distance } => (length, distance),
    };
    let part = move |length: u16| Some(Token::Match { length, distance });
    let literal = |at: u16| Some(Token::Literal(data[usize::from(at)]));
    let one_literal = (usize::from(length) > MIN_MATCH)
        .then(|| [[literal(0), part(length - 1), None], [part(length - 1), literal(length - 1), None]]);
    let two_literals = (usize::from(length) > MIN_MATCH + 1).then(|| {
        [
            [literal(0), literal(1), part(length - 2)],
            [literal(0), part(length - 2), literal(length - 1)],
            [part(length - 2), literal(length - 2), literal(length - 1)],
        ]
    });
    let splits = (MIN_MATCH as u16..=length.saturating_sub(MIN_MATCH as u16).min(MAX_SPLIT as u16))
        .map(move |n| [part(n), part(length - n), None]);
    let shortest = MIN_MATCH as u16;
    let three_parts =
        (shortest..=length.saturating_sub(2 * shortest).min(MAX_SPLIT as u16)).flat_map(move |a| {
            (shortest..=(length - a).saturating_sub(shortest).min(MAX_SPLIT as u16))
                .map(move |b| [part(a), part(b), part(length - a - b)])
        });
    iter::once([Some(token), None, None])
        .chain(one_literal.into_iter().flatten())
        .chain(two_literals.into_iter().flatten())
        .chain(splits)
        .chain(three_parts)
        .take(256)
}

impl Token {
    /// Bytes of input the token stands for.
    fn length(self) -> usize {
        match self {
            Token::Literal(_) => 1,
            Token::Match { length, .. } => usize::from(length),
        }
    }
}

/// The first length of each length symbol (257 + index), and its extra bits.
const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195,
    227, 258,
];
const LENGTH_EXTRA: [u8; 29] =
    [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
/// The first distance of each distance symbol, and its extra bits.
const DISTANCE_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
    4097, 6145, 8193, 12289, 16385, 24577,
];
const DISTANCE_EXTRA: [u8; 30] =
    [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
const END_OF_BLOCK: usize = 256;
/// The order code-length code lengths are sent in (RFC 1951 3.2.7).
const CODE_LENGTH_ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/// The length symbol (less 257) of each match length.
const LENGTH_SYMBOL: [u8; MAX_MATCH + 1] = {
    let mut table = [0u8; MAX_MATCH + 1];
    let mut symbol = 0;
    let mut length = MIN_MATCH;
    while length <= MAX_MATCH {
        while symbol + 1 < LENGTH_BASE.len() && LENGTH_BASE[symbol + 1] as usize <= length {
            symbol += 1;
        }
        table[length] = symbol as u8;
        length += 1;
    }
    table
};

fn length_symbol(length: u16) -> usize {
    usize::from(LENGTH_SYMBOL[usize::from(length)])
}

/// The distance symbol of a distance (1 to 32768): two for each power of two past four.
fn distance_symbol(distance: u16) -> usize {
    let d = u32::from(distance) - 1;
    if d < 4 {
        return d as usize;
    }
    let log = 31 - d.leading_zeros();
    (2 * log + (d >> (log - 1) & 1)) as usize
}

/// A Huffman code: each symbol's bits (reversed, as deflate sends them) and length; 0 for none.
#[derive(Debug, Clone)]
struct Code {
    codes: Vec<u16>,
    lengths: Vec<u8>,
}

impl Code {
    /// The canonical code with these lengths (RFC 1951 3.2.2).
    fn canonical(lengths: Vec<u8>) -> Code {
        let mut count = [0u16; 16];
        for &l in &lengths {
            count[usize::from(l)] += 1;
        }
        count[0] = 0;
        let mut next = [0u16; 16];
        let mut code = 0u16;
        for bits in 1..16 {
            code = (code + count[bits - 1]) << 1;
            next[bits] = code;
        }
        let codes = lengths
            .iter()
            .map(|&l| match l {
                0 => 0,
                l => {
                    let code = next[usize::from(l)];
                    next[usize::from(l)] += 1;
                    code.reverse_bits() >> (16 - l)
                }
            })
            .collect();
        Code { codes, lengths }
    }

    /// A Huffman code for `frequencies`, no code longer than `limit`. Symbols
    /// never seen get none; at least two symbols get one, so that the code is
    /// complete, as inflaters want.
    fn for_frequencies(mut frequencies: Vec<u32>, limit: u8) -> Code {
        for symbol in 0..frequencies.len() {
            if frequencies.iter().filter(|&&f| f > 0).count() >= 2 {
                break;
            }
            if frequencies[symbol] == 0 {
                frequencies[symbol] = 1;
            }
        }
        Code::canonical(huffman_lengths(&frequencies, limit))
    }

    fn put(&self, symbol: usize, bits: &mut BitWriter) {
        bits.put(u32::from(self.codes[symbol]), u32::from(self.lengths[symbol]));
    }

    /// The code's length for `symbol`; none if it has no code.
    fn bits(&self, symbol: usize) -> Option<u32> {
        Some(u32::from(self.lengths[symbol])).filter(|&l| l > 0)
    }
}

/// Huffman code lengths for `frequencies` (at least two of them not zero),
/// lengths over `limit` pulled in as JPEG does (ITU T.81 Annex K.3).
fn huffman_lengths(frequencies: &[u32], limit: u8) -> Vec<u8> {
    let mut used: Vec<usize> = (0..frequencies.len()).filter(|&s| frequencies[s] > 0).collect();
    used.sort_by_key(|&s| (frequencies[s], s));
    let leaves = used.len();
    // Leaves first, then each merged node: two queues in order of weight.
    let mut weight: Vec<u64> = used.iter().map(|&s| u64::from(frequencies[s])).collect();
    let mut parent = vec![0usize; 2 * leaves - 1];
    let (mut leaf, mut merged) = (0, leaves);
    for node in leaves..2 * leaves - 1 {
        let mut lightest = || {
            let take_leaf = leaf < leaves && (merged == weight.len() || weight[leaf] <= weight[merged]);
            if take_leaf {
                leaf += 1;
                leaf - 1
            } else {
                merged += 1;
                merged - 1
            }
        };
        let (a, b) = (lightest(), lightest());
        parent[a] = node;
        parent[b] = node;
        weight.push(weight[a] + weight[b]);
    }
    // A parent comes after its children: depths from the root down.
    let mut depth = vec![0usize; 2 * leaves - 1];
    for node in (0..2 * leaves - 2).rev() {
        depth[node] = depth[parent[node]] + 1;
    }
    let deepest = depth[..leaves].iter().copied().max().unwrap_or(0);
    let limit = usize::from(limit);
    let mut count = vec![0usize; deepest.max(limit) + 1];
    for &d in &depth[..leaves] {
        count[d] += 1;
    }
    for length in (limit + 1..count.len()).rev() {
        while count[length] > 0 {
            let mut shorter = length - 2;
            while count[shorter] == 0 {
                shorter -= 1;
            }
            count[length] -= 2;
            count[length - 1] += 1;
            count[shorter + 1] += 2;
            count[shorter] -= 1;
        }
    }
    // The most frequent symbols get the shortest codes.
    let mut lengths = vec![0u8; frequencies.len()];
    let mut by_frequency = used.iter().rev();
    for (length, &n) in count.iter().enumerate().take(limit + 1).skip(1) {
        for symbol in by_frequency.by_ref().take(n) {
            lengths[*symbol] = length as u8;
        }
    }
    lengths
}

/// The codes of one block: dynamic ones with the header that sends them, or
/// deflate's fixed codes when those come out smaller.
struct Codes {
    literals: Code,
    distances: Code,
    /// The block header: (bits, how many), in order.
    header: Vec<(u32, u32)>,
}

impl Codes {
    /// The smaller of dynamic and fixed codes for a block of `tokens` and its end.
    fn for_tokens<'a>(tokens: impl Iterator<Item = &'a Token> + Clone) -> Codes {
        let dynamic = Codes::dynamic_for(tokens.clone());
        let fixed = Codes::fixed();
        let size = |codes: &Codes| -> u64 {
            let header = u64::from(codes.header_bits());
            let body: u64 = tokens.clone().map(|&t| u64::from(codes.token_bits(t).unwrap_or(u32::MAX))).sum();
            header + body
        };
        if size(&fixed) <= size(&dynamic) { fixed } else { dynamic }
    }

    /// Huffman codes for a block of `tokens` and its end.
    fn dynamic_for<'a>(tokens: impl Iterator<Item = &'a Token>) -> Codes {
        let mut literals = vec![0u32; 286];
        let mut distances = vec![0u32; 30];
        literals[END_OF_BLOCK] = 1;
        for token in tokens {
            match *token {
                Token::Literal(b) => literals[usize::from(b)] += 1,
                Token::Match { length, distance } => {
                    literals[257 + length_symbol(length)] += 1;
                    distances[distance_symbol(distance)] += 1;
                }
            }
        }
        Codes::dynamic(Code::for_frequencies(literals, 15), Code::for_frequencies(distances, 15))
    }

    fn fixed() -> Codes {
        let literals = (0..288).map(|s| match s {
            0..=143 => 8,
            144..=255 => 9,
            256..=279 => 7,
            _ => 8,
        });
        Codes {
            literals: Code::canonical(literals.collect()),
            distances: Code::canonical(vec![5; 30]),
            header: vec![(0b010, 3)],
        }
    }

    /// The codes and the header that sends them (RFC 1951 3.2.7).
    fn dynamic(literals: Code, distances: Code) -> Codes {
        let trim = |lengths: &[u8], least: usize| {
            lengths.len() - lengths.iter().rev().take(lengths.len() - least).take_while(|&&l| l == 0).count()
        };
        let literal_count = trim(&literals.lengths, 257);
        let distance_count = trim(&distances.lengths, 1);
        let all: Vec<u8> = literals.lengths[..literal_count]
            .iter()
            .chain(&distances.lengths[..distance_count])
            .copied()
            .collect();
        // Runs of lengths as code-length symbols: (symbol, extra bits, extra count).
        let mut runs: Vec<(usize, u32, u32)> = Vec::new();
        let mut i = 0;
        while i < all.len() {
            let length = all[i];
            let run = all[i..].iter().take_while(|&&l| l == length).count();
            let mut left = run;
            if length == 0 {
                while left >= 11 {
                    let n = left.min(138);
                    runs.push((18, (n - 11) as u32, 7));
                    left -= n;
                }
                if left >= 3 {
                    runs.push((17, (left - 3) as u32, 3));
                    left = 0;
                }
            } else {
                runs.push((usize::from(length), 0, 0));
                left -= 1;
                while left >= 3 {
                    let n = left.min(6);
                    runs.push((16, (n - 3) as u32, 2));
                    left -= n;
                }
            }
            runs.extend(iter::repeat_n((usize::from(length), 0, 0), left));
            i += run;
        }
        let mut frequencies = vec![0u32; 19];
        for &(symbol, _, _) in &runs {
            frequencies[symbol] += 1;
        }
        let code_lengths = Code::for_frequencies(frequencies, 7);
        let order_count = 19
            - CODE_LENGTH_ORDER.iter().rev().take(15).take_while(|&&s| code_lengths.lengths[s] == 0).count();
        let mut header = vec![
            (0b100, 3),
            ((literal_count - 257) as u32, 5),
            ((distance_count - 1) as u32, 5),
            ((order_count - 4) as u32, 4),
        ];
        header.extend(
            CODE_LENGTH_ORDER[..order_count].iter().map(|&s| (u32::from(code_lengths.lengths[s]), 3)),
        );
        for (symbol, extra, extra_bits) in runs {
            header.push((u32::from(code_lengths.codes[symbol]), u32::from(code_lengths.lengths[symbol])));
            if extra_bits > 0 {
                header.push((extra, extra_bits));
            }
        }
        Codes { literals, distances, header }
    }

    fn header_bits(&self) -> u32 {
        self.header.iter().map(|&(_, count)| count).sum()
    }

    fn put_header(&self, bits: &mut BitWriter) {
        for &(value, count) in &self.header {
            bits.put(value, count);
        }
    }

    /// A token's bits; none if a symbol of it has no code (as a rewritten
    /// token may not: every token of the parse has them).
    fn token_bits(&self, token: Token) -> Option<u32> {
        match token {
            Token::Literal(b) => self.literals.bits(usize::from(b)),
            Token::Match { length, distance } => {
                let (l, d) = (length_symbol(length), distance_symbol(distance));
                let extra = u32::from(LENGTH_EXTRA[l]) + u32::from(DISTANCE_EXTRA[d]);
                self.literals.bits(257 + l).zip(self.distances.bits(d)).map(|(a, b)| a + b + extra)
            }
        }
    }

    /// The bits of a rewritten token's parts ([`rewrite`]).
    fn parts_bits(&self, parts: [Option<Token>; 3]) -> Option<u32> {
        parts.iter().flatten().try_fold(0, |total, &part| self.token_bits(part).map(|bits| total + bits))
    }

    fn put_token(&self, token: Token, bits: &mut BitWriter) {
        match token {
            Token::Literal(b) => self.literals.put(usize::from(b), bits),
            Token::Match { length, distance } => {
                let l = length_symbol(length);
                self.literals.put(257 + l, bits);
                bits.put(u32::from(length - LENGTH_BASE[l]), u32::from(LENGTH_EXTRA[l]));
                let d = distance_symbol(distance);
                self.distances.put(d, bits);
                bits.put(u32::from(distance - DISTANCE_BASE[d]), u32::from(DISTANCE_EXTRA[d]));
            }
        }
    }

    fn put_end_of_block(&self, bits: &mut BitWriter) {
        self.literals.put(END_OF_BLOCK, bits);
    }
}

/// Deflate's bits, least significant first, gathered into bytes.
#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    pending: u64,
    count: u32,
}

impl BitWriter {
    /// Appends the low `count` bits of `value` (at most 32).
    fn put(&mut self, value: u32, count: u32) {
        self.pending |= u64::from(value) << self.count;
        self.count += count;
        while self.count >= 8 {
            self.bytes.push(self.pending as u8);
            self.pending >>= 8;
            self.count -= 8;
        }
    }

    /// Bits written past the last whole byte.
    fn pending(&self) -> u32 {
        self.count
    }

    /// An empty stored block, as a sync flush ends with: the stream is then on a byte.
    fn put_sync_marker(&mut self) {
        self.put(0, 3);
        if self.count > 0 {
            self.put(0, 8 - self.count);
        }
        self.bytes.extend_from_slice(&[0, 0, 0xff, 0xff]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Decompress, FlushDecompress};
    use proptest::prelude::*;

    /// Inflates each compressed piece on its own as TigerVNC's decoder does:
    /// into an output buffer `room` bytes at a time, asking for more output
    /// only while the piece has input left ("End of stream" otherwise), and
    /// checks it gives exactly its piece, with every byte of its input taken by
    /// the time the last byte of output comes (TigerVNC cannot flush input
    /// that gives no output) and nothing of the next piece (which it would
    /// throw away). The updates are compressed at `efforts` in turn.
    fn inflates_piece_by_piece(updates: &[Vec<Vec<u8>>], rooms: &[usize], efforts: &[Effort]) {
        let mut deflater = Deflater::new();
        let mut inflater = Decompress::new(true);
        let mut rooms = rooms.iter().cycle();
        for (update, &effort) in iter::zip(updates, efforts.iter().cycle()) {
            let pieces: Vec<&[u8]> = update.iter().map(Vec::as_slice).collect();
            let compressed = deflater.compress(&pieces, effort);
            assert_eq!(compressed.len(), pieces.len());
            for (piece, bytes) in iter::zip(&pieces, &compressed) {
                let mut out: Vec<u8> = Vec::new();
                let mut taken = 0;
                while out.len() < piece.len() {
                    assert!(taken < bytes.len(), "End of stream: {} of {} bytes out", out.len(), piece.len());
                    let room = *rooms.next().unwrap_or(&4096);
                    let mut chunk = Vec::with_capacity(room);
                    let before = inflater.total_in();
                    inflater
                        .decompress_vec(&bytes[taken..], &mut chunk, FlushDecompress::Sync)
                        .expect("inflates");
                    taken += (inflater.total_in() - before) as usize;
                    out.extend_from_slice(&chunk);
                }
                assert!(out == *piece, "a piece inflates to itself");
                assert_eq!(taken, bytes.len(), "the piece's input is all taken with its last output");
                let mut rest = Vec::with_capacity(1024);
                inflater.decompress_vec(&[], &mut rest, FlushDecompress::Sync).expect("inflates");
                assert!(rest.is_empty(), "nothing of the next piece comes out");
            }
        }
    }

    /// Rows of a few glyphs, as text tiles are: much repeated.
    fn text_like(seed: u8, length: usize) -> Vec<u8> {
        let glyphs: [&[u8]; 4] = [&[0, 0, 0, 5, 6, 0], &[0, 9, 9, 9, 0, 0], &[1, 2, 3, 0, 0, 0], &[0; 6]];
        (0..length).map(|i| glyphs[((i / 6 * 7 + usize::from(seed)) % 4) ^ (i / 50 % 2)][i % 6]).collect()
    }

    #[test]
    fn an_update_of_many_pieces_shares_one_block() {
        let update: Vec<Vec<u8>> = (0..80).map(|i| text_like(i as u8, 1500)).collect();
        let pieces: Vec<&[u8]> = update.iter().map(Vec::as_slice).collect();
        let compressed = Deflater::new().compress(&pieces, Effort::Best);
        // Only the last piece ends with a sync flush's empty stored block.
        let flushed = compressed.iter().filter(|p| p.ends_with(&[0, 0, 0xff, 0xff])).count();
        assert_eq!(flushed, 1);
        assert!(compressed[79].ends_with(&[0, 0, 0xff, 0xff]));
        inflates_piece_by_piece(std::slice::from_ref(&update), &[4096], &[Effort::Best]);
        inflates_piece_by_piece(&[update], &[4096], &[Effort::Fast]);
    }

    #[test]
    fn a_piece_that_starts_with_a_short_literal_gets_a_block_of_its_own() {
        let noise = |alphabet: &[u8], seed: u32| -> Vec<u8> {
            (0..3000u32)
                .map(|i| alphabet[((i + seed).wrapping_mul(2_654_435_761) >> 29) as usize % alphabet.len()])
                .collect()
        };
        // The second piece's bytes are new, so it starts with a literal, and
        // they are frequent, so that literal's code is shorter than a byte.
        let update = vec![noise(&[0, 1, 2, 3], 0), noise(&[7, 8], 1), noise(&[0, 1, 2, 3], 2)];
        let pieces: Vec<&[u8]> = update.iter().map(Vec::as_slice).collect();
        let compressed = Deflater::new().compress(&pieces, Effort::Best);
        assert!(compressed[0].ends_with(&[0, 0, 0xff, 0xff]), "a sync flush before the literal");
        for rooms in [&[1usize][..], &[4096]] {
            for effort in [Effort::Best, Effort::Fast] {
                inflates_piece_by_piece(std::slice::from_ref(&update), rooms, &[effort]);
            }
        }
    }

    #[test]
    fn pieces_inflate_across_updates() {
        let noise: Vec<u8> = (0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let updates = [
            vec![text_like(0, 64 * 1024), vec![7], noise.clone(), text_like(3, 10)],
            vec![vec![1, 2]],
            vec![noise, text_like(1, 40_000), vec![0; 70_000]],
            vec![text_like(2, 3000); 5],
            // Larger than a segment, in one piece and across pieces.
            vec![text_like(4, SEGMENT + SEGMENT / 2), text_like(5, SEGMENT - 10), text_like(6, 20)],
        ];
        for rooms in [&[1usize][..], &[7, 64, 300], &[4096, 13]] {
            for efforts in [
                &[Effort::Best][..],
                &[Effort::Fast],
                &[Effort::Fast, Effort::Best],
                &[Effort::Best, Effort::Fast],
            ] {
                inflates_piece_by_piece(&updates, rooms, efforts);
            }
        }
    }

    #[test]
    fn fast_effort_costs_few_bytes_on_text() {
        let update: Vec<Vec<u8>> = (0..80).map(|i| text_like(i as u8, 1500)).collect();
        let pieces: Vec<&[u8]> = update.iter().map(Vec::as_slice).collect();
        let size = |effort| Deflater::new().compress(&pieces, effort).iter().map(Vec::len).sum::<usize>();
        let (best, fast) = (size(Effort::Best), size(Effort::Fast));
        assert!(best <= fast, "the cheapest parse is no larger: {best} > {fast}");
        assert!(fast * 2 <= best * 3, "fast within 1.5x of best: {fast} against {best}");
    }

    #[test]
    fn fast_effort_goes_on_inside_a_long_match_it_went_past() {
        // A shorter match reaching into a long repeat, then the rest of it:
        // the lazy parse matches that rest instead of sending literals.
        let noise: Vec<u8> = (0..2000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let mut piece = noise.clone();
        piece.extend_from_slice(&noise[..20]);
        piece.push(0xee);
        piece.extend_from_slice(&noise[10..1000]);
        let compressed = Deflater::new().compress(&[&piece], Effort::Fast);
        let size: usize = compressed.iter().map(Vec::len).sum();
        assert!(size < noise.len() + 100, "{size} bytes: the repeat is matched");
        inflates_piece_by_piece(&[vec![piece]], &[4096], &[Effort::Fast]);
    }

    #[test]
    fn code_lengths_stay_within_the_limit_and_complete() {
        // Fibonacci frequencies make a Huffman tree as deep as it gets.
        let mut frequencies = vec![1u32, 1];
        while frequencies.len() < 30 {
            let n = frequencies.len();
            frequencies.push(frequencies[n - 1] + frequencies[n - 2]);
        }
        for limit in [7, 15] {
            let lengths = huffman_lengths(&frequencies, limit);
            assert!(lengths.iter().all(|&l| (1..=limit).contains(&l)));
            let kraft: f64 = lengths.iter().map(|&l| 0.5f64.powi(i32::from(l))).sum();
            assert!((kraft - 1.0).abs() < 1e-12, "a complete code: {kraft}");
        }
        // One symbol seen gets a partner, so the code stays complete.
        let code = Code::for_frequencies(vec![0, 0, 9, 0], 15);
        assert_eq!(code.lengths.iter().filter(|&&l| l == 1).count(), 2);
    }

    proptest! {
        #[test]
        fn any_pieces_inflate_piece_by_piece(
            updates in prop::collection::vec(
                prop::collection::vec(prop::collection::vec(0u8..4, 1..3000), 1..12), 1..4),
            rooms in prop::collection::vec(1usize..600, 1..8),
            fast in prop::collection::vec(any::<bool>(), 1..4),
        ) {
            let efforts: Vec<Effort> = fast.iter().map(|&fast| Effort::for_load(fast)).collect();
            inflates_piece_by_piece(&updates, &rooms, &efforts);
        }
    }
}
