//! `plugin.GRPCStdio`: go-plugin's channel for a plugin's redirected stdout/stderr.
//!
//! We never redirect our output (logs go to stderr, which Terraform reads directly), so the
//! stream carries nothing; it stays open until shutdown so the client sees a healthy stream
//! rather than an error, and ends then so that graceful shutdown is not held up by it.

use std::pin::Pin;

use futures::{Stream, StreamExt as _};
use tonic::{Request, Response, Status};

use super::controller::Shutdown;
use super::wire::grpc_stdio_server::{GrpcStdio, GrpcStdioServer};
use super::wire::StdioData;

/// `plugin.GRPCStdio`.
#[derive(Debug, Clone)]
pub(crate) struct Stdio {
    shutdown: Shutdown,
}

impl Stdio {
    /// The gRPC service whose streams end at `shutdown`.
    pub(crate) fn service(shutdown: Shutdown) -> GrpcStdioServer<Self> {
        GrpcStdioServer::new(Self { shutdown })
    }
}

type StdioStream = Pin<Box<dyn Stream<Item = Result<StdioData, Status>> + Send>>;

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    type StreamStdioStream = StdioStream;

    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        let done = self.shutdown.wait();
        let stream = futures::stream::once(done).filter_map(|()| async { None });
        Ok(Response::new(Box::pin(stream)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn stream_is_silent_until_shutdown_then_ends() {
        let shutdown = Shutdown::new();
        let stdio = Stdio {
            shutdown: shutdown.clone(),
        };
        let mut stream = stdio
            .stream_stdio(Request::new(()))
            .await
            .unwrap()
            .into_inner();
        let early = tokio::time::timeout(Duration::from_millis(20), stream.next()).await;
        assert!(early.is_err(), "no item and no end before shutdown");
        shutdown.trigger();
        assert!(stream.next().await.is_none());
    }
}
