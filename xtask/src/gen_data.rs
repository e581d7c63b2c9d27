//! `cargo xtask gen-data`: the standard dataset suite, any single system, shards, and merging.
//!
//! Without arguments it writes the HNN-paper systems (mass-spring, pendulum, two-body,
//! three-body) with the settings of `shared/reference/README.md`, the LNN double pendulum, the
//! NRI springs and Ising configurations at the reference temperatures into `data/`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use liouville_sim::SimError;
use liouville_sim::dataset::{Dataset, DatasetSpec, IsingDataset, IsingSpec, Shard, generate};

/// Options of `cargo xtask gen-data`.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct GenDataArgs {
    #[command(subcommand)]
    command: Option<GenDataCommand>,
    /// Systems to generate (default: the standard suite). One of: mass_spring, pendulum,
    /// driven_pendulum, double_pendulum, two_body, three_body, nri_springs, lorenz, seir, ising.
    #[arg(long = "system")]
    systems: Vec<String>,
    /// Number of trajectories (overrides the system's default).
    #[arg(long)]
    trajectories: Option<usize>,
    /// Time points per trajectory.
    #[arg(long)]
    samples: Option<usize>,
    /// Final time.
    #[arg(long)]
    t_end: Option<f64>,
    /// Observation noise standard deviation.
    #[arg(long)]
    noise: Option<f64>,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Both)]
    format: Format,
    /// Output directory.
    #[arg(long, default_value = "data")]
    out: PathBuf,
    /// Generate only slice i of n (0-based), e.g. `--shard 3/16` in an array job.
    #[arg(long, value_parser = parse_shard)]
    shard: Option<Shard>,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
}

#[derive(clap::Subcommand)]
enum GenDataCommand {
    /// Join shard files of one dataset into the file an unsharded run writes.
    Merge {
        /// Output file (`.lds`; a `.npz` beside it with --npz).
        #[arg(long)]
        out: PathBuf,
        /// Also write the `.npz` export.
        #[arg(long)]
        npz: bool,
        /// Shard files, in any order.
        shards: Vec<PathBuf>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// The checksummed binary container (`.lds`).
    Bincode,
    /// NumPy `.npz`.
    Npz,
    /// Both.
    Both,
}

fn parse_shard(s: &str) -> Result<Shard, String> {
    let (i, n) = s.split_once('/').ok_or("expected i/n, e.g. 0/4")?;
    let (i, n) = (
        i.trim().parse::<usize>().map_err(|e| e.to_string())?,
        n.trim().parse::<usize>().map_err(|e| e.to_string())?,
    );
    Shard::new(i, n).map_err(|e| e.to_string())
}

const STANDARD_SUITE: [&str; 7] = [
    "mass_spring",
    "pendulum",
    "two_body",
    "three_body",
    "double_pendulum",
    "nri_springs",
    "ising",
];

/// The standard Ising configurations, with `samples` per temperature when given.
fn ising_spec(seed: u64, samples: Option<usize>) -> IsingSpec {
    let standard = IsingSpec::standard(seed);
    IsingSpec {
        samples: samples.unwrap_or(standard.samples),
        ..standard
    }
}

fn write(ds: &Dataset, stem: &Path, format: Format) -> Result<Vec<PathBuf>, SimError> {
    let mut written = Vec::new();
    if format != Format::Npz {
        let p = stem.with_extension("lds");
        ds.save(&p)?;
        written.push(p);
    }
    if format != Format::Bincode {
        let p = stem.with_extension("npz");
        ds.save_npz(&p)?;
        written.push(p);
    }
    Ok(written)
}

/// Files named `<stem>-shard-<i>-of-<n>.<ext>` (as `--shard` writes them) that a set of such names
/// lacks, e.g. `two_body-shard-1-of-3.lds`; `None` when nothing is missing or the names do not
/// follow the pattern (the merge itself then checks the trajectory ranges).
fn missing_shard_files(paths: &[PathBuf]) -> Option<String> {
    let parse = |p: &PathBuf| -> Option<(String, usize, usize, String)> {
        let name = p.file_name()?.to_str()?;
        let (stem, rest) = name.rsplit_once("-shard-")?;
        let (numbers, ext) = rest.split_once('.')?;
        let (i, n) = numbers.split_once("-of-")?;
        Some((stem.to_string(), i.parse().ok()?, n.parse().ok()?, ext.to_string()))
    };
    let parsed: Vec<_> = paths.iter().map(parse).collect::<Option<_>>()?;
    let (stem, _, count, ext) = parsed.first()?.clone();
    if parsed.iter().any(|(s, _, n, e)| *s != stem || *n != count || *e != ext) {
        return None;
    }
    let missing: Vec<String> = (0..count)
        .filter(|i| !parsed.iter().any(|(_, j, _, _)| j == i))
        .map(|i| format!("{stem}-shard-{i}-of-{count}.{ext}"))
        .collect();
    (!missing.is_empty()).then(|| format!("{} of {count} shards: {}", missing.len(), missing.join(", ")))
}

/// Runs `gen-data`.
pub fn run(args: &GenDataArgs) -> Result<(), SimError> {
    if let Some(GenDataCommand::Merge { out, npz, shards }) = &args.command {
        if let Some(missing) = missing_shard_files(shards) {
            return Err(SimError::InvalidOption(format!("cannot merge: missing {missing}")));
        }
        let loaded = shards.iter().map(|p| Dataset::load(p)).collect::<Result<Vec<_>, _>>()?;
        let merged = Dataset::merge(loaded)?;
        merged.save(out)?;
        println!("merged {} shards into {}", shards.len(), out.display());
        if *npz {
            merged.save_npz(&out.with_extension("npz"))?;
        }
        return Ok(());
    }
    let start = Instant::now();
    let names: Vec<String> = if args.systems.is_empty() {
        STANDARD_SUITE.map(String::from).to_vec()
    } else {
        args.systems.clone()
    };
    let shard = args.shard.unwrap_or(Shard::whole());
    for name in &names {
        let t = Instant::now();
        if name == "ising" {
            if shard != Shard::whole() {
                println!("skipping ising: sharding applies to trajectory datasets");
                continue;
            }
            let ds = IsingDataset::generate(&ising_spec(args.seed, args.samples))?;
            let stem = args.out.join("ising_l8");
            if args.format != Format::Npz {
                ds.save(&stem.with_extension("lds"))?;
            }
            if args.format != Format::Bincode {
                ds.save_npz(&stem.with_extension("npz"))?;
            }
            println!(
                "ising: {} temperatures × {} configurations in {:.1} s",
                ds.spec.temperatures.len(),
                ds.spec.samples,
                t.elapsed().as_secs_f64()
            );
            continue;
        }
        let mut spec = DatasetSpec::standard(name, args.seed)
            .ok_or_else(|| SimError::InvalidOption(format!("unknown system {name:?}")))?;
        if let Some(n) = args.trajectories {
            spec.trajectories = n;
        }
        if let Some(s) = args.samples {
            spec.samples = s;
        }
        if let Some(t_end) = args.t_end {
            spec.t_end = t_end;
        }
        if let Some(noise) = args.noise {
            spec.noise_std = noise;
        }
        let ds = generate(&spec, shard, !args.quiet)?;
        let stem = if shard == Shard::whole() {
            args.out.join(name)
        } else {
            args.out
                .join(format!("{name}-shard-{}-of-{}", shard.index, shard.count))
        };
        let files = write(&ds, &stem, args.format)?;
        println!(
            "{name}: {} trajectories × {} points in {:.1} s -> {}",
            ds.trajectories(),
            ds.times.len(),
            t.elapsed().as_secs_f64(),
            files
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    println!("gen-data finished in {:.1} s", start.elapsed().as_secs_f64());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_shards_are_named() {
        let paths: Vec<PathBuf> = ["d/two_body-shard-0-of-4.lds", "d/two_body-shard-3-of-4.lds"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(
            missing_shard_files(&paths).unwrap(),
            "2 of 4 shards: two_body-shard-1-of-4.lds, two_body-shard-2-of-4.lds"
        );
        let complete: Vec<PathBuf> = (0..2).map(|i| PathBuf::from(format!("x-shard-{i}-of-2.lds"))).collect();
        assert_eq!(missing_shard_files(&complete), None);
        assert_eq!(missing_shard_files(&[PathBuf::from("a.lds")]), None, "not shard names");
    }
}
