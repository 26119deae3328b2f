//! One WebSocket to the backend: a writer task draining a bounded send queue and a reader task
//! parsing the backend's messages into a bounded inbox.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{Connector, connect_async_tls_with_config};

use super::Settings;
use super::error::ProxyError;
use super::messages::{self, BackendMessage, Ignored};

/// Backend messages waiting for a callback; more are dropped with a warning.
const INBOX_CAPACITY: usize = 16;
/// How long closing waits for the queued messages and the close frame to go out.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// An open WebSocket to the backend.
#[derive(Debug)]
pub(super) struct Connection {
    outgoing: Option<mpsc::Sender<Message>>,
    incoming: mpsc::Receiver<BackendMessage>,
    writer: JoinHandle<()>,
    reader: JoinHandle<()>,
}

impl Connection {
    /// Connects once, within the connect timeout.
    pub(super) async fn open(settings: &Settings) -> Result<Self, ProxyError> {
        let connector = settings
            .tls
            .as_ref()
            .map(|tls| Connector::Rustls(Arc::clone(tls)));
        let connecting =
            connect_async_tls_with_config(settings.url.as_str(), None, true, connector);
        let (socket, _response) = tokio::time::timeout(settings.connect_timeout, connecting)
            .await
            .map_err(|_| ProxyError::connect_timeout())?
            .map_err(ProxyError::connect)?;
        let (mut sink, mut stream) = socket.split();

        let (outgoing, mut queue) = mpsc::channel::<Message>(settings.queue_capacity);
        let writer = tokio::spawn(async move {
            while let Some(message) = queue.recv().await {
                if let Err(err) = sink.send(message).await {
                    tracing::warn!(error = %err, "proxy: sending to the backend failed");
                    return;
                }
            }
            // The sender was dropped: everything queued went out; say goodbye.
            let _ = sink.close().await;
        });

        let (inbox, incoming) = mpsc::channel(INBOX_CAPACITY);
        let reader = tokio::spawn(async move {
            while let Some(frame) = stream.next().await {
                let text = match frame {
                    Ok(Message::Text(text)) => text.to_string(),
                    Ok(Message::Binary(bytes)) => match String::from_utf8(bytes.to_vec()) {
                        Ok(text) => text,
                        Err(_) => {
                            tracing::warn!(
                                "proxy: ignoring a binary backend message that is not UTF-8"
                            );
                            continue;
                        }
                    },
                    Ok(Message::Close(_)) => break,
                    Ok(_) => continue,
                    Err(err) => {
                        tracing::warn!(error = %err, "proxy: the backend connection failed");
                        break;
                    }
                };
                match messages::parse(&text) {
                    Ok(message) => {
                        if inbox.try_send(message).is_err() {
                            tracing::warn!(
                                "proxy: dropping a backend message: {INBOX_CAPACITY} are waiting already"
                            );
                        }
                    }
                    Err(Ignored::UnknownType(kind)) => {
                        tracing::warn!(%kind, "proxy: ignoring a backend message of unknown type");
                    }
                    Err(Ignored::NotJson) => {
                        tracing::warn!(
                            "proxy: ignoring a backend message that is not a JSON object with a type"
                        );
                    }
                    Err(Ignored::BadAudio) => {
                        tracing::warn!(
                            "proxy: ignoring a backend prompt whose audio is not base64"
                        );
                    }
                }
            }
        });

        Ok(Self {
            outgoing: Some(outgoing),
            incoming,
            writer,
            reader,
        })
    }

    /// Whether both directions still work.
    pub(super) fn is_open(&self) -> bool {
        !self.writer.is_finished() && !self.reader.is_finished()
    }

    /// Queues a text message, waiting while the queue is full.
    ///
    /// # Errors
    /// When the connection is gone.
    pub(super) async fn send(&self, text: String) -> Result<(), ProxyError> {
        let outgoing = self.outgoing.as_ref().ok_or_else(ProxyError::closed)?;
        outgoing
            .send(Message::text(text))
            .await
            .map_err(|_| ProxyError::closed())
    }

    /// The next message from the backend, waiting up to `timeout`.
    ///
    /// # Errors
    /// On timeout, or when the connection is gone.
    pub(super) async fn next_message(
        &mut self,
        timeout: Duration,
    ) -> Result<BackendMessage, ProxyError> {
        match tokio::time::timeout(timeout, self.incoming.recv()).await {
            Ok(Some(message)) => Ok(message),
            Ok(None) => Err(ProxyError::closed()),
            Err(_) => Err(ProxyError::response_timeout(timeout)),
        }
    }

    /// Sends what is queued, then a close frame, and stops both tasks.
    pub(super) async fn close(mut self) {
        self.outgoing = None;
        let writer = &mut self.writer;
        if tokio::time::timeout(CLOSE_GRACE, writer).await.is_err() {
            tracing::warn!("proxy: the backend did not take the close frame in time");
        }
        // Dropping aborts the reader.
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.writer.abort();
        self.reader.abort();
    }
}
