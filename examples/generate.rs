//! Writes a generated `api_json.log` of a given size, for benchmarks and manual tries.
//!
//! `cargo run --release --example generate -- --lines 800000 --out bench-data/api_json.log`
//! Options: `--lines N`, `--mib N` (size target instead of lines), `--failure-ppm N`, `--tokens N`,
//! `--ips N`, `--seed N`, `--out PATH` (default: standard output), `--scenario expiry-night|cron|burst-ban`
//! (an incident with known truth instead of random traffic). Prints the truth on stderr.

use std::io::{BufWriter, Write};

use tokentrail::generate::{GenSpec, generate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut spec = GenSpec::default();
    let mut out_path = None;
    let mut mib = None;
    let mut scenario: Option<String> = None;
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
            "--scenario" => scenario = Some(value),
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
    if let Some(name) = scenario {
        use tokentrail::scenario::{burst_and_ban, cron_job, expiry_night};
        let truth = match name.as_str() {
            "expiry-night" => expiry_night(300, &mut out)?,
            "cron" => cron_job(&mut out)?,
            "burst-ban" => burst_and_ban(&mut out)?,
            _ => {
                return Err(
                    format!("unknown scenario {name}: expiry-night, cron, burst-ban").into(),
                );
            }
        };
        out.flush()?;
        eprintln!("lines {} failures {}", truth.lines, truth.failures);
        return Ok(());
    }
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
