//! Velocity coordinates for Lagrangian models. Datasets store canonical states (q, p); LNNs and
//! DeLaNs learn on (q, q̇) with targets (q̇, q̈). The Legendre map is known in closed form for the
//! systems below; angles are wrapped into (−π, π] because L is periodic in them and a network
//! is not.

use liouville_sim::dataset::{Dataset, SystemSpec};
use liouville_sim::systems::double_pendulum::DoublePendulum;
use liouville_tensor::train::Examples;
use ndarray::Axis;

use crate::DynamicsError;

/// An angle in (−π, π].
pub fn wrap_angle(angle: f64) -> f64 {
    let two_pi = std::f64::consts::TAU;
    angle - two_pi * ((angle + std::f64::consts::PI) / two_pi).floor()
}

/// `(inputs [q, q̇], targets [q̇, q̈])` of one canonical state of `system`.
fn velocity_row(system: &SystemSpec, s: &[f64]) -> Result<([f64; 4], [f64; 4], usize), DynamicsError> {
    // The system is checked before the state: a state of the wrong system is not a size problem.
    let needed = match system {
        SystemSpec::MassSpring { .. } | SystemSpec::Pendulum { .. } => 2,
        SystemSpec::DoublePendulum { .. } => 4,
        other => return Err(no_legendre_map(other)),
    };
    if s.len() != needed {
        return Err(DynamicsError::ShapeMismatch(format!(
            "a {} state has {needed} components, got {}",
            system.name(),
            s.len()
        )));
    }
    Ok(match *system {
        // H = p²/2m + kq²/2: q̇ = p/m, q̈ = −kq/m.
        SystemSpec::MassSpring { mass, stiffness, .. } => {
            let v = s[1] / mass;
            ([s[0], v, 0.0, 0.0], [v, -stiffness * s[0] / mass, 0.0, 0.0], 1)
        }
        // H = p²/(2ml²) + mgl(1 − cos q): q̇ = p/(ml²), q̈ = −(g/l) sin q.
        SystemSpec::Pendulum {
            mass, length, gravity, ..
        } => {
            let v = s[1] / (mass * length * length);
            (
                [wrap_angle(s[0]), v, 0.0, 0.0],
                [v, -(gravity / length) * s[0].sin(), 0.0, 0.0],
                1,
            )
        }
        SystemSpec::DoublePendulum { m1, m2, l1, l2, g, .. } => {
            let dp = DoublePendulum::new(m1, m2, l1, l2, g)?;
            let v = dp.velocities([s[0], s[1], s[2], s[3]]);
            let a = dp.accelerations([s[0], s[1], v[0], v[1]]);
            (
                [wrap_angle(s[0]), wrap_angle(s[1]), v[0], v[1]],
                [v[0], v[1], a[0], a[1]],
                2,
            )
        }
        ref other => return Err(no_legendre_map(other)),
    })
}

fn no_legendre_map(system: &SystemSpec) -> DynamicsError {
    DynamicsError::ShapeMismatch(format!(
        "Lagrangian models need a system with a known Legendre map (mass_spring, pendulum, double_pendulum), not {}",
        system.name()
    ))
}

/// A canonical state `[q, p]` of `system` in velocity coordinates `[q, q̇]` (angles wrapped).
pub fn to_velocity_state(system: &SystemSpec, state: &[f64]) -> Result<Vec<f64>, DynamicsError> {
    let (input, _, dof) = velocity_row(system, state)?;
    Ok(input[..2 * dof].to_vec())
}

/// The `(q, q̇) → (q̇, q̈)` examples of every (clean) state of the chosen trajectories.
pub fn lagrangian_examples(ds: &Dataset, trajectories: &[usize]) -> Result<Examples, DynamicsError> {
    let (mut x, mut y, mut width) = (Vec::new(), Vec::new(), 0);
    for &k in trajectories {
        for s in ds.states.index_axis(Axis(0), k).rows() {
            let (input, target, dof) = velocity_row(&ds.spec.system, &s.to_vec())?;
            width = 2 * dof;
            x.extend_from_slice(&input[..width]);
            y.extend_from_slice(&target[..width]);
        }
    }
    Ok(Examples::new(x, width.max(1), y, width.max(1))?)
}
