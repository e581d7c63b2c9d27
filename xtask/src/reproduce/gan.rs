//! The GAN half of `cargo xtask reproduce generative`: WGAN-GP and the non-saturating GAN on
//! gan_toy.py's 8 Gaussians (Gulrajani et al. 2017), scored by mode coverage and the fraction of
//! samples within 3σ of a mode over seeds, with the critic's gradient norm on interpolates, and
//! the samples of seed 0 plotted over the target density; and a physics GAN on one energy shell
//! of the pendulum, scored by the energy of its samples and their spread along the shell.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use liouville::plot::{DensityMap, density_map};
use liouville_generative::datasets::{EIGHT_GAUSSIANS_STD, eight_gaussian_modes, eight_gaussians};
use liouville_generative::gan::metrics::{mode_coverage, shell_score};
use liouville_generative::gan::train::{GanTrainConfig, train};
use liouville_generative::gan::{Gan, GanConfig, Objective};
use liouville_sim::systems::pendulum::Pendulum;
use liouville_tensor::config::Configured;
use liouville_tensor::device::HostDevice;
use liouville_tensor::host;
use liouville_tensor::optim::Schedule;
use liouville_tensor::train::Rows;

use super::ReproduceArgs;

/// Issue 12's goals: every mode covered and at least this fraction within 3σ.
const GOAL_WITHIN: f64 = 0.9;
const SAMPLES: usize = 2000;
const RANGE: (f64, f64) = (-2.0, 2.0);
const GRID: usize = 120;

/// `f` at the cell centres of the plots' GRID × GRID grid over RANGE², row j (y) by column i (x).
fn on_grid(f: impl Fn(f64, f64) -> f64) -> Vec<f64> {
    let step = (RANGE.1 - RANGE.0) / GRID as f64;
    (0..GRID)
        .flat_map(|j| (0..GRID).map(move |i| (RANGE.0 + (i as f64 + 0.5) * step, RANGE.0 + (j as f64 + 0.5) * step)))
        .map(|(x, y)| f(x, y))
        .collect()
}

/// The target density (8 isotropic Gaussians) at the cell centres of the plot's grid.
fn target_density() -> Vec<f64> {
    let modes = &eight_gaussian_modes();
    let s2 = EIGHT_GAUSSIANS_STD * EIGHT_GAUSSIANS_STD;
    let norm = 1.0 / (8.0 * std::f64::consts::TAU * s2);
    on_grid(|x, y| {
        modes
            .iter()
            .map(|m| norm * (-((x - m[0]).powi(2) + (y - m[1]).powi(2)) / (2.0 * s2)).exp())
            .sum::<f64>()
    })
}

/// Draws 2-D `samples` (row-major) over `background` (on [`on_grid`]'s grid) into
/// `<out>/<stem>.png` and `.svg`.
fn plot_samples(
    args: &ReproduceArgs,
    plots: &mut Vec<PathBuf>,
    stem: &str,
    title: &str,
    (x_label, y_label): (&str, &str),
    background: &[f64],
    samples: &[f64],
) -> Result<(), String> {
    let points: Vec<(f64, f64)> = samples.chunks(2).map(|p| (p[0], p[1])).collect();
    let map = DensityMap {
        x_range: RANGE,
        y_range: RANGE,
        nx: GRID,
        ny: GRID,
        values: background,
        points: &points,
    };
    for ext in ["png", "svg"] {
        let path = args.out.join(format!("{stem}.{ext}"));
        density_map(&path, title, x_label, y_label, &map).map_err(|e| e.to_string())?;
        plots.push(path);
    }
    Ok(())
}

/// A cosine decay to 1 % over `iterations` generator steps, or constant (`--gan-constant-lr`).
fn schedule(args: &ReproduceArgs, iterations: usize) -> Schedule {
    match args.gan_constant_lr {
        true => Schedule::Constant,
        false => Schedule::Cosine {
            warmup: 0,
            total: iterations,
            min_factor: 0.01,
        },
    }
}

/// Trains both objectives over the seeds and writes their table and plots.
pub fn section(args: &ReproduceArgs, md: &mut String, plots: &mut Vec<PathBuf>) -> Result<(), String> {
    let dev = HostDevice::default();
    let data = Rows::new(eight_gaussians(100_000, 8), 2).map_err(|e| e.to_string())?;
    let modes: Vec<Vec<f64>> = eight_gaussian_modes().iter().map(|m| m.to_vec()).collect();
    let objectives = [
        (
            "WGAN-GP (λ = 0.1, 5 critic steps)",
            "wgan_gp",
            Objective::WassersteinGp { penalty: 0.1 },
        ),
        (
            "non-saturating GAN (1 discriminator step)",
            "ns_gan",
            Objective::NonSaturating,
        ),
    ];
    writeln!(md, "## GANs on 8 Gaussians (Gulrajani et al. 2017, `gan_toy.py`)\n").ok();
    writeln!(
        md,
        "Data: gan_toy.py's 8 Gaussians (modes on the circle of radius 2, σ = 0.02, all divided by 1.414). Networks: generator 2 → {w} → {w} → {w} → 2 and critic 2 → {w} → {w} → {w} → 1, ReLU, f32 (gan_toy.py: width 512). Training: Adam β = (0.5, 0.9) at {lr}{decay}, batch 256, {it} generator steps (gan_toy.py: 1e-4, constant, over 100,000); WGAN-GP's penalty through the critic's exact input gradient. Scores on {SAMPLES} samples: modes covered (a mode counts when at least 10 % of its fair share of samples lies within 3σ of it) and the fraction of samples within 3σ of a mode; ‖∇ₓD‖ is the mean over the last critic batch's interpolates. Issue 12's goal for WGAN-GP: 8 of 8 modes and ≥ {:.0} % within 3σ.\n",
        GOAL_WITHIN * 100.0,
        w = args.gan_width,
        lr = args.gan_lr,
        it = args.gan_iterations,
        decay = if args.gan_constant_lr { "" } else { " with a cosine decay to 1 %" },
    )
    .ok();
    writeln!(
        md,
        "| objective | seed | modes covered | within 3σ | ‖∇ₓD‖ on interpolates | time |"
    )
    .ok();
    writeln!(md, "|---|---|---|---|---|---|").ok();
    let mut verdicts = Vec::new();
    for (name, file, objective) in objectives {
        let mut all_met = true;
        for seed in 0..args.gan_seeds {
            let clock = Instant::now();
            let mut gan =
                Gan::<f32, HostDevice>::from_config(&GanConfig::toy(2, args.gan_width, objective), &dev, seed)
                    .map_err(|e| e.to_string())?;
            let cfg = GanTrainConfig {
                learning_rate: args.gan_lr,
                schedule: schedule(args, args.gan_iterations),
                seed,
                progress: true,
                ..GanTrainConfig::paper(objective, args.gan_iterations)
            };
            let report = train(&mut gan, &data, &cfg).map_err(|e| format!("{file} seed {seed}: {e}"))?;
            let samples = host::values(&gan.sample(&dev, SAMPLES, 1000 + seed, 0).map_err(|e| e.to_string())?);
            let c = mode_coverage(&samples, &modes, EIGHT_GAUSSIANS_STD);
            let norm = report.records.last().map_or(f64::NAN, |r| r.interpolate_gradient_norm);
            all_met &= c.modes_covered == 8 && c.fraction_within_3_sigma >= GOAL_WITHIN;
            eprintln!(
                "reproduce generative: {file} seed {seed}: {} modes, {:.1} % within 3σ, ‖∇D‖ {norm:.3} ({:.0} s)",
                c.modes_covered,
                100.0 * c.fraction_within_3_sigma,
                clock.elapsed().as_secs_f64()
            );
            writeln!(
                md,
                "| {name} | {seed} | {} of 8 | {:.1} % | {} | {:.0} s |",
                c.modes_covered,
                100.0 * c.fraction_within_3_sigma,
                match objective {
                    Objective::WassersteinGp { .. } => format!("{norm:.3}"),
                    Objective::NonSaturating => format!("({norm:.3}, not constrained)"),
                },
                clock.elapsed().as_secs_f64()
            )
            .ok();
            if seed == 0 {
                let title = format!("8 Gaussians: {SAMPLES} samples of the {file} generator (seed 0) over the target");
                plot_samples(
                    args,
                    plots,
                    &format!("generative_{file}_samples"),
                    &title,
                    ("x₁", "x₂"),
                    &target_density(),
                    &samples,
                )?;
            }
        }
        verdicts.push((name, all_met));
    }
    writeln!(md).ok();
    for (name, met) in verdicts {
        writeln!(
            md,
            "{name}: 8 of 8 modes and ≥ {:.0} % within 3σ on every seed: {}.\n",
            GOAL_WITHIN * 100.0,
            if met { "met" } else { "**not met**" }
        )
        .ok();
    }
    Ok(())
}

/// The physics GAN: both objectives trained on pendulum states of one energy shell (m = l = g = 1,
/// E = 1, the libration with q_max = π/2), drawn uniformly in time (sim's `energy_shell`), and
/// scored by the energy of what they generate and how evenly it spreads along the shell.
pub fn shell_section(args: &ReproduceArgs, md: &mut String, plots: &mut Vec<PathBuf>) -> Result<(), String> {
    const ENERGY: f64 = 1.0;
    const ARCS: usize = 16;
    const TOLERANCE: f64 = 0.05;
    let dev = HostDevice::default();
    let pendulum = Pendulum::new(1.0, 1.0, 1.0).map_err(|e| e.to_string())?;
    let h = |q: f64, p: f64| 0.5 * p * p + 1.0 - q.cos();
    let states = pendulum.energy_shell(ENERGY, 20_000, 11).map_err(|e| e.to_string())?;
    let reference = pendulum.energy_shell(ENERGY, 20_000, 12).map_err(|e| e.to_string())?;
    let data = Rows::new(states.concat(), 2).map_err(|e| e.to_string())?;
    let exact = shell_score(
        &reference.concat()[..2 * SAMPLES],
        h,
        ENERGY,
        &reference,
        ARCS,
        TOLERANCE,
    );
    writeln!(md, "## A physics GAN: pendulum states on one energy shell\n").ok();
    writeln!(
        md,
        "Data: 20,000 states (q, p) of the pendulum H = p²/2 + 1 − cos q on the shell H = {ENERGY} (the libration with q_max = π/2), drawn uniformly in time over one period (`Pendulum::energy_shell`: the microcanonical measure on the shell). Same networks and optimiser as above (width {w}, Adam (0.5, 0.9) at {lr}, batch 256), {it} generator steps. Scores on {SAMPLES} samples: the median relative energy error |H − E|/E, the fraction within {:.0} % of E, the {ARCS} arcs of equal time along the shell that hold at least 10 % of their fair share, and the total-variation distance between the samples' arc occupancy and the uniform one. {SAMPLES} exact shell states score: median error {:.1e}, TV {:.3} (the sampling noise floor).\n",
        100.0 * TOLERANCE,
        exact.median_relative_energy_error,
        exact.arc_total_variation,
        w = args.gan_width,
        lr = args.gan_lr,
        it = args.shell_iterations,
    )
    .ok();
    writeln!(
        md,
        "| objective | seed | median \\|H − E\\|/E | within {:.0} % of E | arcs covered | arc TV distance | time |",
        100.0 * TOLERANCE
    )
    .ok();
    writeln!(md, "|---|---|---|---|---|---|---|").ok();
    for (name, file, objective) in [
        (
            "WGAN-GP (λ = 0.1)",
            "wgan_gp",
            Objective::WassersteinGp { penalty: 0.1 },
        ),
        ("non-saturating GAN", "ns_gan", Objective::NonSaturating),
    ] {
        for seed in 0..args.gan_seeds {
            let clock = Instant::now();
            let mut gan =
                Gan::<f32, HostDevice>::from_config(&GanConfig::toy(2, args.gan_width, objective), &dev, seed)
                    .map_err(|e| e.to_string())?;
            let cfg = GanTrainConfig {
                learning_rate: args.gan_lr,
                schedule: schedule(args, args.shell_iterations),
                seed,
                progress: true,
                ..GanTrainConfig::paper(objective, args.shell_iterations)
            };
            train(&mut gan, &data, &cfg).map_err(|e| format!("shell {file} seed {seed}: {e}"))?;
            let samples = host::values(&gan.sample(&dev, SAMPLES, 2000 + seed, 0).map_err(|e| e.to_string())?);
            let s = shell_score(&samples, h, ENERGY, &reference, ARCS, TOLERANCE);
            eprintln!(
                "reproduce generative: shell {file} seed {seed}: median error {:.3}, {:.1} % on shell, {} arcs, TV {:.3}",
                s.median_relative_energy_error,
                100.0 * s.fraction_on_shell,
                s.arcs_covered,
                s.arc_total_variation
            );
            writeln!(
                md,
                "| {name} | {seed} | {:.3} | {:.1} % | {} of {ARCS} | {:.3} | {:.0} s |",
                s.median_relative_energy_error,
                100.0 * s.fraction_on_shell,
                s.arcs_covered,
                s.arc_total_variation,
                clock.elapsed().as_secs_f64()
            )
            .ok();
            if seed == 0 {
                // The shell as a band: exp(−(H − E)²/(2 (0.02 E)²)) on the grid.
                let band = on_grid(|q, p| (-(h(q, p) - ENERGY).powi(2) / (2.0 * (0.02 * ENERGY).powi(2))).exp());
                let title = format!("Pendulum shell H = {ENERGY}: {SAMPLES} samples of the {file} generator (seed 0)");
                plot_samples(
                    args,
                    plots,
                    &format!("generative_shell_{file}_samples"),
                    &title,
                    ("q", "p"),
                    &band,
                    &samples,
                )?;
            }
        }
    }
    writeln!(md).ok();
    Ok(())
}
