//! Compositions of energies (sum, separable T(p) + V(q), Cholesky-factored quadratic kinetic
//! energy) against finite differences in f64: input gradients, Hessian columns, and the parameter
//! gradients of an HNN loss through a separable Hamiltonian.

use dfdx::prelude::*;
use liouville_tensor::energy::{QuadraticKinetic, Separable, Sum};
use liouville_tensor::losses::hnn_loss;
use liouville_tensor::mlp::Matrix;
use liouville_tensor::{Activation, Energy, Init, Mlp};

const EPS: f64 = 1e-6;

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-3)
}

fn data(dev: &Cpu, rows: usize, cols: usize, phase: f64) -> Matrix<f64, Cpu> {
    dev.tensor_from_vec(
        (0..rows * cols).map(|i| (i as f64 * 0.61 + phase).sin()).collect(),
        (rows, cols),
    )
}

/// Worst error of ∇E and of every Hessian column against central differences.
fn check_energy(e: &impl Energy<f64, Cpu>, x: &Matrix<f64, Cpu>) -> f64 {
    let dev = Cpu::default();
    let (batch, n) = *x.shape();
    let xs = x.as_vec();
    let d = e.derivatives(x, &[], NoneTape).unwrap();
    let grad = d.gradient.as_vec();
    let cols = e.hessian_columns(x).unwrap();
    let mut worst: f64 = 0.0;
    for k in 0..n {
        let at = |delta: f64| {
            let mut p = xs.clone();
            for r in 0..batch {
                p[r * n + k] += delta;
            }
            let d = e
                .derivatives(&dev.tensor_from_vec(p, (batch, n)), &[], NoneTape)
                .unwrap();
            (d.value.as_vec(), d.gradient.as_vec())
        };
        let ((v_up, g_up), (v_dn, g_dn)) = (at(EPS), at(-EPS));
        let col = cols[k].as_vec();
        for r in 0..batch {
            worst = worst.max(rel(grad[r * n + k], (v_up[r] - v_dn[r]) / (2.0 * EPS)));
            for i in 0..n {
                worst = worst.max(rel(col[r * n + i], (g_up[r * n + i] - g_dn[r * n + i]) / (2.0 * EPS)));
            }
        }
    }
    worst
}

#[test]
fn sums_separable_and_kinetic_energies_have_exact_derivatives() {
    let dev = Cpu::default();
    let a = Mlp::<f64, Cpu>::new(&dev, &[3, 6, 1], Activation::Tanh, Init::Xavier, 1).unwrap();
    let b = Mlp::<f64, Cpu>::new(&dev, &[3, 5, 4, 1], Activation::Softplus, Init::Xavier, 2).unwrap();
    assert!(check_energy(&Sum(a, b), &data(&dev, 4, 3, 0.0)) < 1e-6);

    let mut kinetic = QuadraticKinetic::<f64, Cpu>::identity(&dev, 2, 1e-3).unwrap();
    kinetic.factor = dev.tensor_from_vec(vec![1.3, 9.0, -0.4, 0.8], (2, 2)); // 9.0 is masked out
    assert!(check_energy(&kinetic, &data(&dev, 4, 2, 1.0)) < 1e-6);
    // M = LLᵀ + εI with L = [[1.3, 0], [-0.4, 0.8]]: the Hessian is M at every row.
    let m = kinetic.hessian_columns(&data(&dev, 1, 2, 0.0)).unwrap();
    let (c0, c1) = (m[0].as_vec(), m[1].as_vec());
    assert!(
        (c0[0] - (1.69 + 1e-3)).abs() < 1e-12 && (c0[1] - -0.52).abs() < 1e-12 && (c1[1] - (0.8 + 1e-3)).abs() < 1e-12
    );

    let potential = Mlp::<f64, Cpu>::new(&dev, &[2, 8, 1], Activation::Sin, Init::Orthogonal, 3).unwrap();
    let h = Separable { kinetic, potential };
    assert!(check_energy(&h, &data(&dev, 5, 4, 2.0)) < 1e-6);
    // Separable: no mixed q-p curvature.
    let cols = h.hessian_columns(&data(&dev, 1, 4, 0.3)).unwrap();
    assert!(cols[2].as_vec()[0].abs() < 1e-14 && cols[0].as_vec()[3].abs() < 1e-14);
}

#[test]
fn hnn_loss_through_a_separable_hamiltonian_has_exact_parameter_gradients() {
    let dev = Cpu::default();
    let mut kinetic = QuadraticKinetic::<f64, Cpu>::identity(&dev, 1, 0.0).unwrap();
    kinetic.factor = dev.tensor_from_vec(vec![0.7], (1, 1));
    let potential = Mlp::<f64, Cpu>::new(&dev, &[1, 6, 1], Activation::Tanh, Init::Xavier, 5).unwrap();
    let h = Separable { kinetic, potential };
    let (x, y) = (data(&dev, 6, 2, 0.0), data(&dev, 6, 2, 0.5));
    let grads = hnn_loss(&h, &x, &y, OwnedTape::default()).unwrap().backward();
    let loss =
        |h: &Separable<QuadraticKinetic<f64, Cpu>, Mlp<f64, Cpu>>| hnn_loss(h, &x, &y, NoneTape).unwrap().as_vec()[0];
    let mut worst: f64 = 0.0;
    // The Cholesky factor.
    let g = grads.get(&h.kinetic.factor).as_vec()[0];
    let shifted = |delta: f64| {
        let mut k = h.kinetic.clone();
        k.factor = dev.tensor_from_vec(vec![0.7 + delta], (1, 1));
        loss(&Separable {
            kinetic: k,
            potential: h.potential.clone(),
        })
    };
    worst = worst.max(rel(g, (shifted(EPS) - shifted(-EPS)) / (2.0 * EPS)));
    // The potential's first-layer weights.
    let w = h.potential.weights[0].as_vec();
    let gw = grads.get(&h.potential.weights[0]).as_vec();
    for i in 0..w.len() {
        let shifted = |delta: f64| {
            let mut p = h.potential.clone();
            let mut v = w.clone();
            v[i] += delta;
            p.weights[0] = dev.tensor_from_vec(v, *h.potential.weights[0].shape());
            loss(&Separable {
                kinetic: h.kinetic.clone(),
                potential: p,
            })
        };
        worst = worst.max(rel(gw[i], (shifted(EPS) - shifted(-EPS)) / (2.0 * EPS)));
    }
    assert!(worst < 1e-6, "worst relative error {worst:e}");
    assert!(g != 0.0);
}
