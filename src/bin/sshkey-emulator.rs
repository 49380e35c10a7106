//! `sshkey-emulator`: serves the ECS, ENS and CVM key-pair APIs on one local port.
//! All logic lives in `sshkey::emulator`; this only parses flags and waits for a signal.

use std::collections::HashMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context as _};
use clap::{Parser, ValueEnum};
use sshkey::cloud::sign::Credentials;
use sshkey::emulator::{self, BoundDelete, EmulatorConfig};

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
    /// Rate limit ACTION=N requests per second (repeatable), e.g. DeleteKeyPairs=5.
    #[arg(long = "rate", value_name = "ACTION=N")]
    rates: Vec<String>,
    /// Latency added to every API call, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Keep state in this JSON file across restarts (written atomically).
    #[arg(long)]
    state_file: Option<PathBuf>,
}

fn parse_rates(raw: &[String]) -> anyhow::Result<HashMap<String, u32>> {
    let mut rates = HashMap::new();
    for item in raw {
        let Some((action, n)) = item.split_once('=') else {
            bail!("--rate expects ACTION=N, got {item:?}");
        };
        let n: u32 = n
            .parse()
            .with_context(|| format!("--rate {item:?}: N must be a number"))?;
        if action.is_empty() || n == 0 {
            bail!("--rate {item:?}: ACTION must be set and N positive");
        }
        rates.insert(action.to_string(), n);
    }
    Ok(rates)
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
        ecs_bound_delete: match args.ecs_bound_delete {
            BoundDeleteArg::Reject => BoundDelete::Reject,
            BoundDeleteArg::Allow => BoundDelete::Allow,
        },
        rates: parse_rates(&args.rates)?,
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
