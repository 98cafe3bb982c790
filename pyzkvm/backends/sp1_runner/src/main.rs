//! sp1-runner: execute, prove and verify an SP1 guest ELF, one JSON line out.
//!
//!   sp1-runner --version
//!   sp1-runner --elf GUEST --stdin STDIN [--prove core|compressed --proof-out PROOF]
//!   sp1-runner --elf GUEST --verify PROOF
//!
//! STDIN is bincode `Vec<Vec<u8>>` (u64le count, then u64le length + bytes per element); each
//! element goes to the guest with `SP1Stdin::write_slice`, so the guest's HINT_LEN/HINT_READ
//! see exactly pyzkvm's input elements. The prover is chosen by SP1 itself from SP1_PROVER
//! (`mock` for dev mode, `cpu`, `cuda`, `network`) through `ProverClient::from_env()`.
//!
//! Output (stdout, one line): {"public_values": hex, "cycles": u64, "exit_code": u32,
//! "proof": path|null, "verified": bool|null, "reason": str|null, "vk_hash": hex,
//! "sp1_version": str}. Errors: one line on stderr, exit status 1.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{json, Value};
use sp1_sdk::{HashableKey, ProverClient, SP1ProofWithPublicValues, SP1Stdin};

struct Args {
    elf: Option<PathBuf>,
    stdin: Option<PathBuf>,
    prove: Option<String>,
    proof_out: Option<PathBuf>,
    verify: Option<PathBuf>,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut args = Args {
        elf: None,
        stdin: None,
        prove: None,
        proof_out: None,
        verify: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--version" {
            return Ok(None);
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--elf" => args.elf = Some(value.into()),
            "--stdin" => args.stdin = Some(value.into()),
            "--prove" => args.prove = Some(value),
            "--proof-out" => args.proof_out = Some(value.into()),
            "--verify" => args.verify = Some(value.into()),
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    Ok(Some(args))
}

fn read_stdin_file(path: &PathBuf) -> Result<SP1Stdin, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let elements: Vec<Vec<u8>> = bincode::deserialize(&bytes)
        .map_err(|e| format!("bad stdin file {}: {e}", path.display()))?;
    let mut stdin = SP1Stdin::new();
    for element in &elements {
        stdin.write_slice(element);
    }
    Ok(stdin)
}

fn run() -> Result<Value, String> {
    let Some(args) = parse_args()? else {
        println!(
            "sp1-runner {} (sp1-sdk circuit {})",
            env!("CARGO_PKG_VERSION"),
            sp1_prover::SP1_CIRCUIT_VERSION
        );
        std::process::exit(0);
    };
    let elf_path = args.elf.ok_or("--elf is required")?;
    let elf =
        std::fs::read(&elf_path).map_err(|e| format!("cannot read {}: {e}", elf_path.display()))?;
    let client = ProverClient::from_env();
    let (_pk, vk) = client.setup(&elf);

    if let Some(proof_path) = args.verify {
        // Verify mode: the verifying key comes from the ELF, the proof from the file.
        let proof = SP1ProofWithPublicValues::load(&proof_path)
            .map_err(|e| format!("cannot load proof {}: {e}", proof_path.display()))?;
        let (verified, reason) = match client.verify(&proof, &vk) {
            Ok(()) => (true, Value::Null),
            Err(e) => (false, Value::String(e.to_string())),
        };
        return Ok(json!({
            "public_values": hex::encode(proof.public_values.as_slice()),
            "verified": verified,
            "reason": reason,
            "vk_hash": vk.bytes32(),
            "sp1_version": sp1_prover::SP1_CIRCUIT_VERSION,
        }));
    }

    let stdin = read_stdin_file(&args.stdin.ok_or("--stdin is required")?)?;
    // Execute first: public values and the instruction count (one instruction = one cycle).
    let (public_values, report) = client
        .execute(&elf, &stdin)
        .run()
        .map_err(|e| format!("execution failed: {e}"))?;
    let mut proof_file = Value::Null;
    if let Some(kind) = args.prove {
        let out = args.proof_out.ok_or("--prove needs --proof-out")?;
        let (pk, _) = client.setup(&elf);
        let proof = match kind.as_str() {
            "core" => client.prove(&pk, &stdin).core().run(),
            "compressed" => client.prove(&pk, &stdin).compressed().run(),
            other => {
                return Err(format!(
                    "unknown proof kind {other}: use core or compressed"
                ))
            }
        }
        .map_err(|e| format!("proving failed: {e}"))?;
        if proof.public_values.as_slice() != public_values.as_slice() {
            return Err("the proof's public values differ from the execution's".into());
        }
        proof
            .save(&out)
            .map_err(|e| format!("cannot write proof {}: {e}", out.display()))?;
        proof_file = Value::String(out.display().to_string());
    }
    Ok(json!({
        "public_values": hex::encode(public_values.as_slice()),
        "cycles": report.total_instruction_count(),
        // SP1 v5 refuses to finish a run whose guest exits non-zero (an execution error above),
        // so a run that gets here exited with 0.
        "exit_code": 0,
        "proof": proof_file,
        "verified": Value::Null,
        "vk_hash": vk.bytes32(),
        "sp1_version": sp1_prover::SP1_CIRCUIT_VERSION,
    }))
}

fn main() -> ExitCode {
    match run() {
        Ok(v) => {
            println!("{v}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sp1-runner: error: {e}");
            ExitCode::FAILURE
        }
    }
}
