//! The one error type every cloud call returns.
//!
//! The provider turns these into Terraform diagnostics, and operators paste them into support
//! tickets, so every error carries the cloud, the action, the cloud's own code and message and the
//! RequestId. [`ErrorKind`] is our classification of the code: retries, idempotence checks and the
//! coalescer's verification decide on the kind, never on string matching scattered around.

use std::fmt;

use super::CloudKind;

/// How an error should be treated, independent of the cloud that produced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The key pair or instance does not exist.
    NotFound,
    /// The cloud asked us to slow down (`Throttling*`, `RequestLimitExceeded*`).
    Throttled,
    /// HTTP 5xx or an internal error code: worth retrying.
    Server,
    /// Connection refused/reset, timeout, unreadable response: the call may or may not have run.
    Transport,
    /// The key pair is still bound to instances and cannot be deleted.
    BoundToInstance,
    /// The request itself was rejected (bad name, limit exceeded, wrong instance state, ...).
    InvalidInput,
    /// Credentials missing, wrong or expired.
    Auth,
    /// The provider is stopping; the call was never sent.
    Cancelled,
    /// Anything else the cloud reported.
    Other,
}

impl ErrorKind {
    /// Whether retrying the same request may succeed.
    pub(crate) fn is_retryable(self) -> bool {
        matches!(self, Self::Throttled | Self::Server | Self::Transport)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::NotFound => "not found",
            Self::Throttled => "throttled",
            Self::Server => "server error",
            Self::Transport => "transport error",
            Self::BoundToInstance => "bound to instance",
            Self::InvalidInput => "invalid input",
            Self::Auth => "authentication failed",
            Self::Cancelled => "cancelled",
            Self::Other => "error",
        };
        f.write_str(s)
    }
}

/// A failed cloud call (or one part of it, for per-instance results).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{cloud} {action} failed ({kind}): {code}: {message}{}{}",
    .http_status.map(|s| format!(" (HTTP {s})")).unwrap_or_default(),
    .request_id.as_ref().map(|r| format!(" [RequestId: {r}]")).unwrap_or_default())]
pub struct CloudError {
    /// Which cloud answered.
    pub cloud: CloudKind,
    /// The API action, e.g. `DeleteKeyPairs`.
    pub action: String,
    /// The cloud's error code, or our own (`Transport`, `Cancelled`, ...) when it never answered.
    pub code: String,
    /// The cloud's message, or ours.
    pub message: String,
    /// The RequestId of the failed call, when there was an answer.
    pub request_id: Option<String>,
    /// The HTTP status, when there was an answer.
    pub http_status: Option<u16>,
    /// Our classification of `code`.
    pub kind: ErrorKind,
}

impl CloudError {
    /// An error we raise ourselves (no answer from the cloud).
    pub(crate) fn local(
        cloud: CloudKind,
        action: &str,
        kind: ErrorKind,
        code: &str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            cloud,
            action: action.to_string(),
            code: code.to_string(),
            message: message.into(),
            request_id: None,
            http_status: None,
            kind,
        }
    }
}

/// Classifies a cloud error code (plus HTTP status) into an [`ErrorKind`].
///
/// One table for the three clouds: the codes do not collide, and a shared table keeps the
/// retry and idempotence rules identical everywhere.
pub(crate) fn classify(code: &str, http_status: Option<u16>) -> ErrorKind {
    const NOT_FOUND: &[&str] = &[
        "InvalidKeyPairName.NotFound",
        "InvalidKeyPair.NotFound",
        "KeyPair.NotFound",
        "KeyPairNotFound",
        "InvalidParameterValue.KeyPairNotFound",
        "InvalidKeyPairId.NotFound",
        "InvalidInstanceId.NotFound",
        "InvalidInstance.NotFound",
        "Instance.NotFound",
        "InvalidInstanceId.NotFound",
        "ResourceNotFound.InstanceNotFound",
        "ResourceNotFound",
        "PubKeyNameNotExist",
        "InstanceNotFound",
    ];
    const BOUND: &[&str] = &[
        "InvalidParameter.KeypairAlreadyAttachedInstance",
        "InvalidParameter.KeyPairAlreadyAttachedInstance",
        "KeyPair.AttachedInstance",
        "FailedOperation.KeyPairUnsupported",
    ];
    if code.starts_with("Throttling") || code.starts_with("RequestLimitExceeded") {
        return ErrorKind::Throttled;
    }
    if NOT_FOUND.contains(&code) || code.ends_with(".NotFound") || code.contains("NotFound.") {
        return ErrorKind::NotFound;
    }
    if BOUND.contains(&code) {
        return ErrorKind::BoundToInstance;
    }
    if code.starts_with("AuthFailure")
        || code.starts_with("InvalidAccessKeyId")
        || code.starts_with("SignatureDoesNotMatch")
        || code.starts_with("IncompleteSignature")
        || code.starts_with("InvalidTimeStamp")
        || code == "SignatureNonceUsed"
        || code == "Forbidden.RAM"
        || code.starts_with("UnauthorizedOperation")
    {
        return ErrorKind::Auth;
    }
    if code.starts_with("InternalError")
        || code == "InternalFailure"
        || code == "ServiceUnavailable"
        || code.starts_with("InternalServerError")
    {
        return ErrorKind::Server;
    }
    match http_status {
        Some(s) if s >= 500 => ErrorKind::Server,
        _ if code.starts_with("Invalid")
            || code.starts_with("MissingParameter")
            || code.starts_with("DependencyViolation")
            || code.starts_with("IncorrectInstanceStatus")
            || code.starts_with("LimitExceeded")
            || code.ends_with("LimitExceeded")
            || code.starts_with("OperationDenied")
            || code.starts_with("UnsupportedOperation")
            || code.starts_with("MissingParameter") =>
        {
            ErrorKind::InvalidInput
        }
        _ => ErrorKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_table() {
        assert_eq!(classify("Throttling.User", Some(400)), ErrorKind::Throttled);
        assert_eq!(
            classify("RequestLimitExceeded", Some(200)),
            ErrorKind::Throttled
        );
        assert_eq!(
            classify("RequestLimitExceeded.UinLimitExceeded", None),
            ErrorKind::Throttled
        );
        assert_eq!(
            classify("InvalidKeyPairName.NotFound", Some(404)),
            ErrorKind::NotFound
        );
        assert_eq!(
            classify("InvalidParameter.KeypairAlreadyAttachedInstance", Some(400)),
            ErrorKind::BoundToInstance
        );
        assert_eq!(classify("InternalError", Some(500)), ErrorKind::Server);
        assert_eq!(classify("Whatever", Some(503)), ErrorKind::Server);
        assert_eq!(
            classify("AuthFailure.SignatureExpire", Some(200)),
            ErrorKind::Auth
        );
        assert_eq!(
            classify("DependencyViolation.WindowsInstance", Some(403)),
            ErrorKind::InvalidInput
        );
        assert_eq!(classify("Weird", Some(400)), ErrorKind::Other);
    }

    #[test]
    fn display_names_everything() {
        let e = CloudError {
            cloud: CloudKind::Ecs,
            action: "DeleteKeyPairs".into(),
            code: "InvalidParameter.KeypairAlreadyAttachedInstance".into(),
            message: "bound".into(),
            request_id: Some("RID-1".into()),
            http_status: Some(400),
            kind: ErrorKind::BoundToInstance,
        };
        let s = e.to_string();
        for part in [
            "ecs",
            "DeleteKeyPairs",
            "KeypairAlreadyAttachedInstance",
            "bound",
            "RID-1",
            "400",
        ] {
            assert!(s.contains(part), "{s} lacks {part}");
        }
    }
}
