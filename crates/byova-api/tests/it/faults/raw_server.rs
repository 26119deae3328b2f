//! A hand-rolled HTTP/1.1 server on 127.0.0.1 that misbehaves on purpose: connection resets,
//! responses cut off mid-head or mid-body, garbage, stalls. wiremock cannot do these.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// What the server does with one request.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Read the request, then reset the connection (RST, no response).
    Reset,
    /// Read the request, send half a status line, then close.
    TruncatedHead,
    /// Headers promising 64 bytes of body, 10 bytes of it, then close.
    TruncatedBody,
    /// A chunked body cut off before its last chunk, then close.
    TruncatedChunked,
    /// Bytes that are not HTTP.
    Garbage,
    /// The head of a 200 promising a body that never comes (the connection stays open).
    StallBody,
    /// A complete response with `Connection: close`.
    Respond {
        /// Status code.
        status: u16,
        /// `Retry-After` in seconds, if any.
        retry_after: Option<u64>,
        /// JSON body.
        body: String,
    },
}

impl Fault {
    /// A 200 with a JSON body.
    pub fn ok(body: impl Into<String>) -> Self {
        Self::Respond {
            status: 200,
            retry_after: None,
            body: body.into(),
        }
    }

    /// A status with an empty JSON object body and an optional `Retry-After`.
    pub fn status(status: u16, retry_after: Option<u64>) -> Self {
        Self::Respond {
            status,
            retry_after,
            body: "{}".to_owned(),
        }
    }
}

/// One request the server read.
#[derive(Clone, Debug)]
pub struct Seen {
    /// Method.
    pub method: String,
    /// Path (with query).
    pub path: String,
    /// 1-based count of requests to this path so far, this one included.
    pub nth: usize,
}

type Script = dyn Fn(&Seen) -> Fault + Send + Sync;

enum Behaviour {
    /// Reset every connection as soon as it is accepted, without reading.
    ResetOnAccept,
    /// Read each request and do what the script says.
    Scripted(Arc<Script>),
}

/// The misbehaving server. Stops (and closes every connection it holds) on drop.
pub struct RawServer {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    per_path: Arc<Mutex<HashMap<String, usize>>>,
    task: JoinHandle<()>,
}

impl RawServer {
    /// A server that resets every connection as soon as it accepts it.
    pub async fn resetting() -> Self {
        Self::start_with(Behaviour::ResetOnAccept).await
    }

    /// A server that reads each request and answers as `script` says.
    pub async fn scripted(script: impl Fn(&Seen) -> Fault + Send + Sync + 'static) -> Self {
        Self::start_with(Behaviour::Scripted(Arc::new(script))).await
    }

    async fn start_with(behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let per_path = Arc::new(Mutex::new(HashMap::new()));
        let task = tokio::spawn({
            let accepted = Arc::clone(&accepted);
            let per_path = Arc::clone(&per_path);
            async move {
                // Owns the connection tasks: dropping it (when the server is dropped) closes them.
                let mut connections = JoinSet::new();
                loop {
                    let (stream, _) = listener.accept().await.unwrap();
                    // Counted before anything happens on the connection, so a client that saw
                    // the connection fail always sees it counted.
                    accepted.fetch_add(1, Ordering::SeqCst);
                    match &behaviour {
                        Behaviour::ResetOnAccept => {
                            stream.set_zero_linger().unwrap();
                            drop(stream);
                        }
                        Behaviour::Scripted(script) => {
                            connections.spawn(serve(
                                stream,
                                Arc::clone(script),
                                Arc::clone(&per_path),
                            ));
                        }
                    }
                    // Reap finished connection tasks so the set stays small.
                    while connections.try_join_next().is_some() {}
                }
            }
        });
        Self {
            addr,
            accepted,
            per_path,
            task,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Requests read so far for `path`.
    pub fn requests_to(&self, path: &str) -> usize {
        self.per_path
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves one connection: one request, one (mis)behaviour, then the connection ends.
async fn serve(
    mut stream: TcpStream,
    script: Arc<Script>,
    per_path: Arc<Mutex<HashMap<String, usize>>>,
) {
    let Some((method, path)) = read_request(&mut stream).await else {
        return;
    };
    let nth = {
        let mut per_path = per_path.lock().unwrap();
        let count = per_path.entry(path.clone()).or_insert(0);
        *count += 1;
        *count
    };
    let fault = script(&Seen { method, path, nth });
    // Write errors are ignored: the client may already have given up.
    match fault {
        Fault::Reset => {
            stream.set_zero_linger().unwrap();
            drop(stream);
        }
        Fault::TruncatedHead => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Ty").await;
            let _ = stream.shutdown().await;
        }
        Fault::TruncatedBody => {
            let _ = stream
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\
                      Connection: close\r\n\r\n{\"id\": \"ds",
                )
                .await;
            let _ = stream.shutdown().await;
        }
        Fault::TruncatedChunked => {
            let _ = stream
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                      Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
                      a\r\n{\"items\": \r\n",
                )
                .await;
            let _ = stream.shutdown().await;
        }
        Fault::Garbage => {
            let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.6\r\n\r\n").await;
            let _ = stream.shutdown().await;
        }
        Fault::StallBody => {
            let _ = stream
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                      Content-Length: 64\r\n\r\n",
                )
                .await;
            // Hold the connection open until the server is dropped.
            std::future::pending::<()>().await;
        }
        Fault::Respond {
            status,
            retry_after,
            body,
        } => {
            let retry_after = retry_after
                .map(|secs| format!("Retry-After: {secs}\r\n"))
                .unwrap_or_default();
            let response = format!(
                "HTTP/1.1 {status} Status\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\n{retry_after}Connection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
    }
}

/// Reads one request (head and `Content-Length` body); `None` if the client went away first.
async fn read_request(stream: &mut TcpStream) -> Option<(String, String)> {
    let mut buf = Vec::new();
    let mut chunk = [0_u8; 4096];
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut words = head.split_whitespace();
    let method = words.next()?.to_owned();
    let path = words.next()?.to_owned();
    let body_len = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while buf.len() < head_end + body_len {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some((method, path))
}
