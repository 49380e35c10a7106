//! Where Terraform dials us: a unix socket in a private directory, or loopback TCP when a socket
//! cannot be made; and the stream of accepted (optionally TLS-wrapped) connections fed to tonic.
//!
//! The socket lives in a fresh directory with mode 0700 so no other local user can connect to it
//! before the TLS handshake even starts; the directory and socket are removed when the
//! [`SocketDir`] guard drops. TLS handshakes run in their own tasks so that one slow or hostile
//! client cannot hold up the accept loop.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;

use super::handshake::PluginAddr;
use super::PluginError;

/// File name of the socket inside its private directory.
const SOCKET_NAME: &str = "plugin.sock";

/// A private socket directory, removed (with the socket) on drop.
#[derive(Debug)]
pub(crate) struct SocketDir {
    dir: PathBuf,
}

impl SocketDir {
    /// Creates `sshkey-plugin-<random>` with mode 0700 under `parent` (or the temp dir).
    pub(crate) fn create(parent: Option<&Path>) -> io::Result<Self> {
        let parent = parent.map_or_else(std::env::temp_dir, Path::to_path_buf);
        for _ in 0..16 {
            let dir = parent.join(format!("sshkey-plugin-{:016x}", rand::random::<u64>()));
            match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => return Ok(Self { dir }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "no free socket directory name",
        ))
    }

    /// The directory.
    #[cfg(test)]
    pub(crate) fn path(&self) -> &Path {
        &self.dir
    }

    /// The socket path inside it.
    pub(crate) fn socket_path(&self) -> PathBuf {
        self.dir.join(SOCKET_NAME)
    }
}

impl Drop for SocketDir {
    fn drop(&mut self) {
        // Best effort: a missing socket just means the listener never bound.
        let _ = std::fs::remove_file(self.socket_path());
        if let Err(e) = std::fs::remove_dir(&self.dir) {
            tracing::debug!(dir = %self.dir.display(), error = %e, "could not remove socket directory");
        }
    }
}

/// A bound listener of either kind, with the guard that cleans the socket up.
#[derive(Debug)]
pub(crate) enum PluginListener {
    /// A unix socket and its directory guard.
    Unix(UnixListener, SocketDir),
    /// Loopback TCP.
    Tcp(TcpListener),
}

impl PluginListener {
    /// Binds a unix socket; if that fails (a too-long path, a read-only directory), falls back
    /// to the first free loopback port in `ports`, starting at a random offset so that parallel
    /// providers rarely race for the same port.
    pub fn bind(
        socket_parent: Option<&Path>,
        ports: RangeInclusive<u16>,
    ) -> Result<Self, PluginError> {
        match Self::bind_unix(socket_parent) {
            Ok(listener) => return Ok(listener),
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen on a unix socket, falling back to TCP")
            }
        }
        Self::bind_tcp(ports)
    }

    fn bind_unix(socket_parent: Option<&Path>) -> io::Result<Self> {
        let dir = SocketDir::create(socket_parent)?;
        let listener = UnixListener::bind(dir.socket_path())?;
        Ok(Self::Unix(listener, dir))
    }

    fn bind_tcp(ports: RangeInclusive<u16>) -> Result<Self, PluginError> {
        let (start, end) = (u32::from(*ports.start()), u32::from(*ports.end()));
        let span = end - start + 1;
        let offset = rand::random::<u32>() % span;
        let mut last_error = None;
        for i in 0..span {
            let port = u16::try_from(start + (offset + i) % span).unwrap_or(*ports.end());
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            match std::net::TcpListener::bind(addr) {
                Ok(listener) => {
                    listener
                        .set_nonblocking(true)
                        .map_err(PluginError::Listen)?;
                    return TcpListener::from_std(listener)
                        .map(Self::Tcp)
                        .map_err(PluginError::Listen);
                }
                Err(e) => last_error = Some(e),
            }
        }
        Err(PluginError::NoFreePort {
            range: format!("{}..={}", ports.start(), ports.end()),
            last: last_error.map(|e| e.to_string()).unwrap_or_default(),
        })
    }

    /// The address for the handshake line.
    pub(crate) fn addr(&self) -> Result<PluginAddr, PluginError> {
        match self {
            Self::Unix(_, dir) => Ok(PluginAddr::Unix(dir.socket_path())),
            Self::Tcp(listener) => listener
                .local_addr()
                .map(PluginAddr::Tcp)
                .map_err(PluginError::Listen),
        }
    }

    /// Accepts connections until the returned stream is dropped. Each yields a [`Conn`], after
    /// the TLS handshake when `tls` is given; failed handshakes are logged and dropped. The
    /// socket guard (if any) is handed back so the caller decides when the socket disappears.
    pub(crate) fn incoming(
        self,
        tls: Option<TlsAcceptor>,
    ) -> (ReceiverStream<io::Result<Conn>>, Option<SocketDir>) {
        let (tx, rx) = mpsc::channel(16);
        let guard = match self {
            Self::Unix(listener, dir) => {
                tokio::spawn(accept_loop(listener, tls, tx));
                Some(dir)
            }
            Self::Tcp(listener) => {
                tokio::spawn(accept_loop(listener, tls, tx));
                None
            }
        };
        (ReceiverStream::new(rx), guard)
    }
}

/// The one operation the accept loop needs from either listener.
trait Accept: Send + 'static {
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    fn accept_one(&self) -> impl std::future::Future<Output = io::Result<Self::Stream>> + Send;
}

impl Accept for UnixListener {
    type Stream = tokio::net::UnixStream;
    async fn accept_one(&self) -> io::Result<Self::Stream> {
        self.accept().await.map(|(stream, _)| stream)
    }
}

impl Accept for TcpListener {
    type Stream = tokio::net::TcpStream;
    async fn accept_one(&self) -> io::Result<Self::Stream> {
        let (stream, _) = self.accept().await?;
        // gRPC messages are small and latency-bound.
        stream.set_nodelay(true)?;
        Ok(stream)
    }
}

async fn accept_loop<L: Accept>(
    listener: L,
    tls: Option<TlsAcceptor>,
    tx: mpsc::Sender<io::Result<Conn>>,
) {
    loop {
        let stream = tokio::select! {
            accepted = listener.accept_one() => accepted,
            () = tx.closed() => return,
        };
        let stream = match stream {
            Ok(stream) => stream,
            Err(e) => {
                // Transient (EMFILE, ECONNABORTED): log, breathe, keep serving.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        match &tls {
            None => {
                if tx.send(Ok(Conn::new(stream))).await.is_err() {
                    return;
                }
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    match acceptor.accept(stream).await {
                        Ok(tls_stream) => {
                            let _ = tx.send(Ok(Conn::new(tls_stream))).await;
                        }
                        Err(e) => tracing::warn!(error = %e, "TLS handshake with a client failed"),
                    }
                });
            }
        }
    }
}

/// Makes a TLS acceptor from a server configuration.
pub(crate) fn acceptor(config: rustls::ServerConfig) -> TlsAcceptor {
    TlsAcceptor::from(Arc::new(config))
}

/// Object-safe union of the transport traits, so one connection type covers plain and TLS over
/// unix and TCP.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// An accepted connection, whatever the transport underneath.
pub(crate) struct Conn(Box<dyn Io>);

impl Conn {
    fn new(io: impl AsyncRead + AsyncWrite + Unpin + Send + 'static) -> Self {
        Self(Box::new(io))
    }
}

impl tonic::transport::server::Connected for Conn {
    // The peer is always the local parent process; there is nothing useful to report.
    type ConnectInfo = ();

    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn socket_dir_is_private_and_removed() {
        let parent = tempfile::tempdir().unwrap();
        let dir = SocketDir::create(Some(parent.path())).unwrap();
        let path = dir.path().to_path_buf();
        assert!(path.starts_with(parent.path()));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        std::fs::write(dir.socket_path(), b"").unwrap();
        drop(dir);
        assert!(!path.exists());
    }

    #[tokio::test]
    async fn unix_listener_in_the_given_dir() {
        let parent = tempfile::tempdir().unwrap();
        let listener = PluginListener::bind(Some(parent.path()), 10000..=25000).unwrap();
        let PluginAddr::Unix(path) = listener.addr().unwrap() else {
            panic!("expected a unix socket");
        };
        assert!(path.starts_with(parent.path()));
        assert!(path.exists());
    }

    #[tokio::test]
    async fn falls_back_to_tcp_in_range() {
        // A path longer than sun_path (108 bytes) cannot be bound.
        let parent = tempfile::tempdir().unwrap();
        let deep = parent.path().join("d".repeat(120));
        std::fs::create_dir(&deep).unwrap();
        let listener = PluginListener::bind(Some(&deep), 20000..=20100).unwrap();
        match listener.addr().unwrap() {
            PluginAddr::Tcp(addr) => {
                assert!(addr.ip().is_loopback());
                assert!((20000..=20100).contains(&addr.port()), "{addr}");
            }
            other => panic!("expected TCP, got {other:?}"),
        }
        // The failed attempt left no directory behind.
        assert_eq!(std::fs::read_dir(&deep).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn tcp_reports_exhausted_range() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let err = PluginListener::bind_tcp(port..=port).unwrap_err();
        assert!(matches!(err, PluginError::NoFreePort { .. }), "{err}");
    }
}
