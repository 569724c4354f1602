//! Writes a generated `api_json.log` of a given size, for benchmarks and manual tries.
//!
//! `cargo run --release --example generate -- --lines 800000 --out bench-data/api_json.log`
//! Options: `--lines N`, `--mib N` (size target instead of lines), `--failure-ppm N`, `--tokens N`,
//! `--ips N`, `--seed N`, `--out PATH` (default: standard output). Prints the truth on stderr.

use std::io::{BufWriter, Write};

use tokentrail::generate::{GenSpec, generate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut spec = GenSpec::default();
    let mut out_path = None;
    let mut mib = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--lines" => spec.lines = value.parse()?,
            "--mib" => mib = Some(value.parse::<u64>()?),
            "--failure-ppm" => spec.failure_ppm = value.parse()?,
            "--tokens" => spec.tokens = value.parse()?,
            "--ips" => spec.ips = value.parse()?,
            "--seed" => spec.seed = value.parse()?,
            "--out" => out_path = Some(value),
            _ => return Err(format!("unknown option {flag}").into()),
        }
    }
    if let Some(mib) = mib {
        // Lines average about 1.35 KB.
        spec.lines = mib * 1024 * 1024 / 1_350;
    }
    let out: Box<dyn Write> = match &out_path {
        Some(p) => Box::new(std::fs::File::create(p)?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = BufWriter::with_capacity(1 << 20, out);
    let truth = generate(&spec, &mut out)?;
    out.flush()?;
    eprintln!(
        "lines {} bytes {} failures {} attributed {} unattributed {} probes {} forbidden_other {} tokens {}",
        truth.counts.lines,
        truth.bytes,
        truth.counts.failures,
        truth.counts.attributed,
        truth.counts.unattributed,
        truth.counts.probes,
        truth.counts.forbidden_other,
        truth.tokens.len()
    );
    Ok(())
}
