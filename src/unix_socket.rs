//! Listening on a unix socket path the way QEMU does: a socket left by an earlier
//! run is replaced, a socket something still listens on or a path that is not a
//! socket is refused, and the path is removed when vcmux stops listening.
//!
//! Every unix listener vcmux binds (socket chardevs, `-vnc unix:PATH`) goes
//! through [`bind`], so none of them deletes a file it does not own or leaves
//! its path behind.

use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use tokio::net::UnixListener;

/// Binds a listener on `path` and returns it with the guard that removes the
/// path when dropped.
pub fn bind(path: &Path) -> io::Result<(UnixListener, RemoveOnDrop)> {
    remove_stale(path)?;
    let listener = UnixListener::bind(path)?;
    Ok((listener, RemoveOnDrop(path.to_path_buf())))
}

/// Removes a socket that nothing listens on any more; refuses a live socket
/// and anything that is not a socket.
fn remove_stale(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(io::Error::new(io::ErrorKind::AddrInUse, "another process is listening there"));
            }
            std::fs::remove_file(path)
        }
        Ok(_) => Err(io::Error::new(io::ErrorKind::AlreadyExists, "the path exists and is not a socket")),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Removes a listening socket's path when the listener is done with it.
#[derive(Debug)]
pub struct RemoveOnDrop(PathBuf);

impl RemoveOnDrop {
    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stale_socket_is_replaced_a_live_one_and_a_file_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        // A socket left by an earlier run: its path stays after its listener went.
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        let (live, guard) = bind(&path).unwrap();
        assert_eq!(bind(&path).unwrap_err().kind(), io::ErrorKind::AddrInUse);
        drop(live);
        drop(guard);
        assert!(!path.exists(), "the path goes with its guard");
        std::fs::write(&path, "not a socket").unwrap();
        assert_eq!(bind(&path).unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a socket");
    }
}
