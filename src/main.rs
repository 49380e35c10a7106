//! `terraform-provider-sshkey`: the binary Terraform starts. Parses the flags, sets up logging,
//! refuses to run without Terraform's cookie, then hands the provider's gRPC routes to the
//! go-plugin transport.

use std::process::ExitCode;

use clap::Parser;
use sshkey::plugin::{self, ServeOptions};

/// Terraform/OpenTofu provider for SSH key pairs on Alibaba Cloud ECS/ENS and Tencent Cloud CVM.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Run standalone for a debugger and print a TF_REATTACH_PROVIDERS line for Terraform.
    #[arg(long)]
    debug: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    sshkey::logging::init();
    if !cli.debug {
        if let Err(e) = plugin::require_magic_cookie() {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let routes = sshkey::tfproto::routes();
    let opts = ServeOptions {
        debug: cli.debug,
        ..ServeOptions::default()
    };
    match runtime.block_on(plugin::serve(routes, opts)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Terraform shows this JSON line on stderr as the plugin's error output.
            tracing::error!(error = %e, "provider failed");
            ExitCode::FAILURE
        }
    }
}
