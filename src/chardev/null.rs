//! The null chardev: takes every byte, types nothing.

use std::io;

use crate::hub::port::{BoxFuture, Connection, Connector};

/// A sink that is always connected.
#[derive(Default)]
pub struct NullConnector {
    handed_out: bool,
}

impl Connector for NullConnector {
    fn connect(&mut self) -> BoxFuture<'_, io::Result<Option<Connection>>> {
        let first = !std::mem::replace(&mut self.handed_out, true);
        Box::pin(async move {
            if !first {
                // A sink cannot fail, so there is never a second connection.
                std::future::pending::<()>().await;
            }
            Ok(Some(Connection {
                peer: "null".to_string(),
                writer: Box::new(tokio::io::sink()),
                reader: None,
                eof_is_hangup: false,
                typed: None,
            }))
        })
    }
}
