//! The HNN vector field's sign convention, q̇ = ∂H/∂p and ṗ = -∂H/∂q, on Hamiltonians whose field
//! is known in closed form (issue 13: flipping the convention passed every tensor test).

use dfdx::prelude::*;
use liouville_tensor::energy::{Derivatives, QuadraticKinetic};
use liouville_tensor::losses::{hamiltonian_field, hnn_loss};
use liouville_tensor::shapes::Matrix;
use liouville_tensor::tape::Threaded;
use liouville_tensor::{Energy, TensorError, host};

/// The pendulum H = p²/2 + 1 - cos q with its gradient (sin q, p) written out, rows `[q, p]`.
struct Pendulum;

impl Energy<f64, Cpu> for Pendulum {
    fn input_dim(&self) -> usize {
        2
    }
    fn derive<T: Tape<f64, Cpu> + Merge<T>>(
        &self,
        _tp: &mut Threaded<T>,
        x: &Matrix<f64, Cpu>,
        _directions: &[Matrix<f64, Cpu>],
    ) -> Result<Derivatives<f64, Cpu>, TensorError> {
        let dev = x.device().clone();
        let rows = host::values(x);
        let n = x.shape().0;
        let value = (0..n).map(|r| 0.5 * rows[2 * r + 1].powi(2) + 1.0 - rows[2 * r].cos());
        let gradient = (0..n).flat_map(|r| [rows[2 * r].sin(), rows[2 * r + 1]]);
        Ok(Derivatives {
            value: host::vector(&dev, value),
            gradient: host::matrix(&dev, gradient, n, 2),
            hvps: Vec::new(),
        })
    }
}

fn field_of(h: &impl Energy<f64, Cpu>, rows: &[[f64; 2]]) -> Vec<f64> {
    let dev = Cpu::default();
    let x = host::matrix(&dev, rows.iter().flatten().copied(), rows.len(), 2);
    host::values(&hamiltonian_field(h, &x, NoneTape).unwrap())
}

#[test]
fn q_squared_plus_p_squared_rotates_clockwise() {
    // M = LLᵀ + εI = 2I with L = I, ε = 1: H = ½ xᵀ(2I)x = q² + p², field (2p, -2q).
    let dev = Cpu::default();
    let h = QuadraticKinetic::<f64, Cpu>::identity(&dev, 2, 1.0).unwrap();
    let rows = [[1.0, 0.0], [0.0, 1.0], [0.3, -0.7]];
    let field = field_of(&h, &rows);
    for (r, [q, p]) in rows.iter().enumerate() {
        assert!(
            (field[2 * r] - 2.0 * p).abs() < 1e-14,
            "q̇ at {q}, {p}: {}",
            field[2 * r]
        );
        assert!(
            (field[2 * r + 1] + 2.0 * q).abs() < 1e-14,
            "ṗ at {q}, {p}: {}",
            field[2 * r + 1]
        );
    }
}

#[test]
fn the_pendulum_field_is_p_and_minus_sin_q() {
    let rows = [[0.5, 0.2], [-2.0, 1.5], [3.0, -0.4]];
    let field = field_of(&Pendulum, &rows);
    for (r, [q, p]) in rows.iter().enumerate() {
        assert!((field[2 * r] - p).abs() < 1e-14);
        assert!((field[2 * r + 1] + q.sin()).abs() < 1e-14);
    }
    // The HNN loss is zero on the true derivatives and positive on the time-reversed ones.
    let dev = Cpu::default();
    let x = host::matrix(&dev, rows.iter().flatten().copied(), 3, 2);
    let true_dot = host::matrix(&dev, rows.iter().flat_map(|[q, p]| [*p, -q.sin()]), 3, 2);
    let reversed = host::matrix(&dev, rows.iter().flat_map(|[q, p]| [-*p, q.sin()]), 3, 2);
    assert!(host::scalar(&hnn_loss(&Pendulum, &x, &true_dot, NoneTape).unwrap()) < 1e-28);
    assert!(host::scalar(&hnn_loss(&Pendulum, &x, &reversed, NoneTape).unwrap()) > 0.1);
}

#[test]
fn two_degrees_of_freedom_pair_each_q_with_its_own_p() {
    // A full SPD M couples the coordinates: the field is (∂H/∂p₁, ∂H/∂p₂, -∂H/∂q₁, -∂H/∂q₂)
    // with ∇H = Mx, for rows [q₁, q₂, p₁, p₂].
    let dev = Cpu::default();
    let mut h = QuadraticKinetic::<f64, Cpu>::identity(&dev, 4, 0.5).unwrap();
    let l = [
        [1.0, 0.0, 0.0, 0.0],
        [0.3, 1.2, 0.0, 0.0],
        [-0.2, 0.4, 0.9, 0.0],
        [0.1, -0.5, 0.2, 1.1],
    ];
    h.factor = host::matrix(&dev, l.iter().flatten().copied(), 4, 4);
    let mut m = [[0.0; 4]; 4];
    for i in 0..4 {
        for j in 0..4 {
            m[i][j] = (0..4).map(|k| l[i][k] * l[j][k]).sum::<f64>() + if i == j { 0.5 } else { 0.0 };
        }
    }
    let x = [0.7, -0.3, 0.2, 1.1];
    let grad: Vec<f64> = (0..4).map(|i| (0..4).map(|j| m[i][j] * x[j]).sum()).collect();
    let xs = host::matrix(&dev, x, 1, 4);
    let field = host::values(&hamiltonian_field(&h, &xs, NoneTape).unwrap());
    let expected = [grad[2], grad[3], -grad[0], -grad[1]];
    for c in 0..4 {
        assert!(
            (field[c] - expected[c]).abs() < 1e-13,
            "component {c}: {} vs {}",
            field[c],
            expected[c]
        );
    }
}
