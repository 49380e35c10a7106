//! Compiles our protocol definitions with protox (pure Rust: no `protoc` on the machine) and
//! generates the tonic servers and clients (clients are used by the integration tests).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let files = protox::compile(["tfplugin6.proto", "goplugin.proto"], ["proto"])?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(files)?;
    Ok(())
}
