//! The 2D Ising model on an L × L periodic square lattice, H = -J Σ_⟨ij⟩ sᵢsⱼ (k_B = 1), sampled
//! by checkerboard Metropolis or by Wolff's cluster algorithm (Wolff 1989), with independent
//! chains in parallel (rayon) and per-chain random streams, so results are seed-determined and
//! thread-count independent.

use ndarray::{Array2, Array3};
use rayon::prelude::*;

use crate::SimError;
use crate::error::positive;
use crate::rng::Rng;
use crate::stats::{self, Estimate};

/// Which Markov chain to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum IsingAlgorithm {
    /// Single-spin Metropolis, sweeping the two checkerboard sublattices in turn.
    Metropolis,
    /// Wolff single-cluster updates with bond probability 1 - exp(-2J/T). One "sweep" is a fixed
    /// number of cluster flips, L²/⟨cluster size⟩ as measured during thermalisation, so that it
    /// flips L² spins on average. (Stopping when a running count reaches L² instead would make
    /// the measurement time depend on the state and bias the averages.)
    Wolff,
}

/// Where each chain starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Start {
    /// All spins up (a cold start: the T = 0 ground state).
    Ordered,
    /// Each spin ±1 with probability ½ from the chain's own stream (a hot start: T = ∞).
    Random,
}

/// The model: lattice size L and temperature T (J = 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ising2d {
    l: usize,
    temperature: f64,
}

/// A spin configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Lattice {
    l: usize,
    spins: Vec<i8>,
}

impl Lattice {
    /// All spins up.
    pub fn ordered(l: usize) -> Self {
        Self {
            l,
            spins: vec![1; l * l],
        }
    }
    /// Independent ±1 spins with probability ½ each (the T = ∞ state).
    pub fn random(l: usize, rng: &mut Rng) -> Self {
        Self {
            l,
            spins: (0..l * l).map(|_| if rng.below(2) == 0 { -1 } else { 1 }).collect(),
        }
    }
    fn start(l: usize, start: Start, rng: &mut Rng) -> Self {
        match start {
            Start::Ordered => Self::ordered(l),
            Start::Random => Self::random(l, rng),
        }
    }
    /// A lattice from L² spins (row-major), each ±1.
    pub fn from_spins(l: usize, spins: Vec<i8>) -> Result<Self, SimError> {
        if l < 2 || spins.len() != l * l || spins.iter().any(|&s| s != 1 && s != -1) {
            return Err(SimError::InvalidOption(format!(
                "need {} spins of ±1 for L = {l}",
                l * l
            )));
        }
        Ok(Self { l, spins })
    }
    /// Spins, row-major.
    pub fn spins(&self) -> &[i8] {
        &self.spins
    }
    #[inline]
    fn neighbours(&self, i: usize) -> [usize; 4] {
        let l = self.l;
        let (r, c) = (i / l, i % l);
        [
            ((r + l - 1) % l) * l + c,
            ((r + 1) % l) * l + c,
            r * l + (c + l - 1) % l,
            r * l + (c + 1) % l,
        ]
    }
    /// Total energy E = -Σ_⟨ij⟩ sᵢsⱼ (each bond once).
    pub fn energy(&self) -> f64 {
        let l = self.l;
        let mut e = 0i64;
        for r in 0..l {
            for c in 0..l {
                let s = self.spins[r * l + c] as i64;
                e -= s * (self.spins[r * l + (c + 1) % l] as i64 + self.spins[((r + 1) % l) * l + c] as i64);
            }
        }
        e as f64
    }
    /// Total magnetisation M = Σ sᵢ.
    pub fn magnetization(&self) -> f64 {
        self.spins.iter().map(|&s| s as i64).sum::<i64>() as f64
    }
}

/// Per-chain measurement series, one value per sweep.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChainSeries {
    /// Energy per site e = E/L².
    pub energy: Vec<f64>,
    /// Magnetisation per site m = M/L².
    pub magnetization: Vec<f64>,
    /// Sweeps (L² attempted or flipped spins) between measurements: 1 for Metropolis, the mean
    /// number of spins flipped per Wolff "sweep" over L².
    pub sweeps_per_measurement: f64,
}

/// Estimates with error bars from a sampling run.
#[derive(Debug, Clone, PartialEq)]
pub struct IsingEstimates {
    /// ⟨e⟩.
    pub energy: Estimate,
    /// ⟨|m|⟩.
    pub abs_magnetization: Estimate,
    /// ⟨m²⟩.
    pub m2: Estimate,
    /// Specific heat per site c = L²(⟨e²⟩ - ⟨e⟩²)/T².
    pub specific_heat: Estimate,
    /// Binder cumulant U₄ = 1 - ⟨m⁴⟩/(3⟨m²⟩²).
    pub binder: Estimate,
    /// Integrated autocorrelation time of |m| in sweeps (mean over chains; for Wolff, measurement
    /// intervals converted to sweeps by the spins actually flipped).
    pub tau_abs_magnetization: f64,
}

impl Ising2d {
    /// Validates L ≥ 2 and T > 0. Odd L is fine for both algorithms: the Metropolis sweep visits
    /// the two checkerboard colours in turn but updates one spin at a time, so each update keeps
    /// the Boltzmann distribution invariant even where, across the periodic boundary of an odd
    /// lattice, two neighbours share a colour (only a parallel update would need a bipartition).
    pub fn new(l: usize, temperature: f64) -> Result<Self, SimError> {
        if l < 2 {
            return Err(SimError::InvalidOption(format!("lattice size must be >= 2, got {l}")));
        }
        Ok(Self {
            l,
            temperature: positive("temperature", temperature)?,
        })
    }
    /// Lattice size L.
    pub fn size(&self) -> usize {
        self.l
    }
    /// Temperature T.
    pub fn temperature(&self) -> f64 {
        self.temperature
    }

    /// One checkerboard Metropolis sweep: acceptance min(1, exp(-ΔE/T)), ΔE = 2sᵢhᵢ.
    pub fn metropolis_sweep(&self, lattice: &mut Lattice, rng: &mut Rng) {
        let beta = 1.0 / self.temperature;
        // ΔE ∈ {4, 8} are the only uphill moves.
        let accept = [libm::exp(-4.0 * beta), libm::exp(-8.0 * beta)];
        let l = self.l;
        for color in 0..2 {
            for r in 0..l {
                let mut c = (r + color) % 2;
                while c < l {
                    let i = r * l + c;
                    let h: i32 = lattice.neighbours(i).iter().map(|&j| lattice.spins[j] as i32).sum();
                    let de = 2 * lattice.spins[i] as i32 * h;
                    if de <= 0 || rng.uniform() < accept[(de / 4 - 1) as usize] {
                        lattice.spins[i] = -lattice.spins[i];
                    }
                    c += 2;
                }
            }
        }
    }

    /// One Wolff cluster flip; returns the cluster size.
    pub fn wolff_update(&self, lattice: &mut Lattice, rng: &mut Rng, stack: &mut Vec<usize>) -> usize {
        let p_add = 1.0 - libm::exp(-2.0 / self.temperature);
        let n = self.l * self.l;
        let seed = rng.below(n as u64) as usize;
        let s = lattice.spins[seed];
        lattice.spins[seed] = -s;
        stack.clear();
        stack.push(seed);
        let mut size = 1;
        while let Some(i) = stack.pop() {
            for j in lattice.neighbours(i) {
                if lattice.spins[j] == s && rng.uniform() < p_add {
                    lattice.spins[j] = -s;
                    stack.push(j);
                    size += 1;
                }
            }
        }
        size
    }

    /// Thermalises a chain for `sweeps` sweeps and returns how many Wolff clusters make one
    /// sweep (1 for Metropolis).
    fn thermalize(
        &self,
        algorithm: IsingAlgorithm,
        lattice: &mut Lattice,
        rng: &mut Rng,
        stack: &mut Vec<usize>,
        sweeps: usize,
    ) -> usize {
        let n = self.l * self.l;
        match algorithm {
            IsingAlgorithm::Metropolis => {
                for _ in 0..sweeps {
                    self.metropolis_sweep(lattice, rng);
                }
                1
            }
            IsingAlgorithm::Wolff => {
                let (mut flipped, mut clusters) = (0usize, 0usize);
                while flipped < sweeps.max(1) * n {
                    flipped += self.wolff_update(lattice, rng, stack);
                    clusters += 1;
                }
                ((n * clusters) as f64 / flipped as f64).round().max(1.0) as usize
            }
        }
    }

    /// One measurement interval: a Metropolis sweep, or `clusters` Wolff flips. Returns the
    /// number of spins flipped (Wolff) or attempted (Metropolis).
    fn sweep(
        &self,
        algorithm: IsingAlgorithm,
        lattice: &mut Lattice,
        rng: &mut Rng,
        stack: &mut Vec<usize>,
        clusters: usize,
    ) -> usize {
        match algorithm {
            IsingAlgorithm::Metropolis => {
                self.metropolis_sweep(lattice, rng);
                self.l * self.l
            }
            IsingAlgorithm::Wolff => (0..clusters).map(|_| self.wolff_update(lattice, rng, stack)).sum(),
        }
    }

    /// Runs `chains` independent chains (stream c of `seed` each) from `start`, discarding
    /// `thermalization` sweeps and measuring after each of the next `sweeps`.
    pub fn sample(
        &self,
        algorithm: IsingAlgorithm,
        start: Start,
        chains: usize,
        thermalization: usize,
        sweeps: usize,
        seed: u64,
    ) -> Result<Vec<ChainSeries>, SimError> {
        if chains == 0 || sweeps == 0 {
            return Err(SimError::InvalidOption("need at least one chain and one sweep".into()));
        }
        let n = (self.l * self.l) as f64;
        Ok((0..chains)
            .into_par_iter()
            .map(|c| {
                let mut rng = Rng::stream(seed, c as u64);
                let mut lattice = Lattice::start(self.l, start, &mut rng);
                let mut stack = Vec::new();
                let clusters = self.thermalize(algorithm, &mut lattice, &mut rng, &mut stack, thermalization);
                let mut series = ChainSeries::default();
                let mut moved = 0usize;
                for _ in 0..sweeps {
                    moved += self.sweep(algorithm, &mut lattice, &mut rng, &mut stack, clusters);
                    series.energy.push(lattice.energy() / n);
                    series.magnetization.push(lattice.magnetization() / n);
                }
                series.sweeps_per_measurement = moved as f64 / (sweeps as f64 * n);
                series
            })
            .collect())
    }

    /// Configurations for a dataset: `samples` spin configurations per chain, `spacing` sweeps
    /// apart, after `thermalization` sweeps. Returns spins `[sample, row, column]` and the energy
    /// and magnetisation per site of each.
    pub fn configurations(
        &self,
        algorithm: IsingAlgorithm,
        samples: usize,
        spacing: usize,
        thermalization: usize,
        seed: u64,
        stream: u64,
    ) -> (Array3<i8>, Vec<f64>, Vec<f64>) {
        let l = self.l;
        let n = (l * l) as f64;
        let mut rng = Rng::stream(seed, stream);
        let mut lattice = Lattice::ordered(l);
        let mut stack = Vec::new();
        let clusters = self.thermalize(algorithm, &mut lattice, &mut rng, &mut stack, thermalization);
        let mut spins = Array3::zeros((samples, l, l));
        let (mut e, mut m) = (Vec::with_capacity(samples), Vec::with_capacity(samples));
        for k in 0..samples {
            for _ in 0..spacing.max(1) {
                self.sweep(algorithm, &mut lattice, &mut rng, &mut stack, clusters);
            }
            spins
                .index_axis_mut(ndarray::Axis(0), k)
                .assign(&Array2::from_shape_vec((l, l), lattice.spins.clone()).expect("l × l spins"));
            e.push(lattice.energy() / n);
            m.push(lattice.magnetization() / n);
        }
        (spins, e, m)
    }

    /// Estimates with binned (and jackknifed, for non-linear ones) error bars over `bins` bins
    /// per chain.
    pub fn estimate(&self, series: &[ChainSeries], bins: usize) -> Result<IsingEstimates, SimError> {
        let n = (self.l * self.l) as f64;
        let t = self.temperature;
        let e: Vec<&[f64]> = series.iter().map(|s| s.energy.as_slice()).collect();
        let m: Vec<&[f64]> = series.iter().map(|s| s.magnetization.as_slice()).collect();
        let binned =
            |f: &dyn Fn(usize, usize) -> f64| stats::bin_chains(series.iter().map(|s| s.energy.len()), bins, f);
        let e_bins = binned(&|c, k| e[c][k])?;
        let e2_bins = binned(&|c, k| e[c][k] * e[c][k])?;
        let am_bins = binned(&|c, k| m[c][k].abs())?;
        let m2_bins = binned(&|c, k| m[c][k] * m[c][k])?;
        let m4_bins = binned(&|c, k| m[c][k].powi(4))?;
        let tau = series
            .iter()
            .map(|s| {
                let abs_m: Vec<f64> = s.magnetization.iter().map(|v| v.abs()).collect();
                stats::integrated_autocorrelation(&abs_m) * s.sweeps_per_measurement
            })
            .sum::<f64>()
            / series.len() as f64;
        Ok(IsingEstimates {
            energy: stats::mean_estimate(&e_bins),
            abs_magnetization: stats::mean_estimate(&am_bins),
            m2: stats::mean_estimate(&m2_bins),
            specific_heat: stats::jackknife(&[&e_bins, &e2_bins], |v| n * (v[1] - v[0] * v[0]) / (t * t)),
            binder: stats::jackknife(&[&m2_bins, &m4_bins], |v| 1.0 - v[1] / (3.0 * v[0] * v[0])),
            tau_abs_magnetization: tau,
        })
    }
}
