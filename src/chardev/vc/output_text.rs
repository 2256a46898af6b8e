//! The console's output as plain text, for scripts that wait for it (openQA's
//! `wait_serial`): escape sequences stripped, CR LF (and CR CR LF, and a
//! lone CR before more text) made one `\n`, the last [`KEPT`] bytes kept. Positions in it are offsets from the
//! console's first byte of text, so that a wait can say "after the last
//! match" however much has scrolled out since.
//!
//! The position waits start from (the mark) belongs to the vc, not to a
//! client: two waits in a row, from two connections, never match the same
//! text twice.

use regex::Regex;
use vte::{Parser, Perform};

/// How much text is kept to match against: a wait that falls further behind
/// than this sees only the newest [`KEPT`] bytes.
pub const KEPT: usize = 1 << 20;

/// What a wait found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Which of the patterns matched (the earliest match; the first pattern
    /// on a tie).
    pub pattern: usize,
    /// The text it matched.
    pub matched: String,
    /// The text between where the wait started and the match.
    pub before: String,
}

/// The text, its parser, and the mark.
pub struct OutputText {
    parser: Parser,
    text: Text,
    /// Where the next wait starts: past the last match, or where `mark` was set.
    mark: u64,
}

/// The text itself, fed by the parser.
#[derive(Default)]
struct Text {
    kept: String,
    /// The offset of `kept`'s first byte.
    start: u64,
    /// A CR was the last thing seen: a line ends, unless an LF ends it.
    pending_cr: bool,
}

impl Default for OutputText {
    fn default() -> OutputText {
        OutputText { parser: Parser::new(), text: Text::default(), mark: 0 }
    }
}

impl OutputText {
    /// Takes console output as it arrives.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.parser.advance(&mut self.text, bytes);
        self.text.trim();
    }

    /// Moves the mark to the end: the next wait sees only text that comes
    /// after now (openQA's `clear_serial_buffer`).
    pub fn mark_now(&mut self) {
        self.mark = self.text.end();
    }

    /// The first match of any of `patterns` after the mark, which then moves
    /// past it. `^` matches only where a line starts (not just past the last
    /// match); `$` where a line ends or at the end of the output so far, as
    /// openQA's `wait_serial` reads it, so that a prompt (`'\$ $'`) matches
    /// as soon as it is printed; a wait for a whole line ends in `\n`.
    pub fn find(&mut self, patterns: &[Regex]) -> Option<Found> {
        let from = self.mark.max(self.text.start);
        let skip = usize::try_from(from - self.text.start).unwrap_or(usize::MAX).min(self.text.kept.len());
        // Searched from the mark, with the text before it as context, so
        // that `^` knows where lines start.
        let haystack = self.text.kept.as_str();
        let (pattern, m) = patterns
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.find_at(haystack, skip).map(|m| (i, m)))
            .min_by_key(|(i, m)| (m.start(), *i))?;
        let found =
            Found { pattern, matched: m.as_str().to_string(), before: haystack[skip..m.start()].to_string() };
        self.mark = from + (m.end() - skip) as u64;
        Some(found)
    }

    /// The text after the mark, for a wait that timed out to show.
    pub fn unmatched(&self) -> &str {
        let skip = usize::try_from(self.mark.saturating_sub(self.text.start)).unwrap_or(usize::MAX);
        self.text.kept.get(skip.min(self.text.kept.len())..).unwrap_or_default()
    }
}

impl Text {
    fn end(&self) -> u64 {
        self.start + self.kept.len() as u64
    }

    #[inline]
    fn push(&mut self, c: char) {
        if std::mem::take(&mut self.pending_cr) {
            self.kept.push('\n');
        }
        self.kept.push(c);
    }

    /// Keeps the text within [`KEPT`], dropping a quarter at a time so that a
    /// flood does not move the whole text on every chunk.
    fn trim(&mut self) {
        if self.kept.len() <= KEPT {
            return;
        }
        let mut cut = self.kept.len() - KEPT * 3 / 4;
        while !self.kept.is_char_boundary(cut) {
            cut += 1;
        }
        self.kept.drain(..cut);
        self.start += cut as u64;
    }
}

impl Perform for Text {
    #[inline]
    fn print(&mut self, c: char) {
        self.push(c);
    }

    fn execute(&mut self, byte: u8) {
        match byte {
            b'\n' => {
                self.pending_cr = false;
                self.kept.push('\n');
            }
            // CRs before an LF (a PTY's CR CR LF) end one line, as does a
            // CR before more text.
            b'\r' => self.pending_cr = true,
            b'\t' => self.push('\t'),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns(list: &[&str]) -> Vec<Regex> {
        list.iter().map(|p| Regex::new(p).unwrap()).collect()
    }

    #[test]
    fn escapes_are_stripped_and_line_ends_made_one() {
        let mut out = OutputText::default();
        out.feed(b"\x1b[1;31mlogin:\x1b[0m \r\nnext\rover\r\n\x1b]0;title\x07done\n");
        assert_eq!(out.unmatched(), "login: \nnext\nover\ndone\n");
    }

    #[test]
    fn a_match_is_found_once_and_the_next_wait_starts_after_it() {
        let mut out = OutputText::default();
        out.feed(b"boot\nlogin: ");
        let found = out.find(&patterns(&["password:", "login:"])).unwrap();
        assert_eq!(found, Found { pattern: 1, matched: "login:".into(), before: "boot\n".into() });
        assert_eq!(out.find(&patterns(&["login:"])), None);
        out.feed(b"\nlogin: ");
        assert_eq!(out.find(&patterns(&["login:"])).map(|f| f.before), Some(" \n".into()));
    }

    #[test]
    fn the_mark_skips_what_came_before() {
        let mut out = OutputText::default();
        out.feed(b"ready\n");
        out.mark_now();
        assert_eq!(out.find(&patterns(&["ready"])), None);
        out.feed(b"ready\n");
        assert!(out.find(&patterns(&["ready"])).is_some());
    }

    #[test]
    fn the_text_kept_is_bounded_and_offsets_survive_trimming() {
        let mut out = OutputText::default();
        let line = "é".repeat(1000) + "\n";
        for _ in 0..2000 {
            out.feed(line.as_bytes());
        }
        assert!(out.text.kept.len() <= KEPT);
        out.feed(b"needle\n");
        assert_eq!(out.find(&patterns(&["needle"])).map(|f| f.matched), Some("needle".into()));
        assert_eq!(out.unmatched(), "\n");
    }

    #[test]
    fn a_line_starts_after_a_line_end_and_cr_cr_lf_is_one() {
        let multi = |p: &str| regex::RegexBuilder::new(p).multi_line(true).build().unwrap();
        let mut out = OutputText::default();
        out.feed(b"42\r\r\nA2\r\n");
        assert_eq!(out.unmatched(), "42\nA2\n");
        assert_eq!(out.find(&[multi("^42\n")]).map(|f| f.matched), Some("42\n".into()));
        // `^` is a line's start, not the place just past the last match.
        out.feed(b"xx");
        assert!(out.find(&[multi("xx")]).is_some());
        out.feed(b"foo\r\n");
        assert_eq!(out.find(&[multi("^foo")]), None);
        out.feed(b"foo\r\n");
        let found = out.find(&[multi("^foo$")]).unwrap();
        assert_eq!((found.matched.as_str(), found.before.as_str()), ("foo", "foo\n"));
        // A prompt: `$` is also the end of the output so far.
        out.feed(b"\n$ ");
        assert_eq!(out.find(&[multi("\\$ $")]).map(|f| f.matched), Some("$ ".into()));
    }
}
