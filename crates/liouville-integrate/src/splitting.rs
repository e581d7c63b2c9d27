//! Explicit symplectic splitting methods for separable Hamiltonians H = T(p) + V(q)
//! (Hairer–Lubich–Wanner, *Geometric Numerical Integration*, II.5 and V.3).
//!
//! Both parts have exact flows: the drift q ← q + τ∇T(p) and the kick p ← p - τ∇V(q). Each
//! method is a composition of drifts and kicks, so each is symplectic, and the symmetric ones are
//! time-reversible. A symplectic method with step h exactly conserves a modified Hamiltonian
//! H̃ = H + O(hᵖ), so its energy error stays bounded over exponentially long times.
//!
//! **These methods are fixed-step on purpose.** Changing h from step to step changes the
//! modified Hamiltonian being conserved, and the error then drifts like a non-symplectic method's
//! (Hairer–Lubich–Wanner VIII.1). There is therefore no adaptive driver for them.

use ndarray::{Array2, ArrayViewMut2, Zip, s};

use crate::fixed::{Stats, Stepper};
use crate::{IntegrateError, SeparableHamiltonian};

/// Which splitting method to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SymplecticMethod {
    /// Symplectic Euler, kick then drift: p₁ = p - h∇V(q), q₁ = q + h∇T(p₁). Order 1.
    SymplecticEulerKickDrift,
    /// Symplectic Euler, drift then kick (the adjoint): q₁ = q + h∇T(p), p₁ = p - h∇V(q₁). Order 1.
    SymplecticEulerDriftKick,
    /// Störmer–Verlet / leapfrog (velocity Verlet): kick h/2, drift h, kick h/2. Order 2, symmetric.
    Leapfrog,
    /// Forest–Ruth / Yoshida triple jump: leapfrog with steps w₁h, w₀h, w₁h,
    /// w₁ = 1/(2 - 2^{1/3}), w₀ = 1 - 2w₁ (Forest & Ruth 1990; Yoshida 1990). Order 4, symmetric.
    Yoshida4,
    /// Yoshida's 7-stage composition of leapfrog, "solution A" (Yoshida 1990, Phys. Lett. A 150).
    /// Order 6, symmetric.
    Yoshida6,
    /// Yoshida's 15-stage composition of leapfrog, "solution D" (Yoshida 1990). Order 8, symmetric.
    Yoshida8,
}

/// An elementary exact flow, with its fraction of the step.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Flow {
    Kick(f64),
    Drift(f64),
}

impl SymplecticMethod {
    /// Every splitting method, for tables and sweeps.
    pub const ALL: [SymplecticMethod; 6] = [
        Self::SymplecticEulerKickDrift,
        Self::SymplecticEulerDriftKick,
        Self::Leapfrog,
        Self::Yoshida4,
        Self::Yoshida6,
        Self::Yoshida8,
    ];

    /// Classical order.
    pub fn order(self) -> u32 {
        match self {
            Self::SymplecticEulerKickDrift | Self::SymplecticEulerDriftKick => 1,
            Self::Leapfrog => 2,
            Self::Yoshida4 => 4,
            Self::Yoshida6 => 6,
            Self::Yoshida8 => 8,
        }
    }

    /// Whether the method is symmetric (Φ₋ₕ ∘ Φₕ = id), hence time-reversible.
    pub fn is_symmetric(self) -> bool {
        !matches!(self, Self::SymplecticEulerKickDrift | Self::SymplecticEulerDriftKick)
    }

    /// A human-readable name.
    pub fn name(self) -> &'static str {
        match self {
            Self::SymplecticEulerKickDrift => "symplectic Euler (kick-drift)",
            Self::SymplecticEulerDriftKick => "symplectic Euler (drift-kick)",
            Self::Leapfrog => "Stormer-Verlet (leapfrog)",
            Self::Yoshida4 => "Forest-Ruth / Yoshida 4",
            Self::Yoshida6 => "Yoshida 6 (7 stages)",
            Self::Yoshida8 => "Yoshida 8 (15 stages)",
        }
    }

    /// Leapfrog substep weights w of a symmetric composition Φ = Π S(wᵢh).
    fn composition_weights(self) -> Vec<f64> {
        // Half of a symmetric composition (outermost first); the middle weight makes Σw = 1.
        let half: &[f64] = match self {
            Self::Leapfrog => &[],
            Self::Yoshida4 => &[1.0 / (2.0 - libm::cbrt(2.0))],
            Self::Yoshida6 => &[
                0.784_513_610_477_557_3,
                0.235_573_213_359_358_13,
                -1.177_679_984_178_871,
            ],
            Self::Yoshida8 => &[
                0.914_844_246_229_740,
                0.253_693_336_566_229,
                -1.444_852_236_860_48,
                -0.158_240_635_368_243,
                1.938_139_137_622_76,
                -1.960_610_232_975_49,
                0.102_799_849_391_985,
            ],
            Self::SymplecticEulerKickDrift | Self::SymplecticEulerDriftKick => {
                unreachable!("not a composition of leapfrog")
            }
        };
        let middle = 1.0 - 2.0 * half.iter().sum::<f64>();
        half.iter()
            .copied()
            .chain([middle])
            .chain(half.iter().rev().copied())
            .collect()
    }

    /// The sequence of exact flows making up one step, with adjacent kicks merged.
    fn flows(self) -> Vec<Flow> {
        match self {
            Self::SymplecticEulerKickDrift => vec![Flow::Kick(1.0), Flow::Drift(1.0)],
            Self::SymplecticEulerDriftKick => vec![Flow::Drift(1.0), Flow::Kick(1.0)],
            _ => {
                let mut flows: Vec<Flow> = Vec::new();
                for w in self.composition_weights() {
                    match flows.last_mut() {
                        Some(Flow::Kick(k)) => *k += 0.5 * w,
                        _ => flows.push(Flow::Kick(0.5 * w)),
                    }
                    flows.push(Flow::Drift(w));
                    flows.push(Flow::Kick(0.5 * w));
                }
                flows
            }
        }
    }

    /// Force evaluations per step when consecutive steps reuse the last force (first same as last).
    pub fn forces_per_step(self) -> usize {
        let kicks = self.flows().iter().filter(|f| matches!(f, Flow::Kick(_))).count();
        if self.is_symmetric() { kicks - 1 } else { kicks }
    }
}

/// A splitting integrator for a [`SeparableHamiltonian`], on rows `[q, p]`.
///
/// The force ∇V(q) that ends one step is the one the next step starts with; it is reused
/// whenever q is unchanged between calls (checked, so modifying the state between steps is safe).
pub struct Splitting<H> {
    hamiltonian: H,
    method: SymplecticMethod,
    flows: Vec<Flow>,
    force: Array2<f64>,
    force_at: Array2<f64>,
    force_valid: bool,
    velocity: Array2<f64>,
    stats: Stats,
}

impl<H: SeparableHamiltonian + Clone + Send> Splitting<H> {
    /// An integrator of `hamiltonian` with `method`.
    pub fn new(hamiltonian: H, method: SymplecticMethod) -> Self {
        let empty = || Array2::zeros((0, 0));
        Self {
            hamiltonian,
            method,
            flows: method.flows(),
            force: empty(),
            force_at: empty(),
            force_valid: false,
            velocity: empty(),
            stats: Stats::default(),
        }
    }

    /// The method in use.
    pub fn method(&self) -> SymplecticMethod {
        self.method
    }
}

impl<H: SeparableHamiltonian + Clone + Send> Stepper for Splitting<H> {
    fn order(&self) -> u32 {
        self.method.order()
    }
    fn dim(&self) -> usize {
        2 * self.hamiltonian.dof()
    }
    fn step(&mut self, _t: f64, h: f64, mut y: ArrayViewMut2<'_, f64>) -> Result<(), IntegrateError> {
        let d = self.hamiltonian.dof();
        let shape = (y.nrows(), d);
        if self.force.dim() != shape {
            self.force = Array2::zeros(shape);
            self.force_at = Array2::zeros(shape);
            self.velocity = Array2::zeros(shape);
            self.force_valid = false;
        }
        let (mut q, mut p) = y.multi_slice_mut((s![.., ..d], s![.., d..]));
        let mut force_fresh = self.force_valid && self.force_at == q;
        for &flow in &self.flows {
            match flow {
                Flow::Kick(b) => {
                    if !force_fresh {
                        self.hamiltonian.grad_potential(q.view(), self.force.view_mut());
                        self.stats.evaluations += 1;
                        force_fresh = true;
                    }
                    let tau = b * h;
                    Zip::from(&mut p).and(&self.force).for_each(|p, &f| *p -= tau * f);
                }
                Flow::Drift(a) => {
                    self.hamiltonian.grad_kinetic(p.view(), self.velocity.view_mut());
                    let tau = a * h;
                    Zip::from(&mut q).and(&self.velocity).for_each(|q, &v| *q += tau * v);
                    force_fresh = false;
                }
            }
        }
        self.force_valid = force_fresh;
        if force_fresh {
            self.force_at.assign(&q);
        }
        self.stats.steps += 1;
        Ok(())
    }
    fn stats(&self) -> Stats {
        self.stats
    }
    fn fork(&self) -> Self {
        Self::new(self.hamiltonian.clone(), self.method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composition_weights_sum_to_one_and_are_symmetric() {
        for m in [
            SymplecticMethod::Yoshida4,
            SymplecticMethod::Yoshida6,
            SymplecticMethod::Yoshida8,
        ] {
            let w = m.composition_weights();
            assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-14, "{m:?}");
            assert!(w.iter().zip(w.iter().rev()).all(|(a, b)| a == b));
        }
    }

    #[test]
    fn merged_flows_alternate_kicks_and_drifts() {
        for m in SymplecticMethod::ALL {
            let flows = m.flows();
            for pair in flows.windows(2) {
                assert_ne!(std::mem::discriminant(&pair[0]), std::mem::discriminant(&pair[1]));
            }
        }
        assert_eq!(SymplecticMethod::Leapfrog.forces_per_step(), 1);
        assert_eq!(SymplecticMethod::Yoshida4.forces_per_step(), 3);
        assert_eq!(SymplecticMethod::Yoshida6.forces_per_step(), 7);
        assert_eq!(SymplecticMethod::Yoshida8.forces_per_step(), 15);
    }
}
