//! QEMU's `key=value,…` option strings (QemuOpts), as `-chardev` takes them.
//!
//! Rules, as QEMU applies them:
//! - items are separated by `,`; a doubled `,,` is a literal comma inside a value;
//! - the first item may omit its key, which is then the option's implied key
//!   (`socket,id=s0` is `backend=socket,id=s0`);
//! - a later item without `=` is a boolean set to on (`server` is `server=on`);
//! - on/off values accept on/off/yes/no/true/false.
//!
//! [`Opts`] remembers which keys were read, so that [`Opts::finish`] can refuse every
//! key the kind does not know instead of ignoring it.

use std::cell::Cell;
use std::path::PathBuf;
use std::time::Duration;

use super::error::ConfigError;

/// One parsed option string, with the keys its reader has taken.
#[derive(Debug)]
pub struct Opts {
    /// The option this string came from (`-chardev`, `-frontend`), for messages.
    option: &'static str,
    /// The string as given, for messages.
    text: String,
    items: Vec<Item>,
}

#[derive(Debug)]
struct Item {
    key: String,
    value: Option<String>,
    taken: Cell<bool>,
}

impl Opts {
    /// Splits `text` into items; `implied_key` names the first item when it has no `=`.
    pub fn parse(option: &'static str, text: &str, implied_key: &str) -> Result<Opts, ConfigError> {
        let mut items: Vec<Item> = Vec::new();
        for (index, raw) in split_items(text).into_iter().enumerate() {
            let (key, value) = match raw.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None if index == 0 => (implied_key.to_string(), Some(raw.clone())),
                None => (raw.clone(), None),
            };
            if key.is_empty() {
                return Err(ConfigError::option(option, text, "an item has an empty key"));
            }
            if items.iter().any(|i| i.key == key) {
                return Err(ConfigError::option(option, text, format!("'{key}' is given twice")));
            }
            items.push(Item { key, value, taken: Cell::new(false) });
        }
        Ok(Opts { option, text: text.to_string(), items })
    }

    /// The option name and text, for messages about this string.
    pub fn error(&self, problem: impl Into<String>) -> ConfigError {
        ConfigError::option(self.option, &self.text, problem)
    }

    fn take(&self, key: &str) -> Option<&Item> {
        let item = self.items.iter().find(|i| i.key == key)?;
        item.taken.set(true);
        Some(item)
    }

    /// A string value, if the key is present.
    pub fn string(&self, key: &str) -> Result<Option<String>, ConfigError> {
        match self.take(key) {
            None => Ok(None),
            Some(Item { value: Some(v), .. }) if !v.is_empty() => Ok(Some(v.clone())),
            Some(_) => Err(self.error(format!("'{key}' needs a value"))),
        }
    }

    /// A string value that must be present.
    pub fn required(&self, key: &str) -> Result<String, ConfigError> {
        self.string(key)?.ok_or_else(|| self.error(format!("'{key}=' is required")))
    }

    /// A path value, if present.
    pub fn path(&self, key: &str) -> Result<Option<PathBuf>, ConfigError> {
        Ok(self.string(key)?.map(PathBuf::from))
    }

    /// An on/off value (on/off/yes/no/true/false; a bare key is on).
    pub fn flag(&self, key: &str) -> Result<Option<bool>, ConfigError> {
        let Some(item) = self.take(key) else { return Ok(None) };
        match item.value.as_deref() {
            None | Some("on" | "yes" | "true") => Ok(Some(true)),
            Some("off" | "no" | "false") => Ok(Some(false)),
            Some(other) => {
                Err(self
                    .error(format!("'{key}={other}' is not on/off (use on, off, yes, no, true or false)")))
            }
        }
    }

    /// A non-negative integer value, if present.
    pub fn number(&self, key: &str) -> Result<Option<u64>, ConfigError> {
        let Some(text) = self.string(key)? else { return Ok(None) };
        text.parse::<u64>().map(Some).map_err(|_| self.error(format!("'{key}={text}' is not a whole number")))
    }

    /// A size in bytes, if present: a whole number with an optional `K` or `M`
    /// (binary: 64K is 65536), at most `max`.
    pub fn size(&self, key: &str, max: u64) -> Result<Option<u64>, ConfigError> {
        let Some(text) = self.string(key)? else { return Ok(None) };
        let (digits, unit) = match text.char_indices().last() {
            Some((at, 'k' | 'K')) => (&text[..at], 1 << 10),
            Some((at, 'm' | 'M')) => (&text[..at], 1 << 20),
            _ => (text.as_str(), 1),
        };
        let number = digits.parse::<u64>().map_err(|_| {
            self.error(format!("'{key}={text}' is not a size (a number of bytes, or with K or M: 64K, 1M)"))
        })?;
        match number.checked_mul(unit) {
            Some(size) if size <= max => Ok(Some(size)),
            _ => {
                Err(self.error(format!("'{key}={text}' is more than {}, the most it may be", size_text(max))))
            }
        }
    }

    /// A TCP port value, if present.
    pub fn port(&self, key: &str) -> Result<Option<u16>, ConfigError> {
        let Some(text) = self.string(key)? else { return Ok(None) };
        text.parse::<u16>()
            .map(Some)
            .map_err(|_| self.error(format!("'{key}={text}' is not a port number (0-65535)")))
    }

    /// QEMU's `reconnect=SECONDS` or the newer `reconnect-ms=MS`; zero means never.
    pub fn reconnect(&self) -> Result<Option<Duration>, ConfigError> {
        let seconds = self.number("reconnect")?;
        let millis = self.number("reconnect-ms")?;
        let delay = match (seconds, millis) {
            (Some(_), Some(_)) => {
                return Err(self.error("give either 'reconnect' or 'reconnect-ms', not both"));
            }
            (Some(s), None) => Duration::from_secs(s),
            (None, Some(ms)) => Duration::from_millis(ms),
            (None, None) => Duration::ZERO,
        };
        Ok((!delay.is_zero()).then_some(delay))
    }

    /// Keys of the form `PREFIX.N` (QEMU's list syntax, `chardevs.0=a,chardevs.1=b`),
    /// in index order; the indices must run 0, 1, 2… without gaps.
    pub fn list(&self, prefix: &str) -> Result<Vec<String>, ConfigError> {
        let mut indexed: Vec<(usize, String)> = Vec::new();
        for item in &self.items {
            let Some(index) = item.key.strip_prefix(prefix).and_then(|r| r.strip_prefix('.')) else {
                continue;
            };
            let index: usize =
                index.parse().map_err(|_| self.error(format!("'{}' is not {prefix}.N", item.key)))?;
            item.taken.set(true);
            match item.value.as_deref() {
                Some(v) if !v.is_empty() => indexed.push((index, v.to_string())),
                _ => return Err(self.error(format!("'{}' needs a value", item.key))),
            }
        }
        indexed.sort_by_key(|(i, _)| *i);
        for (expected, (index, _)) in indexed.iter().enumerate() {
            if *index != expected {
                return Err(self.error(format!("'{prefix}.{index}' is given without '{prefix}.{expected}'")));
            }
        }
        Ok(indexed.into_iter().map(|(_, v)| v).collect())
    }

    /// Refuses any key no reader took: unknown keys are errors, never ignored.
    pub fn finish(&self, kind: &str, known: &[&str]) -> Result<(), ConfigError> {
        match self.items.iter().find(|i| !i.taken.get()) {
            None => Ok(()),
            Some(item) => Err(self.error(format!(
                "unknown option '{}' for {kind} (it takes {})",
                item.key,
                known.join(", ")
            ))),
        }
    }
}

/// A size as `size=` takes it: `64M`, `8K`, or bytes.
fn size_text(bytes: u64) -> String {
    match bytes {
        0 => "0".to_string(),
        b if b % (1 << 20) == 0 => format!("{}M", b >> 20),
        b if b % (1 << 10) == 0 => format!("{}K", b >> 10),
        b => b.to_string(),
    }
}

/// Splits on single commas; `,,` stands for a comma inside an item.
fn split_items(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ',' {
            if chars.peek() == Some(&',') {
                chars.next();
                current.push(',');
            } else {
                items.push(std::mem::take(&mut current));
            }
        } else {
            current.push(c);
        }
    }
    items.push(current);
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Opts {
        Opts::parse("-chardev", text, "backend").expect("valid option string")
    }

    #[test]
    fn implied_key_and_values() {
        let o = parse("socket,id=s0,path=/tmp/a,,b.sock,server,wait=no");
        assert_eq!(o.required("backend").unwrap(), "socket");
        assert_eq!(o.required("id").unwrap(), "s0");
        assert_eq!(o.path("path").unwrap(), Some(PathBuf::from("/tmp/a,b.sock")));
        assert_eq!(o.flag("server").unwrap(), Some(true));
        assert_eq!(o.flag("wait").unwrap(), Some(false));
        o.finish("socket", &[]).unwrap();
    }

    #[test]
    fn every_boolean_spelling() {
        for (text, want) in
            [("on", true), ("yes", true), ("true", true), ("off", false), ("no", false), ("false", false)]
        {
            let o = parse(&format!("file,append={text}"));
            assert_eq!(o.flag("append").unwrap(), Some(want), "{text}");
        }
        let err = parse("file,append=maybe").flag("append").unwrap_err().to_string();
        assert!(err.contains("append=maybe"), "{err}");
    }

    #[test]
    fn unknown_key_is_refused_by_name() {
        let o = parse("file,id=f0,pth=x");
        o.required("backend").unwrap();
        o.required("id").unwrap();
        let err = o.finish("file", &["id", "path"]).unwrap_err().to_string();
        assert!(err.contains("unknown option 'pth'"), "{err}");
    }

    #[test]
    fn lists_need_contiguous_indices() {
        let o = parse("hub,id=h,chardevs.1=b,chardevs.0=a");
        assert_eq!(o.list("chardevs").unwrap(), vec!["a", "b"]);
        let err = parse("hub,id=h,chardevs.0=a,chardevs.2=c").list("chardevs").unwrap_err().to_string();
        assert!(err.contains("chardevs.2") && err.contains("chardevs.1"), "{err}");
    }

    #[test]
    fn duplicate_key_is_refused() {
        let err = Opts::parse("-chardev", "file,path=a,path=b", "backend").unwrap_err().to_string();
        assert!(err.contains("'path' is given twice"), "{err}");
    }

    #[test]
    fn reconnect_in_seconds_or_millis() {
        assert_eq!(parse("socket,reconnect=2").reconnect().unwrap(), Some(Duration::from_secs(2)));
        assert_eq!(parse("socket,reconnect-ms=250").reconnect().unwrap(), Some(Duration::from_millis(250)));
        assert_eq!(parse("socket,reconnect=0").reconnect().unwrap(), None);
    }

    #[test]
    fn sizes_in_bytes_k_or_m_up_to_a_bound() {
        let size = |text: &str| parse(&format!("socket,replay={text}")).size("replay", 64 << 20);
        assert_eq!(size("0").unwrap(), Some(0));
        assert_eq!(size("4096").unwrap(), Some(4096));
        assert_eq!(size("64K").unwrap(), Some(64 << 10));
        assert_eq!(size("64k").unwrap(), Some(64 << 10));
        assert_eq!(size("1M").unwrap(), Some(1 << 20));
        assert_eq!(size("64M").unwrap(), Some(64 << 20));
        assert_eq!(parse("socket").size("replay", 1).unwrap(), None);
        for (text, needle) in [
            ("65M", "'replay=65M' is more than 64M"),
            ("67108865", "is more than 64M"),
            ("99999999999999999M", "is more than 64M"),
            ("1G", "'replay=1G' is not a size"),
            ("K", "'replay=K' is not a size"),
            ("-1", "'replay=-1' is not a size"),
            ("1.5M", "'replay=1.5M' is not a size"),
        ] {
            let err = size(text).unwrap_err().to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }
}
