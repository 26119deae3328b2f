//! A misbehaving identity broker on 127.0.0.1: serves the key set or an outage (429, 5xx,
//! connection reset, a cut-off or garbage answer, a stall), switchable while it runs.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use crate::support::{JWKS_PATH, TestKey, jwks};

/// What the broker answers.
#[derive(Clone, Debug)]
pub enum Answer {
    /// 200 with the key set.
    Keys(Value),
    /// 429, with `Retry-After` seconds if given.
    TooMany(Option<u64>),
    /// Any other status.
    Status(u16),
    /// Resets the connection as soon as it is accepted.
    Reset,
    /// The head of a 200 and half the key set, then the connection closes.
    Truncated,
    /// Bytes that are not HTTP.
    Garbage,
    /// Reads the request and never answers.
    Stall,
}

impl Answer {
    /// The key set with these keys.
    pub fn keys(keys: &[&TestKey]) -> Self {
        Self::Keys(jwks(keys))
    }

    /// Every outage, each with a word its error detail contains.
    pub fn outages() -> Vec<(Self, &'static str)> {
        vec![
            (Self::TooMany(None), "rate limited (429)"),
            (Self::Status(500), "500"),
            (Self::Status(502), "502"),
            (Self::Status(503), "503"),
            (Self::Status(504), "504"),
            (Self::Reset, "failed"),
            (Self::Truncated, "failed"),
            (Self::Garbage, "failed"),
            (Self::Stall, "timed out"),
        ]
    }
}

/// The broker. Closes its port and every connection on drop.
pub struct FlakyBroker {
    addr: SocketAddr,
    answer: Arc<Mutex<Answer>>,
    fetches: Arc<AtomicUsize>,
    /// Requests for anything but the key set (answered 404).
    unexpected: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl FlakyBroker {
    pub async fn start(answer: Answer) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let answer = Arc::new(Mutex::new(answer));
        let fetches = Arc::new(AtomicUsize::new(0));
        let unexpected = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn({
            let answer = Arc::clone(&answer);
            let fetches = Arc::clone(&fetches);
            let unexpected = Arc::clone(&unexpected);
            async move {
                let mut connections = JoinSet::new();
                loop {
                    let (stream, _) = listener.accept().await.expect("accept");
                    // Counted first: a fetch that failed has always been counted.
                    fetches.fetch_add(1, Ordering::SeqCst);
                    let answer = answer.lock().expect("answer").clone();
                    connections.spawn(serve(stream, answer, Arc::clone(&unexpected)));
                    while connections.try_join_next().is_some() {}
                }
            }
        });
        Self {
            addr,
            answer,
            fetches,
            unexpected,
            task,
        }
    }

    /// The issuer (`iss`) this broker stands in for.
    pub fn issuer(&self) -> String {
        format!("http://{}/idb", self.addr)
    }

    /// Changes the answer for the next connections.
    pub fn answer(&self, answer: Answer) {
        *self.answer.lock().expect("answer") = answer;
    }

    /// Connections (key-set fetches) so far.
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

impl Drop for FlakyBroker {
    fn drop(&mut self) {
        self.task.abort();
        if !std::thread::panicking() {
            assert_eq!(
                self.unexpected.load(Ordering::SeqCst),
                0,
                "the broker received requests for something other than the key set"
            );
        }
    }
}

async fn serve(mut stream: TcpStream, answer: Answer, unexpected: Arc<AtomicUsize>) {
    if let Answer::Reset = answer {
        stream.set_zero_linger().expect("linger");
        return;
    }
    let Some(path) = read_request(&mut stream).await else {
        return;
    };
    let answer = if path == JWKS_PATH {
        answer
    } else {
        unexpected.fetch_add(1, Ordering::SeqCst);
        Answer::Status(404)
    };
    // Write errors are ignored: the verifier may have given up.
    let bytes = match answer {
        Answer::Keys(jwks) => response(200, "", &jwks.to_string()),
        Answer::TooMany(retry_after) => {
            let header = retry_after
                .map(|secs| format!("Retry-After: {secs}\r\n"))
                .unwrap_or_default();
            response(429, &header, "{}")
        }
        Answer::Status(status) => response(status, "", "{}"),
        Answer::Truncated => "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                              Content-Length: 4096\r\nConnection: close\r\n\r\n{\"keys\": [{\"kty\""
            .to_owned(),
        Answer::Garbage => "220 smtp.example.com ESMTP\r\n\r\n".to_owned(),
        // Holds the connection until the broker is dropped.
        Answer::Stall => std::future::pending::<String>().await,
        Answer::Reset => unreachable!("handled above"),
    };
    let _ = stream.write_all(bytes.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn response(status: u16, extra_headers: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status} Status\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         {extra_headers}Connection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Reads a bodiless request's head; returns its path.
async fn read_request(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0_u8; 2048];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    head.split_whitespace().nth(1).map(str::to_owned)
}
