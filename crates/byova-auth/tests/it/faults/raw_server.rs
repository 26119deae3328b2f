//! A hand-rolled HTTP/1.1 token endpoint on 127.0.0.1 that misbehaves on purpose (resets,
//! cut-off answers, garbage, stalls), per request, as a script says.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// What the server does with one request.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Reset the connection (RST) after reading the request.
    Reset,
    /// Half a status line, then close.
    TruncatedHead,
    /// Headers promising 256 bytes of body, a few of them, then close.
    TruncatedBody,
    /// Bytes that are not HTTP.
    Garbage,
    /// The head of a 200 and never its body.
    Stall,
    /// A complete `200` JSON answer.
    Json(String),
}

type Script = dyn Fn(&str, usize) -> Fault + Send + Sync;

/// The server; stops (closing every connection) on drop.
pub struct RawServer {
    addr: SocketAddr,
    per_path: Arc<Mutex<HashMap<String, usize>>>,
    task: JoinHandle<()>,
}

impl RawServer {
    /// Answers the `nth` (1-based) request to `path` with `script(path, nth)`.
    pub async fn start(script: impl Fn(&str, usize) -> Fault + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let per_path = Arc::new(Mutex::new(HashMap::new()));
        let script: Arc<Script> = Arc::new(script);
        let task = tokio::spawn({
            let per_path = Arc::clone(&per_path);
            async move {
                let mut connections = JoinSet::new();
                loop {
                    let (stream, _) = listener.accept().await.expect("accept");
                    connections.spawn(serve(stream, Arc::clone(&script), Arc::clone(&per_path)));
                    while connections.try_join_next().is_some() {}
                }
            }
        });
        Self {
            addr,
            per_path,
            task,
        }
    }

    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests read so far for `path`.
    pub fn requests_to(&self, path: &str) -> usize {
        self.per_path
            .lock()
            .expect("counts")
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

async fn serve(
    mut stream: TcpStream,
    script: Arc<Script>,
    per_path: Arc<Mutex<HashMap<String, usize>>>,
) {
    let Some(path) = read_request(&mut stream).await else {
        return;
    };
    let nth = {
        let mut counts = per_path.lock().expect("counts");
        let count = counts.entry(path.clone()).or_insert(0);
        *count += 1;
        *count
    };
    let bytes = match script(&path, nth) {
        Fault::Reset => {
            stream.set_zero_linger().expect("linger");
            return;
        }
        Fault::TruncatedHead => "HTTP/1.1 200 OK\r\nContent-Ty".to_owned(),
        Fault::TruncatedBody => "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                                 Content-Length: 256\r\nConnection: close\r\n\r\n{\"access_token\": \"trunc"
            .to_owned(),
        Fault::Garbage => "SSH-2.0-OpenSSH_9.6\r\n\r\n".to_owned(),
        Fault::Stall => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 256\r\n\r\n")
                .await;
            std::future::pending::<()>().await;
            return;
        }
        Fault::Json(body) => format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        ),
    };
    // Write errors are ignored: the client may have given up.
    let _ = stream.write_all(bytes.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Reads one request (head and `Content-Length` body); its path, or `None` if the client left.
async fn read_request(stream: &mut TcpStream) -> Option<String> {
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
    let path = head.split_whitespace().nth(1)?.to_owned();
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
    Some(path)
}
