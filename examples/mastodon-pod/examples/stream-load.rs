//! The load client of `bench/stream-load.sh`: holds N authenticated streams
//! of public statuses open against a running pod (SSE
//! `/api/v1/streaming/public`, or WebSockets of `/api/v1/streaming`
//! subscribed to `public`), posts
//! public statuses and times each one's arrival at every subscriber, then
//! revokes tokens and times their streams' ends. It reads the pod's
//! resident memory from `/proc/PID/status` before and after the streams
//! open.
//!
//! ```text
//! stream-load sse|websocket ADDR POD_PID TOKENS_FILE POSTER_TOKEN STREAMS POSTS REVOCATIONS
//! ```
//!
//! `STREAM_LOAD_HOLD=SECONDS` keeps the streams open that long once they
//! are (for a heap profiler's snapshot) before posting.
//!
//! `TOKENS_FILE` is `bench/pod_token.py`'s output with a count: the app's
//! `client_id client_secret` on the first line, then one `read` token per
//! line; stream `i` uses token `i / 64` (the enforcer's per-token bound).
//!
//! HTTP/1.1 is written by hand over `TcpStream`, as wrk does: a load client
//! that holds 10,000 connections wants one small task and buffer each, and
//! the requests are fixed (`Connection: close`, so a stream's end is EOF).

#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc};

/// The streams one token holds (`OpenStreams::DEFAULT_PER_TOKEN`).
const PER_TOKEN: usize = 64;
/// Streams being opened at once.
const OPENING: usize = 64;
/// The mark each posted status carries: `loadmark<K>z`.
const MARK: &[u8] = b"loadmark";

enum Report {
    /// Stream `stream` saw post `post`.
    Seen {
        stream: usize,
        post: usize,
        at: Instant,
    },
    /// Stream `stream` ended.
    Ended { stream: usize, at: Instant },
}

fn rss_kib(pid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// One request with `Connection: close`; the status code and the body.
async fn request(addr: &str, head: &str, body: &str) -> (u16, String) {
    let mut socket = TcpStream::connect(addr).await.unwrap();
    let message = format!(
        "{head}\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(message.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    socket.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let code = answer.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (code, body)
}

/// Opens stream `index` with `token`; `Ok` once the pod answered 200, then
/// reports every mark it reads and its end.
async fn stream(
    websocket: bool,
    addr: Arc<str>,
    token: Arc<str>,
    index: usize,
    opened: tokio::sync::oneshot::Sender<Result<(), String>>,
    reports: mpsc::UnboundedSender<Report>,
) {
    let mut socket = match TcpStream::connect(&*addr).await {
        Ok(s) => s,
        Err(e) => {
            let _ = opened.send(Err(format!("connect: {e}")));
            return;
        }
    };
    let request = if websocket {
        format!(
            "GET /api/v1/streaming?stream=public HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
             Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        )
    } else {
        format!(
            "GET /api/v1/streaming/public HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
             Accept: text/event-stream\r\nConnection: close\r\n\r\n"
        )
    };
    let expected: &[u8] = if websocket {
        b"HTTP/1.1 101"
    } else {
        b"HTTP/1.1 200"
    };
    if let Err(e) = socket.write_all(request.as_bytes()).await {
        let _ = opened.send(Err(format!("write: {e}")));
        return;
    }
    // The head, then the body; a mark may straddle two reads, so the tail
    // of each read is kept.
    let mut buf = vec![0u8; 2048];
    let mut held = Vec::new();
    let mut opened = Some(opened);
    loop {
        let n = match socket.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let at = Instant::now();
        held.extend_from_slice(&buf[..n]);
        if let Some(tx) = opened.take() {
            let Some(end) = held.windows(4).position(|w| w == b"\r\n\r\n") else {
                opened = Some(tx);
                continue;
            };
            if !held.starts_with(expected) {
                let head = String::from_utf8_lossy(&held[..end]).into_owned();
                let _ = tx.send(Err(head));
                return;
            }
            let _ = tx.send(Ok(()));
            held.drain(..end + 4);
        }
        let mut from = 0;
        while let Some(p) = find(&held[from..], MARK) {
            let digits = &held[from + p + MARK.len()..];
            let Some(z) = digits.iter().position(|b| !b.is_ascii_digit()) else {
                break; // the number continues in the next read
            };
            if let Ok(post) = std::str::from_utf8(&digits[..z]).unwrap().parse() {
                let _ = reports.send(Report::Seen {
                    stream: index,
                    post,
                    at,
                });
            }
            from += p + MARK.len() + z;
        }
        let keep = held.len().saturating_sub(32).max(from.min(held.len()));
        held.drain(..keep);
    }
    if let Some(tx) = opened {
        let _ = tx.send(Err("closed before answering".into()));
        return;
    }
    let _ = reports.send(Report::Ended {
        stream: index,
        at: Instant::now(),
    });
}

/// Opens streams `range` (stream `i` with token `i / PER_TOKEN`), at most
/// [`OPENING`] at a time; panics unless every one opened.
async fn open(
    websocket: bool,
    addr: &Arc<str>,
    tokens: &[Arc<str>],
    range: std::ops::Range<usize>,
    reports: &mpsc::UnboundedSender<Report>,
) {
    let gate = Arc::new(Semaphore::new(OPENING));
    let mut opening = Vec::with_capacity(range.len());
    for i in range {
        let permit = gate.clone().acquire_owned().await.unwrap();
        let (open_tx, open_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(stream(
            websocket,
            addr.clone(),
            tokens[i / PER_TOKEN].clone(),
            i,
            open_tx,
            reports.clone(),
        ));
        opening.push(tokio::spawn(async move {
            let r = open_rx.await.unwrap_or(Err("dropped".into()));
            drop(permit);
            (i, r)
        }));
    }
    let mut failed = 0;
    for o in opening {
        if let (i, Err(e)) = o.await.unwrap() {
            if failed < 3 {
                eprintln!("stream {i}: {e}");
            }
            failed += 1;
        }
    }
    assert_eq!(failed, 0, "{failed} streams did not open");
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

// One thread: the client takes at most one of the machine's cores, and
// the pod the rest.
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [
        _,
        kind,
        addr,
        pid,
        tokens_file,
        poster,
        streams,
        posts,
        revocations,
    ] = &args[..]
    else {
        eprintln!(
            "usage: stream-load sse|websocket ADDR POD_PID TOKENS_FILE POSTER_TOKEN STREAMS POSTS REVOCATIONS"
        );
        std::process::exit(2);
    };
    let websocket = match kind.as_str() {
        "sse" => false,
        "websocket" => true,
        other => panic!("unknown stream kind {other}: sse or websocket"),
    };
    let streams: usize = streams.parse().unwrap();
    let posts: usize = posts.parse().unwrap();
    let revocations: usize = revocations.parse().unwrap();
    let file = std::fs::read_to_string(tokens_file).unwrap();
    let mut lines = file.lines();
    let (client_id, client_secret) = lines.next().unwrap().split_once(' ').unwrap();
    let tokens: Vec<Arc<str>> = lines.map(Arc::from).collect();
    let needed = streams.div_ceil(PER_TOKEN);
    assert!(
        tokens.len() >= needed,
        "{streams} streams need {needed} tokens, the file has {}",
        tokens.len()
    );
    let addr: Arc<str> = Arc::from(addr.as_str());

    let (tx, mut rx) = mpsc::unbounded_channel();
    let before = rss_kib(pid);
    let started = Instant::now();
    // Two halves, the pod's RSS read after each: the second half's growth
    // is the marginal cost of a stream, without what the first streams
    // of a process cost once (allocator arenas, the hub's channel).
    let half = streams / 2;
    open(websocket, &addr, &tokens, 0..half, &tx).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let middle = rss_kib(pid);
    open(websocket, &addr, &tokens, half..streams, &tx).await;
    let open_time = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(pid);
    let per_stream = (after.saturating_sub(before)) as f64 * 1024.0 / streams as f64;
    let marginal = (after.saturating_sub(middle)) as f64 * 1024.0 / (streams - half).max(1) as f64;
    println!(
        "{kind} streams open: {streams} in {:.1} s; pod RSS {:.1} MiB before, {:.1} MiB at {half}, \
         {:.1} MiB at {streams}: {:.2} KiB per stream overall, {:.2} KiB per stream of the second half",
        open_time.as_secs_f64(),
        before as f64 / 1024.0,
        middle as f64 / 1024.0,
        after as f64 / 1024.0,
        per_stream / 1024.0,
        marginal / 1024.0,
    );

    // Time to look at the pod with the streams open (a heap profiler's
    // snapshot, /proc/PID/smaps): STREAM_LOAD_HOLD seconds.
    if let Some(hold) = std::env::var("STREAM_LOAD_HOLD")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        tokio::time::sleep(Duration::from_secs(hold)).await;
    }

    // Fan-out: one public status at a time, each awaited at every stream.
    let mut every = Vec::new();
    let mut last = Vec::new();
    for post in 0..posts {
        let body = format!("status=loadmark{post}z&visibility=public");
        let t0 = Instant::now();
        let (code, answer) = request(
            &addr,
            &format!(
                "POST /api/v1/statuses HTTP/1.1\r\nAuthorization: Bearer {poster}\r\n\
                 Content-Type: application/x-www-form-urlencoded"
            ),
            &body,
        )
        .await;
        assert_eq!(code, 200, "posting: {answer}");
        let mut saw = std::collections::HashSet::new();
        let deadline = tokio::time::sleep(Duration::from_secs(30));
        tokio::pin!(deadline);
        let mut latest = Duration::ZERO;
        while saw.len() < streams {
            tokio::select! {
                r = rx.recv() => match r.unwrap() {
                    Report::Seen { stream, post: p, at } if p == post => {
                        if saw.insert(stream) {
                            let d = at.duration_since(t0);
                            every.push(d);
                            latest = latest.max(d);
                        }
                    }
                    Report::Seen { .. } => {}
                    Report::Ended { stream, .. } => panic!("stream {stream} ended during the fan-out"),
                },
                () = &mut deadline => panic!("post {post}: {} of {streams} streams saw it in 30 s", saw.len()),
            }
        }
        last.push(latest);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    every.sort();
    last.sort();
    let busy = rss_kib(pid);
    println!(
        "after the posts: pod RSS {:.1} MiB, {:.2} KiB per stream overall",
        busy as f64 / 1024.0,
        (busy.saturating_sub(before)) as f64 / streams as f64
    );
    println!(
        "fan-out over {posts} posts to {streams} streams: each delivery p50 {} p99 {}; \
         the last subscriber's: p50 {} p99 {} max {}",
        ms(percentile(&every, 50.0)),
        ms(percentile(&every, 99.0)),
        ms(percentile(&last, 50.0)),
        ms(percentile(&last, 99.0)),
        ms(*last.last().unwrap_or(&Duration::ZERO)),
    );

    // Revocation: token k's streams (up to 64) must all end; nobody else's.
    let mut to_last_close = Vec::new();
    let mut ended_total = 0;
    for (k, token) in tokens.iter().enumerate().take(revocations.min(needed)) {
        let mine: usize = (k * PER_TOKEN..((k + 1) * PER_TOKEN).min(streams)).count();
        let body = format!("token={token}&client_id={client_id}&client_secret={client_secret}");
        let t0 = Instant::now();
        let (code, answer) = request(
            &addr,
            "POST /oauth/revoke HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded",
            &body,
        )
        .await;
        assert_eq!(code, 200, "revoking: {answer}");
        let mut ended: HashMap<usize, Duration> = HashMap::new();
        let deadline = tokio::time::sleep(Duration::from_secs(30));
        tokio::pin!(deadline);
        while ended.len() < mine {
            tokio::select! {
                r = rx.recv() => match r.unwrap() {
                    Report::Ended { stream, at } => {
                        assert_eq!(stream / PER_TOKEN, k, "stream {stream} of another token ended");
                        ended.insert(stream, at.duration_since(t0));
                    }
                    Report::Seen { .. } => {}
                },
                () = &mut deadline => panic!("token {k}: {} of {mine} streams ended in 30 s", ended.len()),
            }
        }
        ended_total += mine;
        to_last_close.push(ended.values().copied().max().unwrap_or_default());
    }
    // Nothing else ended meanwhile.
    tokio::time::sleep(Duration::from_millis(500)).await;
    while let Ok(r) = rx.try_recv() {
        if let Report::Ended { stream, .. } = r {
            panic!("stream {stream} ended without its token being revoked");
        }
    }
    to_last_close.sort();
    println!(
        "revocation to the last of a token's streams closing, {} tokens ({ended_total} streams): p50 {} max {}; \
         the other {} streams stayed open",
        to_last_close.len(),
        ms(percentile(&to_last_close, 50.0)),
        ms(*to_last_close.last().unwrap_or(&Duration::ZERO)),
        streams - ended_total
    );
}
