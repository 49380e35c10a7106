//! The shutdown signal shared by the go-plugin controller, the OS signals and the server, and
//! the `plugin.GRPCController` service itself.
//!
//! Terraform ends a provider by calling `Shutdown` and kills it two seconds later. We answer the
//! call first and then stop: tonic stops accepting, lets in-flight RPCs finish, and `serve`
//! returns.

use tokio::sync::watch;
use tonic::{Request, Response, Status};

use super::wire::grpc_controller_server::{GrpcController, GrpcControllerServer};
use super::wire::Empty;

/// A one-way latch: once triggered, every waiter (present and future) is released.
#[derive(Debug, Clone)]
pub(crate) struct Shutdown {
    tx: watch::Sender<bool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    /// A latch not yet triggered.
    pub fn new() -> Self {
        Self {
            tx: watch::Sender::new(false),
        }
    }

    /// Releases every waiter. Triggering twice is harmless.
    pub(crate) fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// Whether [`Shutdown::trigger`] was called.
    #[cfg(test)]
    pub(crate) fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves once the latch is triggered.
    pub(crate) fn wait(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.tx.subscribe();
        async move {
            // `wait_for` fails only when every `Shutdown` clone is gone; nobody can trigger
            // then, and releasing the waiter keeps a server from outliving its owner.
            let _ = rx.wait_for(|triggered| *triggered).await;
        }
    }
}

/// `plugin.GRPCController`.
#[derive(Debug, Clone)]
pub(crate) struct Controller {
    shutdown: Shutdown,
}

impl Controller {
    /// The gRPC service triggering `shutdown`.
    pub(crate) fn service(shutdown: Shutdown) -> GrpcControllerServer<Self> {
        GrpcControllerServer::new(Self { shutdown })
    }
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        tracing::debug!("Terraform asked the provider to shut down");
        self.shutdown.trigger();
        Ok(Response::new(Empty {}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn waiters_before_and_after_are_released() {
        let shutdown = Shutdown::new();
        let early = shutdown.wait();
        assert!(!shutdown.is_triggered());
        let pending = tokio::time::timeout(Duration::from_millis(20), shutdown.wait()).await;
        assert!(pending.is_err(), "must not resolve before trigger");
        shutdown.trigger();
        early.await;
        shutdown.wait().await;
        assert!(shutdown.is_triggered());
    }

    #[tokio::test]
    async fn controller_rpc_triggers() {
        let shutdown = Shutdown::new();
        let controller = Controller {
            shutdown: shutdown.clone(),
        };
        controller.shutdown(Request::new(Empty {})).await.unwrap();
        assert!(shutdown.is_triggered());
    }
}
