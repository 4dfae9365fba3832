//! A TCP stream whose writes are coalesced: answers that become ready together leave in one
//! socket write.
//!
//! The HTTP/2 layer flushes its write buffer before queueing any DATA frame larger than a few
//! hundred bytes, so without this every Suggest answer (about a kilobyte) costs its own
//! `writev`, however many answers are ready at once. Here the connection's writes land in a
//! buffer, and a small writer task per connection sends whatever has gathered when it next runs:
//! after the tasks already queued on the runtime, which are typically the other requests of the
//! same burst. That order holds because the server's runtime has its LIFO slot off (see
//! `serve_with` in main.rs); with the slot on, the woken writer would run next and gather less.
//! Nothing waits on a timer, so a lone answer goes out at once.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tonic::transport::server::{Connected, TcpConnectInfo};

/// Bytes buffered before writers are held back until the socket takes some.
const MAX_BUFFERED: usize = 256 * 1024;

/// A peer that has not taken a gathered buffer within this long is given up on: its
/// connection's writes fail from then on, and the writer task ends, releasing the socket.
const WRITE_STALL_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The read half of a TCP connection plus a buffer drained by the connection's writer task.
pub struct CoalescingStream {
    read: OwnedReadHalf,
    shared: Arc<Shared>,
    connect_info: TcpConnectInfo,
}

struct Shared {
    state: Mutex<State>,
    /// Wakes the writer task: there is data to send, or the stream is closing.
    writer: Notify,
}

#[derive(Default)]
struct State {
    pending: Vec<u8>,
    /// The first write error; later writes report it.
    error_opt: Option<io::ErrorKind>,
    /// Set by `poll_shutdown` or drop: send what is pending, then close the write side.
    closing: bool,
    /// The writer task has sent everything and closed the write side.
    closed: bool,
    /// A writer held back by a full buffer or waiting for the close.
    blocked_opt: Option<Waker>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    /// Lets a held-back writer, or a shutdown waiting for the close, look again.
    fn wake_blocked(&mut self) {
        if let Some(waker) = self.blocked_opt.take() {
            waker.wake();
        }
    }

    /// The first write error, as a result.
    fn result(&self) -> io::Result<()> {
        match self.error_opt {
            Some(kind) => Err(kind.into()),
            None => Ok(()),
        }
    }
}

impl CoalescingStream {
    /// Splits `stream` and spawns its writer task on the current runtime.
    pub fn new(stream: TcpStream) -> CoalescingStream {
        let connect_info = stream.connect_info();
        let (read, write) = stream.into_split();
        let shared = Arc::new(Shared { state: Mutex::new(State::default()), writer: Notify::new() });
        tokio::spawn(write_loop(shared.clone(), write));
        CoalescingStream { read, shared, connect_info }
    }

    fn buffer<'a>(&self, cx: &mut Context<'_>, chunks: impl Iterator<Item = &'a [u8]>) -> Poll<io::Result<usize>> {
        let mut state = self.shared.state();
        state.result()?;
        if state.closing {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        if state.pending.len() >= MAX_BUFFERED {
            state.blocked_opt = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let was_empty = state.pending.is_empty();
        let mut written = 0;
        for chunk in chunks {
            state.pending.extend_from_slice(chunk);
            written += chunk.len();
        }
        drop(state);
        if was_empty && written > 0 {
            self.shared.writer.notify_one();
        }
        Poll::Ready(Ok(written))
    }
}

/// Sends whatever has gathered each time it is woken; on close, sends the rest and shuts the
/// write side.
async fn write_loop(shared: Arc<Shared>, mut write: tokio::net::tcp::OwnedWriteHalf) {
    let mut sending = Vec::new();
    loop {
        shared.writer.notified().await;
        loop {
            let closing = {
                let mut state = shared.state();
                std::mem::swap(&mut sending, &mut state.pending);
                state.wake_blocked();
                state.closing
            };
            if sending.is_empty() {
                if closing {
                    let _ = write.shutdown().await;
                    let mut state = shared.state();
                    state.closed = true;
                    state.wake_blocked();
                    return;
                }
                break;
            }
            let result = match tokio::time::timeout(WRITE_STALL_LIMIT, write.write_all(&sending)).await {
                Ok(result) => result,
                Err(_) => Err(io::ErrorKind::TimedOut.into()),
            };
            if let Err(err) = result {
                let mut state = shared.state();
                state.error_opt = Some(err.kind());
                state.closed = true;
                state.wake_blocked();
                return;
            }
            sending.clear();
        }
    }
}

impl Drop for CoalescingStream {
    fn drop(&mut self) {
        self.shared.state().closing = true;
        self.shared.writer.notify_one();
    }
}

impl Connected for CoalescingStream {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.connect_info.clone()
    }
}

impl AsyncRead for CoalescingStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.read).poll_read(cx, buf)
    }
}

impl AsyncWrite for CoalescingStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.buffer(cx, std::iter::once(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.buffer(cx, bufs.iter().map(|slice| &slice[..]))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    /// The writer task sends buffered bytes as soon as it runs; flushing only reports its errors.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shared.state().result())
    }

    /// Resolves once everything buffered is sent and the write side is closed.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut state = self.shared.state();
        if state.closed {
            return Poll::Ready(state.result());
        }
        state.closing = true;
        state.blocked_opt = Some(cx.waker().clone());
        drop(state);
        self.shared.writer.notify_one();
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    async fn pair() -> (CoalescingStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        (CoalescingStream::new(server), client)
    }

    /// Many small and vectored writes, far more than the socket and the buffer hold while the
    /// peer is not reading, arrive whole and in order; the buffer stays bounded meanwhile, and
    /// the shutdown sends the rest before closing.
    #[tokio::test]
    async fn writes_arrive_in_order_and_shutdown_sends_the_rest() {
        let (mut server, mut client) = pair().await;
        let total = 32 * MAX_BUFFERED + 12_345;
        let expected: Vec<u8> = (0..total).map(|i| (i % 251) as u8).collect();
        let reader = tokio::spawn(async move {
            // The peer reads nothing at first, so the socket fills and writers are held back.
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            let mut received = Vec::new();
            let mut chunk = vec![0u8; 1000];
            loop {
                let n = client.read(&mut chunk).await.unwrap();
                if n == 0 {
                    return received;
                }
                received.extend_from_slice(&chunk[..n]);
                if received.len() < MAX_BUFFERED {
                    tokio::task::yield_now().await;
                }
            }
        });
        let mut offset = 0;
        let mut step = 1;
        while offset < total {
            let end = (offset + step).min(total);
            if step % 2 == 0 {
                let middle = (offset + end) / 2;
                let slices = [io::IoSlice::new(&expected[offset..middle]), io::IoSlice::new(&expected[middle..end])];
                let n = server.write_vectored(&slices).await.unwrap();
                offset += n;
            } else {
                server.write_all(&expected[offset..end]).await.unwrap();
                offset = end;
            }
            server.flush().await.unwrap();
            assert!(server.shared.state().pending.len() <= MAX_BUFFERED + 4000, "the buffer outgrew its bound");
            step = step % 4000 + 7;
        }
        server.shutdown().await.unwrap();
        let received = reader.await.unwrap();
        assert_eq!(received.len(), expected.len());
        assert!(received == expected, "bytes arrived out of order");
    }

    /// Dropping the stream still sends what it buffered, then closes the connection.
    #[tokio::test]
    async fn drop_sends_what_was_buffered() {
        let (mut server, mut client) = pair().await;
        server.write_all(b"last words").await.unwrap();
        drop(server);
        let mut received = Vec::new();
        client.read_to_end(&mut received).await.unwrap();
        assert_eq!(received, b"last words");
    }

    /// A write error (the peer is gone) is reported to later writes instead of being lost.
    #[tokio::test]
    async fn write_errors_reach_the_writer() {
        let (mut server, client) = pair().await;
        drop(client);
        let chunk = vec![7u8; 64 * 1024];
        let mut failed = false;
        for _ in 0..1000 {
            if server.write_all(&chunk).await.is_err() || server.flush().await.is_err() {
                failed = true;
                break;
            }
            tokio::task::yield_now().await;
        }
        assert!(failed, "writing to a closed peer never failed");
    }
}
