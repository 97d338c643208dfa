//! A wide-area network between a client and servers on 127.0.0.1, for the benchmark (`bench/wan.js`).
//!
//! `wan RATE RTT_MS UPSTREAM...` listens on one free 127.0.0.1 port per upstream (`host:port`) and
//! prints `UPSTREAM LISTEN` lines once they all listen. Every TCP connection made to a listening
//! port is forwarded to its upstream as its own flow, as an object store's network treats it:
//!
//! - each direction of each connection is paced to RATE bytes per second (0: unpaced), the per-flow
//!   cap a real store's connection has (`tc fq maxrate` does the same in a kernel with `fq`);
//! - every byte arrives RTT_MS / 2 after it was sent, each way, and a new connection waits one
//!   round trip (the TCP handshake) before its first byte goes on;
//! - at most a round trip's worth of bytes at RATE (plus 256 KiB) is in flight per direction, so
//!   a reader that stops reading stops the sender, as a TCP window does.
//!
//! The kernel here has neither `netem` nor `fq`, hence a proxy. It is the only thing between client
//! and server, so the benchmark shows what it carries unpaced as well (far above the cap).

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};

const READ: usize = 256 << 10;

#[derive(Clone, Copy)]
struct Link {
    rate: f64,
    delay: Duration,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [rate, rtt, upstreams @ ..] = args.as_slice() else {
        eprintln!("usage: wan RATE_BYTES_PER_S RTT_MS UPSTREAM...");
        std::process::exit(2);
    };
    let link = Link {
        rate: rate.parse().expect("RATE is a number"),
        delay: Duration::from_secs_f64(rtt.parse::<f64>().expect("RTT_MS is a number") / 2000.0),
    };
    let mut lines = String::new();
    for upstream in upstreams {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        lines += &format!("{upstream} {}\n", listener.local_addr()?);
        tokio::spawn(accept(listener, upstream.clone(), link));
    }
    print!("{lines}");
    use std::io::Write;
    std::io::stdout().flush()?;
    // Runs until killed.
    std::future::pending::<()>().await;
    Ok(())
}

async fn accept(listener: TcpListener, upstream: String, link: Link) {
    loop {
        let Ok((client, _)) = listener.accept().await else { continue };
        let upstream = upstream.clone();
        tokio::spawn(async move {
            let opened = Instant::now();
            let Ok(server) = TcpStream::connect(&upstream).await else { return };
            let _ = (client.set_nodelay(true), server.set_nodelay(true));
            let (cr, cw) = client.into_split();
            let (sr, sw) = server.into_split();
            // The handshake's round trip comes before the request's first byte.
            let handshake = opened + 2 * link.delay;
            tokio::join!(flow(cr, sw, link, handshake), flow(sr, cw, link, opened));
        });
    }
}

/// One direction of one connection: read as it comes, deliver each byte `delay` later, at `rate`.
async fn flow(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, link: Link, start: Instant) {
    let window = (link.rate * 2.0 * link.delay.as_secs_f64()) as usize + (256 << 10);
    let (tx, mut rx) = mpsc::channel::<(Instant, Bytes)>(window.div_ceil(READ).max(2));
    let reader = async move {
        let mut buf = BytesMut::new();
        loop {
            buf.reserve(READ);
            match from.read_buf(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let chunk = buf.split().freeze();
                    if tx.send((Instant::now() + link.delay, chunk)).await.is_err() {
                        break;
                    }
                }
            }
        }
    };
    // Bytes written at a time: two milliseconds' worth at `rate` keeps the pace smooth (a real
    // link's bursts are longer) without a wake-up per packet; unpaced, whatever was read.
    let slice = if link.rate > 0.0 { ((link.rate / 500.0) as usize).clamp(4 << 10, READ) } else { READ };
    let writer = async move {
        // When the next byte may leave, at `rate` after the last.
        let mut next = start;
        while let Some((due, chunk)) = rx.recv().await {
            for slice in chunk.chunks(slice) {
                let now = Instant::now();
                // After an idle spell the pace starts again from now (no burst for lost time).
                if next + Duration::from_millis(2) < now {
                    next = now;
                }
                let at = next.max(due);
                if at > now {
                    sleep_until(at).await;
                }
                if to.write_all(slice).await.is_err() {
                    return;
                }
                if link.rate > 0.0 {
                    next = at + Duration::from_secs_f64(slice.len() as f64 / link.rate);
                }
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}
