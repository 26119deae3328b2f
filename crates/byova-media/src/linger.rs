//! Lingering close: a connection the server is done with is half-closed and drained before its
//! socket is closed, so the client reads every byte the server sent.
//!
//! Closing a TCP socket whose receive buffer still holds data, or that receives data after it
//! was closed, makes the kernel answer with a reset (RST) instead of a clean close; the client's
//! kernel then fails the connection, and the client loses the reply bytes it had received but
//! not read yet. This is what a graceful shutdown runs into: once the last turn on a connection
//! is done, the HTTP/2 server closes the connection while the caller is still sending the audio
//! frames (and window updates) it sent before it saw END_OF_INPUT.
//!
//! So every accepted connection is a [`LingeringStream`]. When the server drops it, its write
//! side is shut down (FIN), and whatever the client still sends is read and thrown away until
//! the client closes its side or [`LINGER`] passes; only then is the socket closed. A client
//! that already closed costs nothing more than one `read`. [`Lingers`] counts the connections
//! still lingering so that shutdown can wait for them before the process exits.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::Stream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tonic::transport::server::{Connected, TcpConnectInfo, TcpIncoming};

use crate::tracker::TaskTracker;

/// How long a closed connection is drained at most, waiting for the client to close its side.
pub(crate) const LINGER: Duration = Duration::from_secs(2);

/// Bytes read (and thrown away) at a time while draining.
const DRAIN_CHUNK: usize = 2048;

/// Counts the connections still lingering. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lingers {
    tasks: TaskTracker,
}

impl Lingers {
    /// Resolves once no connection is lingering.
    pub(crate) async fn idle(&self) {
        self.tasks.idle().await;
    }

    /// How many connections are lingering.
    pub(crate) fn running(&self) -> usize {
        self.tasks.running()
    }

    /// Closes `tcp`: at once when the client has already closed its side (or the connection
    /// failed), else after a lingering drain on a tracked task.
    fn close(&self, tcp: TcpStream) {
        let mut chunk = [0_u8; DRAIN_CHUNK];
        match tcp.try_read(&mut chunk) {
            // The client closed its side and nothing is left unread: a clean close.
            Ok(0) => return,
            Err(err) if err.kind() != io::ErrorKind::WouldBlock => return,
            Ok(_) | Err(_) => {}
        }
        // Outside a runtime (never the case for the server's connections) nothing can wait.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let token = self.tasks.token();
        runtime.spawn(async move {
            let _token = token;
            linger(tcp).await;
        });
    }
}

/// Sends FIN, then reads and discards until the client closes or [`LINGER`] passes.
async fn linger(mut tcp: TcpStream) {
    // A no-op when the HTTP/2 (or TLS) layer already shut the write side down.
    if std::future::poll_fn(|cx| Pin::new(&mut tcp).poll_shutdown(cx))
        .await
        .is_err()
    {
        return;
    }
    let _ = tokio::time::timeout(LINGER, drain(&tcp)).await;
}

/// Reads and discards until end of stream or an error.
async fn drain(tcp: &TcpStream) {
    let mut chunk = [0_u8; DRAIN_CHUNK];
    loop {
        if tcp.readable().await.is_err() {
            return;
        }
        match tcp.try_read(&mut chunk) {
            Ok(0) => return,
            Err(err) if err.kind() != io::ErrorKind::WouldBlock => return,
            Ok(_) | Err(_) => {}
        }
    }
}

/// The accepted connections of a [`TcpIncoming`] (with its socket options), each as a
/// [`LingeringStream`].
#[derive(Debug)]
pub(crate) struct LingeringIncoming {
    inner: TcpIncoming,
    lingers: Lingers,
}

impl LingeringIncoming {
    /// Wraps `incoming`; closed connections are counted by `lingers`.
    pub(crate) fn new(incoming: TcpIncoming, lingers: Lingers) -> Self {
        Self {
            inner: incoming,
            lingers,
        }
    }
}

impl Stream for LingeringIncoming {
    type Item = io::Result<LingeringStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        Pin::new(&mut this.inner).poll_next(cx).map(|accepted| {
            accepted.map(|tcp| {
                tcp.map(|tcp| LingeringStream {
                    tcp: Some(tcp),
                    lingers: this.lingers.clone(),
                })
            })
        })
    }
}

/// An accepted TCP connection that closes with a lingering drain when dropped. Reads and
/// writes go straight to the socket.
#[derive(Debug)]
pub(crate) struct LingeringStream {
    /// Always present until dropped.
    tcp: Option<TcpStream>,
    lingers: Lingers,
}

/// The error of I/O on a stream that was already handed to its lingering close (unreachable:
/// that only happens in `drop`).
fn handed_over() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "the connection is closing")
}

impl Drop for LingeringStream {
    fn drop(&mut self) {
        if let Some(tcp) = self.tcp.take() {
            self.lingers.close(tcp);
        }
    }
}

impl Connected for LingeringStream {
    type ConnectInfo = TcpConnectInfo;

    /// The same information as a plain [`TcpStream`], so `Request::remote_addr` and (under
    /// TLS) `Request::peer_certs` keep working.
    fn connect_info(&self) -> TcpConnectInfo {
        match &self.tcp {
            Some(tcp) => tcp.connect_info(),
            None => TcpConnectInfo {
                local_addr: None,
                remote_addr: None,
            },
        }
    }
}

impl AsyncRead for LingeringStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.get_mut().tcp {
            Some(tcp) => Pin::new(tcp).poll_read(cx, buf),
            None => Poll::Ready(Err(handed_over())),
        }
    }
}

impl AsyncWrite for LingeringStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().tcp {
            Some(tcp) => Pin::new(tcp).poll_write(cx, buf),
            None => Poll::Ready(Err(handed_over())),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().tcp {
            Some(tcp) => Pin::new(tcp).poll_write_vectored(cx, bufs),
            None => Poll::Ready(Err(handed_over())),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.as_ref().is_some_and(TcpStream::is_write_vectored)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().tcp {
            Some(tcp) => Pin::new(tcp).poll_flush(cx),
            None => Poll::Ready(Err(handed_over())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().tcp {
            Some(tcp) => Pin::new(tcp).poll_shutdown(cx),
            None => Poll::Ready(Err(handed_over())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::time::Instant;

    /// A connected pair: the client, and the server side as a [`LingeringStream`].
    async fn pair(lingers: &Lingers) -> (TcpStream, LingeringStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut incoming = LingeringIncoming::new(TcpIncoming::from(listener), lingers.clone());
        let client = TcpStream::connect(addr).await.unwrap();
        let server = std::future::poll_fn(|cx| Pin::new(&mut incoming).poll_next(cx))
            .await
            .expect("a connection")
            .expect("accepted");
        (client, server)
    }

    /// Waits until the server side has data (or end of stream) to read.
    async fn readable(server: &LingeringStream) {
        server.tcp.as_ref().unwrap().readable().await.unwrap();
    }

    #[tokio::test]
    async fn a_connection_dropped_with_unread_data_ends_with_fin_not_reset() {
        let lingers = Lingers::default();
        let (mut client, server) = pair(&lingers).await;
        client.write_all(&[0x55; 1000]).await.unwrap();
        readable(&server).await;

        // Without lingering the kernel answers this close with a reset: the client's read
        // fails with ECONNRESET instead of seeing the end of the stream.
        drop(server);
        assert_eq!(lingers.running(), 1, "draining");
        let mut rest = Vec::new();
        client
            .read_to_end(&mut rest)
            .await
            .expect("a clean end of stream, not a reset");
        assert!(rest.is_empty());

        // What the client still sends is read and discarded until it closes its side.
        client.write_all(&[0x66; 5000]).await.unwrap();
        client.shutdown().await.unwrap();
        tokio::time::timeout(LINGER * 10, lingers.idle())
            .await
            .expect("the lingering close ends when the client closes");
        assert_eq!(lingers.running(), 0);
        assert_eq!(client.read(&mut [0; 16]).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_connection_whose_client_already_closed_is_closed_at_once() {
        let lingers = Lingers::default();
        let (mut client, server) = pair(&lingers).await;
        client.shutdown().await.unwrap();
        readable(&server).await;
        drop(server);
        assert_eq!(lingers.running(), 0, "no lingering task");
        assert_eq!(client.read(&mut [0; 16]).await.unwrap(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_never_closes_is_let_go_after_the_linger_time() {
        let lingers = Lingers::default();
        let (mut client, server) = pair(&lingers).await;
        let dropped = Instant::now();
        drop(server);
        assert_eq!(lingers.running(), 1, "draining");
        assert_eq!(client.read(&mut [0; 16]).await.unwrap(), 0, "FIN at once");
        lingers.idle().await;
        assert!(dropped.elapsed() >= LINGER, "{:?}", dropped.elapsed());
    }

    #[tokio::test]
    async fn connect_info_is_that_of_the_tcp_connection() {
        let (client, server) = pair(&Lingers::default()).await;
        let info = server.connect_info();
        assert_eq!(info.remote_addr(), Some(client.local_addr().unwrap()));
        assert_eq!(info.local_addr(), Some(client.peer_addr().unwrap()));
    }
}
