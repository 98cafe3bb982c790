//! risc0-helper: what pyzkvm's risc0 backend needs beyond r0vm's command line.
//!
//!   risc0-helper --version
//!   risc0-helper wrap --elf USER_ELF --out PROGRAM_BINARY
//!   risc0-helper inspect --receipt RECEIPT
//!   risc0-helper verify --receipt RECEIPT --image-id HEX
//!
//! RECEIPT is the file `r0vm --receipt` writes: `bincode::serialize(&risc0_zkvm::Receipt)`.
//! Every command prints one JSON line on stdout; errors print one line on stderr, exit 1.
//!   wrap:    {"wrapped": path}
//!   inspect: {"journal": hex, "exit_code": u32, "halt": "halted"|"paused"|..., "image_id": hex}
//!   verify:  the inspect fields + {"verified": bool, "reason": str|null}
//! Dev mode: a fake receipt (RISC0_DEV_MODE=1 when r0vm ran) verifies only when this helper
//! also runs with RISC0_DEV_MODE=1; pyzkvm sets it only when the user asked for dev mode.

use std::path::PathBuf;
use std::process::ExitCode;

use risc0_binfmt::ProgramBinary;
use risc0_zkvm::sha::{Digest, Digestible};
use risc0_zkvm::{ExitCode as GuestExit, Receipt, VerifierContext};
use serde_json::{json, Value};

fn flag(args: &[String], name: &str) -> Result<String, String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .ok_or_else(|| format!("{name} VALUE is required"))
}

fn load_receipt(path: &str) -> Result<Receipt, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    bincode::deserialize(&bytes).map_err(|e| format!("{path} is not a RISC Zero receipt: {e}"))
}

/// Journal, exit code and image ID named by the receipt's claim (not yet verified).
fn describe(receipt: &Receipt) -> Result<serde_json::Map<String, Value>, String> {
    let claim = receipt
        .claim()
        .map_err(|e| format!("cannot read the receipt's claim: {e}"))?;
    let claim = claim
        .as_value()
        .map_err(|_| "the receipt's claim is pruned".to_string())?;
    let (halt, code) = match claim.exit_code {
        GuestExit::Halted(c) => ("halted", c),
        GuestExit::Paused(c) => ("paused", c),
        other => return Err(format!("the receipt ends in {other:?}, not a halt")),
    };
    let image_id: Digest = claim.pre.digest();
    let mut map = serde_json::Map::new();
    map.insert(
        "journal".into(),
        Value::String(hex::encode(&receipt.journal.bytes)),
    );
    map.insert("exit_code".into(), json!(code));
    map.insert("halt".into(), json!(halt));
    map.insert(
        "image_id".into(),
        Value::String(hex::encode(image_id.as_bytes())),
    );
    Ok(map)
}

fn run() -> Result<Value, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--version") => {
            println!("risc0-helper {} (risc0-zkvm {})", env!("CARGO_PKG_VERSION"), risc0_zkvm::VERSION);
            std::process::exit(0)
        }
        Some("wrap") => {
            let elf_path = PathBuf::from(flag(&args, "--elf")?);
            let out = PathBuf::from(flag(&args, "--out")?);
            let user = std::fs::read(&elf_path).map_err(|e| format!("cannot read {}: {e}", elf_path.display()))?;
            // ProgramBinary = "R0BF" header + user ELF + kernel ELF (the v1compat kernel that
            // gives guests RISC Zero's v1 ecall ABI, the ABI pyzkvm's risc0 profile speaks).
            let blob = ProgramBinary::new(&user, risc0_zkos_v1compat::V1COMPAT_ELF).encode();
            std::fs::write(&out, blob).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
            Ok(json!({ "wrapped": out.display().to_string() }))
        }
        Some("inspect") => {
            let receipt = load_receipt(&flag(&args, "--receipt")?)?;
            Ok(Value::Object(describe(&receipt)?))
        }
        Some("verify") => {
            let receipt = load_receipt(&flag(&args, "--receipt")?)?;
            let expected = Digest::from_hex(flag(&args, "--image-id")?.trim_start_matches("0x"))
                .map_err(|e| format!("bad --image-id: {e}"))?;
            let mut out = describe(&receipt)?;
            // verify_integrity checks the seal and that the journal is the one the claim commits
            // to, for any exit code; the image ID is then checked against the claim's pre-state.
            let result = receipt
                .verify_integrity_with_context(&VerifierContext::default())
                .map_err(|e| e.to_string())
                .and_then(|()| {
                    let claim = receipt.claim().map_err(|e| e.to_string())?;
                    let claim = claim.as_value().map_err(|_| "pruned claim".to_string())?;
                    if claim.pre.digest() == expected {
                        Ok(())
                    } else {
                        Err(format!("image ID mismatch: receipt is for {}", claim.pre.digest()))
                    }
                });
            let (verified, reason) = match result {
                Ok(()) => (true, Value::Null),
                Err(e) => (false, Value::String(e)),
            };
            out.insert("verified".into(), json!(verified));
            out.insert("reason".into(), reason);
            Ok(Value::Object(out))
        }
        _ => Err("usage: risc0-helper (wrap --elf F --out F | inspect --receipt F | verify --receipt F --image-id HEX)".into()),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(v) => {
            println!("{v}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("risc0-helper: error: {e}");
            ExitCode::FAILURE
        }
    }
}
