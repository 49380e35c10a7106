//! `sshkey-emulator`: serves the ECS, ENS and CVM key-pair APIs and both vendors' STS
//! AssumeRole on one local port.
//! All logic lives in `sshkey::emulator`; this only parses flags and waits for a signal.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use sshkey::cloud::sign::Credentials;
use sshkey::emulator::{self, BoundDelete, EmulatorConfig, RateLimit, Role};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum BoundDeleteArg {
    /// The whole DeleteKeyPairs call fails with InvalidParameter.KeypairAlreadyAttachedInstance.
    Reject,
    /// Bound keys are deleted; instances keep the key name.
    Allow,
}

/// Cloud API emulator for Alibaba Cloud ECS/ENS and Tencent Cloud CVM key pairs.
///
/// Prints `listening on ADDR` as the first stdout line. Admin API under /_emulator/
/// (see docs/emulator.md).
///
/// Request limits are the real clouds' by default: CVM's documented 10 calls/s for each
/// key-pair action (DescribeKeyPairs, CreateKeyPair, ImportKeyPair, DeleteKeyPairs,
/// AssociateInstancesKeyPairs, DisassociateInstancesKeyPairs) and 40/s for DescribeInstances,
/// answered HTTP 200 `RequestLimitExceeded`. ECS and ENS publish no quotas and are unlimited
/// unless --rate sets one (answered HTTP 400 `Throttling.User`). STS AssumeRole is limited to
/// Tencent's documented 600/s and Alibaba's 100/s.
///
/// STS AssumeRole (Alibaba 2015-04-01, Tencent 2018-08-13) issues temporary credentials for the
/// roles given with --role (by default one per vendor: acs:ram::1000000000000000:role/sshkey-emulator
/// and qcs::cam::uin/100000000000:roleName/sshkey-emulator); every API accepts them with their
/// token until they expire.
#[derive(Debug, Parser)]
#[command(name = "sshkey-emulator", version)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = emulator::DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// Accepted access key id (Tencent SecretId).
    #[arg(long, env = "SSHKEY_EMULATOR_ACCESS_KEY_ID", default_value = emulator::DEFAULT_ACCESS_KEY_ID)]
    access_key_id: String,
    /// Accepted access key secret (Tencent SecretKey).
    #[arg(long, env = "SSHKEY_EMULATOR_ACCESS_KEY_SECRET", default_value = emulator::DEFAULT_ACCESS_KEY_SECRET, hide_env_values = true)]
    access_key_secret: String,
    /// ECS DeleteKeyPairs on keys bound to instances.
    #[arg(long, value_enum, default_value = "reject")]
    ecs_bound_delete: BoundDeleteArg,
    /// At most N calls of ACTION per sliding second, on CLOUD (ecs, ens, cvm) or, without it,
    /// on every cloud; repeatable, e.g. `--rate ecs:DescribeKeyPairs=5 --rate DeleteKeyPairs=2`.
    /// The strictest limit that applies wins, built-in ones included.
    #[arg(long = "rate", value_name = "[CLOUD:]ACTION=N")]
    rates: Vec<RateLimit>,
    /// Do not enforce the clouds' documented limits (CVM's); --rate limits still apply.
    #[arg(long)]
    no_builtin_rates: bool,
    /// Latency added to every API call, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Keep state in this JSON file across restarts (written atomically). Issued temporary
    /// credentials are kept in memory only.
    #[arg(long)]
    state_file: Option<PathBuf>,
    /// A role STS AssumeRole lets callers assume, `acs:ram::...` (Alibaba) or `qcs::cam::...`
    /// (Tencent); with `,external_id=VALUE` only requests carrying that ExternalId may assume
    /// it. Repeatable; given roles replace the two default ones.
    #[arg(long = "role", value_name = "ARN[,external_id=VALUE]")]
    roles: Vec<Role>,
    /// Testing knob: issued temporary credentials expire after at most SECONDS, whatever
    /// DurationSeconds asked, so tests can see expiry and renewal in seconds.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    sts_lifetime: Option<u64>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SSHKEY_EMULATOR_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .json()
        .init();
    let config = EmulatorConfig {
        listen: args.listen,
        credentials: Credentials::new(args.access_key_id, args.access_key_secret),
        roles: if args.roles.is_empty() {
            Role::defaults()
        } else {
            args.roles
        },
        sts_lifetime: args.sts_lifetime.map(Duration::from_secs),
        ecs_bound_delete: match args.ecs_bound_delete {
            BoundDeleteArg::Reject => BoundDelete::Reject,
            BoundDeleteArg::Allow => BoundDelete::Allow,
        },
        rates: args.rates,
        builtin_rates: !args.no_builtin_rates,
        latency_ms: args.latency_ms,
        state_file: args.state_file,
    };
    let running = emulator::start(config).await?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on {}", running.addr())?;
    stdout.flush()?;
    wait_for_signal().await?;
    running.shutdown().await;
    Ok(())
}

async fn wait_for_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await?;
    Ok(())
}
