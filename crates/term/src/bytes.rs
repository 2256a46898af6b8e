//! Bytes classified eight at a time, in a `u64` (SWAR): the scans that the
//! terminal's fast paths make over plain text. Each mask has the high bit of
//! every byte it flags, exactly (no carry crosses from one byte to the next,
//! unless the function says otherwise).

const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const ONES: u64 = 0x0101_0101_0101_0101;

fn word(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(bytes);
    u64::from_le_bytes(word)
}

/// Length of the run of printable ASCII (0x20..=0x7e) that starts `bytes`,
/// eight bytes at a time.
pub(super) fn printable_prefix(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut n = 0;
    for chunk in bytes.chunks_exact(8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        // A byte below 0x20, or above 0x7e, sets its high bit in one of these.
        let below = w.wrapping_sub(ONES * 0x20) & !w;
        let above = w.wrapping_add(ONES) | w;
        // The lowest flagged byte is exact (a borrow or carry only runs on
        // past a byte that is flagged itself): the first one not printable.
        let stops = (below | above) & HIGH;
        if stops != 0 {
            return n + (stops.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    n + bytes[n..].iter().position(|b| !(0x20..=0x7e).contains(b)).unwrap_or(bytes.len() - n)
}

/// The bytes of `word` equal to `b`.
#[inline(always)]
fn equal(word: u64, b: u8) -> u64 {
    let x = word ^ (ONES * u64::from(b));
    !(((x & LOW) + LOW) | x) & !LOW
}

/// The line feeds among eight bytes.
#[inline(always)]
pub(super) fn line_feeds(bytes: &[u8]) -> u64 {
    equal(word(bytes), b'\n')
}

/// Eight bytes of a flood of lines (see [`text_lines`]): the line feeds, the
/// CRs with a line feed right after (`next_is_feed`: the byte after these
/// eight is one), and the bytes no such line may hold: anything but
/// printable ASCII, those CRs and line feeds.
#[inline(always)]
fn classify(bytes: &[u8], next_is_feed: bool) -> (u64, u64, u64) {
    let w = word(bytes);
    let feeds = equal(w, b'\n');
    let low = w & LOW;
    // 0x20..=0x7e: the low seven bits at least 0x20 and not 0x7f, no high bit.
    let printable = (low + ONES * 0x60) & !(low + ONES) & !w & !LOW;
    let cr_then_feed = equal(w, b'\r') & ((feeds >> 8) | (u64::from(next_is_feed) << 63));
    (feeds, cr_then_feed, !printable & !feeds & !cr_then_feed & !LOW)
}

/// The whole lines that start `bytes`, each printable ASCII (at most `cols`
/// of it) then CR LF: how many bytes they take, and how many there are.
///
/// A jump scroll of a flood of short lines (`yes`) spends its time here, so
/// it goes eight bytes at a time and never a line at a time: where a line
/// starts never waits on checking the line before it, as it does in a scan
/// byte after byte.
pub(super) fn text_lines(bytes: &[u8], cols: usize) -> (usize, usize) {
    // Where the line being read starts, and the lines before it.
    let (mut start, mut count) = (0, 0);
    // The high bit of byte 0 when the word before ended in CR and this one
    // starts with its line feed.
    let mut cr_before_first = 0u64;
    let mut at = 0;
    // Lines within one word are at most 6 long: fine for 8 columns or more.
    while cols >= 8
        && let Some(chunk) = bytes.get(at..at + 8)
    {
        let (feeds, cr_then_feed, bad) = classify(chunk, bytes.get(at + 8) == Some(&b'\n'));
        // A line feed with no CR before it ends the lines too.
        let stops = bad | (feeds & !((cr_then_feed << 8) | cr_before_first));
        // The line feeds before the first stop.
        let feeds = if stops == 0 { feeds } else { feeds & ((stops & stops.wrapping_neg()) - 1) };
        if feeds != 0 {
            let first = at + (feeds.trailing_zeros() / 8) as usize;
            // That line's text is `start..first - 1`.
            if first - start > cols + 1 {
                break;
            }
            count += feeds.count_ones() as usize;
            start = at + (63 - feeds.leading_zeros() as usize) / 8 + 1;
        }
        if stops != 0 {
            return (start, count);
        }
        cr_before_first = (cr_then_feed >> 63) << 7;
        at += 8;
    }
    // The last few bytes (or a line too long), a line at a time.
    while let Some((_, next)) = plain_line(bytes, start, cols) {
        start = next;
        count += 1;
    }
    (start, count)
}

/// The line of `bytes` that starts at `at`, if one is there whole: printable
/// ASCII, at most `cols` of it, then CR LF. Returns its length (without the
/// CR LF) and where the next one starts.
#[inline]
pub(super) fn plain_line(bytes: &[u8], at: usize, cols: usize) -> Option<(usize, usize)> {
    let len = printable_prefix(&bytes[at..]);
    let end = at + len;
    let crlf = bytes.get(end) == Some(&b'\r') && bytes.get(end + 1) == Some(&b'\n');
    (len <= cols && crlf).then_some((len, end + 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_prefix_stops_at_controls_and_non_ascii() {
        assert_eq!(printable_prefix(b"hello world, this is text"), 25);
        for stop in [0x00u8, 0x07, 0x1b, 0x1f, 0x7f, 0x80, 0xc3, 0xff] {
            for at in 0..20 {
                let mut v = vec![b'a'; 24];
                v[at] = stop;
                assert_eq!(printable_prefix(&v), at, "byte {stop:#x} at {at}");
            }
        }
        assert_eq!(printable_prefix(b" ~ ~ ~ ~ ~"), 10);
    }

    /// The same, a line at a time.
    fn text_lines_slowly(bytes: &[u8], cols: usize) -> (usize, usize) {
        let (mut at, mut count) = (0, 0);
        loop {
            let rest = &bytes[at..];
            let len = rest.iter().position(|b| !(0x20..=0x7e).contains(b)).unwrap_or(rest.len());
            if len > cols || !rest[len..].starts_with(b"\r\n") {
                return (at, count);
            }
            at += len + 2;
            count += 1;
        }
    }

    #[test]
    fn text_lines_stop_where_a_line_is_not_plain() {
        let cases: [&[u8]; 10] = [
            b"y\r\ny\r\ny\r\ny\r\ny\r\n",
            b"hello\r\nworld\r\n\r\nagain\r\nend",
            b"one\r\ntwo\ntwo\r\n",
            b"a\r\nb\rc\r\n",
            b"a\r\n\x1b[mb\r\n",
            b"abcdefghijklmnopqrstuvwxyz\r\nshort\r\n",
            b"12345678\r\n1234567\r\n123456789\r\n",
            b"caf\xc3\xa9\r\n",
            b"\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\r\n",
            b"tab\there\r\n",
        ];
        for bytes in cases {
            for cols in [3, 8, 10, 26, 80] {
                for cut in 0..=bytes.len() {
                    let part = &bytes[..cut];
                    assert_eq!(
                        text_lines(part, cols),
                        text_lines_slowly(part, cols),
                        "{part:?} at {cols} columns"
                    );
                }
            }
        }
    }
}
