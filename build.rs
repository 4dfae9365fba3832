//! Compiles the gRPC contract with a pure-Rust protobuf compiler (no system `protoc`), and writes
//! the file descriptor set that server reflection serves.

use std::path::PathBuf;

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "proto/chatassist/v1/reply_engine.proto";
    println!("cargo:rerun-if-changed={proto}");
    // The built-in corpus is embedded in the binary: rebuild when it changes.
    println!("cargo:rerun-if-changed=corpus");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    let file_descriptors = protox::compile([proto], ["proto"])?;
    std::fs::write(out_dir.join("chatassist_descriptor.bin"), file_descriptors.encode_to_vec())?;
    tonic_prost_build::configure().compile_fds(file_descriptors)?;
    Ok(())
}
