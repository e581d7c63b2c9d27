//! The Hamiltonian graph network: input gradient and Hessian-vector products against finite
//! differences (f64), parameter gradients of the HNN loss through it against finite differences,
//! translation and relabelling invariance of H, graphs without edges, and bad shapes.

use liouville_graph::hamiltonian::HamiltonianGraph;
use liouville_graph::neighbourhoods::complete_graph;
use liouville_tensor::device::HostDevice;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::losses::hnn_loss;
use liouville_tensor::shapes::Matrix;
use liouville_tensor::testing::{Entries, GradientCheck, check_parameter_gradients};
use liouville_tensor::train::Loss;
use liouville_tensor::{Energy, TensorError, host};

type Dev = HostDevice;
const N: usize = 3;
const D: usize = 2;

fn model(edges: (Vec<usize>, Vec<usize>), seed: u64) -> HamiltonianGraph<f64, Dev> {
    HamiltonianGraph::new(&Dev::default(), N, D, edges, &[6, 6], seed).unwrap()
}

fn rows(batch: usize, phase: f64) -> Vec<f64> {
    (0..batch * 2 * N * D)
        .map(|i| (i as f64 * 0.73 + phase).sin() * 1.3)
        .collect()
}

fn matrix(values: &[f64], batch: usize) -> Matrix<f64, Dev> {
    host::matrix(&Dev::default(), values.iter().copied(), batch, 2 * N * D)
}

fn energy(h: &HamiltonianGraph<f64, Dev>, values: &[f64], batch: usize) -> Vec<f64> {
    host::values(&h.derivatives(&matrix(values, batch), &[], NoneTape).unwrap().value)
}

#[test]
fn input_gradient_and_hessian_vector_products_match_finite_differences() {
    let batch = 4;
    let n = 2 * N * D;
    for edges in [complete_graph(N), (vec![0, 1], vec![1, 2])] {
        let h = model(edges, 3);
        let x = rows(batch, 0.2);
        let v = rows(batch, 1.7);
        let d = h
            .derivatives(&matrix(&x, batch), &[matrix(&v, batch)], NoneTape)
            .unwrap();
        let (grad, hvp) = (host::values(&d.gradient), host::values(&d.hvps[0]));
        let eps = 1e-6;
        for j in 0..n {
            let shifted = |delta: f64| {
                let mut y = x.clone();
                for b in 0..batch {
                    y[b * n + j] += delta;
                }
                energy(&h, &y, batch)
            };
            let (up, down) = (shifted(eps), shifted(-eps));
            for b in 0..batch {
                let fd = (up[b] - down[b]) / (2.0 * eps);
                assert!(
                    (fd - grad[b * n + j]).abs() < 1e-7 * (1.0 + fd.abs()),
                    "∂H/∂x{j} row {b}: {} vs {fd}",
                    grad[b * n + j]
                );
            }
        }
        // (∇²H)v as the directional derivative of ∇H along v.
        let gradient_at = |t: f64| {
            let y: Vec<f64> = x.iter().zip(&v).map(|(a, b)| a + t * b).collect();
            host::values(&h.derivatives(&matrix(&y, batch), &[], NoneTape).unwrap().gradient)
        };
        let (up, down) = (gradient_at(eps), gradient_at(-eps));
        for i in 0..batch * n {
            let fd = (up[i] - down[i]) / (2.0 * eps);
            assert!(
                (fd - hvp[i]).abs() < 1e-6 * (1.0 + fd.abs()),
                "Hv[{i}]: {} vs {fd}",
                hvp[i]
            );
        }
    }
}

/// The HNN loss of the graph Hamiltonian on fixed data.
struct HnnOnGraph(Matrix<f64, Dev>, Matrix<f64, Dev>);

impl Loss<f64, Dev, HamiltonianGraph<f64, Dev>, ()> for HnnOnGraph {
    fn loss<T: Tape<f64, Dev> + Merge<T>>(
        &self,
        h: &HamiltonianGraph<f64, Dev>,
        _: &(),
        tape: T,
    ) -> Result<Tensor<(), f64, Dev, T>, TensorError> {
        hnn_loss(h, &self.0, &self.1, tape)
    }
}

#[test]
fn hnn_loss_parameter_gradients_through_the_graph_match_finite_differences() {
    let mut h = model(complete_graph(N), 5);
    let loss = HnnOnGraph(matrix(&rows(5, 0.4), 5), matrix(&rows(5, 2.9), 5));
    let check = GradientCheck {
        entries: Entries::All,
        floor: 1e-3,
        ..GradientCheck::default()
    };
    let report = check_parameter_gradients(&mut h, &loss, &(), check).unwrap();
    assert!(report.worst < 1e-6, "{report:?}");
}

#[test]
fn h_is_invariant_under_translation_and_relabelling() {
    let h = model(complete_graph(N), 7);
    let x = rows(3, 0.9);
    let base = energy(&h, &x, 3);
    // Translate every position by (0.7, −1.1).
    let mut moved = x.clone();
    for b in 0..3 {
        for i in 0..N {
            moved[b * 2 * N * D + i * D] += 0.7;
            moved[b * 2 * N * D + i * D + 1] -= 1.1;
        }
    }
    for (a, b) in base.iter().zip(energy(&h, &moved, 3)) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
    // Relabel the particles 0 → 2 → 1 → 0 (a complete graph maps to itself).
    let perm = [2, 0, 1];
    let mut relabelled = x.clone();
    for b in 0..3 {
        for half in 0..2 {
            for i in 0..N {
                for k in 0..D {
                    relabelled[b * 2 * N * D + half * N * D + perm[i] * D + k] =
                        x[b * 2 * N * D + half * N * D + i * D + k];
                }
            }
        }
    }
    for (a, b) in base.iter().zip(energy(&h, &relabelled, 3)) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
}

#[test]
fn without_edges_h_is_the_kinetic_sum_and_bad_shapes_are_typed_errors() {
    let h = model((vec![], vec![]), 1);
    let x = rows(2, 0.0);
    let value = energy(&h, &x, 2);
    let p: Vec<f64> = (0..2)
        .flat_map(|b| x[b * 2 * N * D + N * D..(b + 1) * 2 * N * D].to_vec())
        .collect();
    let t = host::values(
        &h.kinetic
            .energy_derivatives(&host::matrix(&Dev::default(), p, 2 * N, D), &[], NoneTape)
            .unwrap()
            .value,
    );
    for b in 0..2 {
        let want: f64 = t[b * N..(b + 1) * N].iter().sum();
        assert!((value[b] - want).abs() < 1e-12);
    }
    let wrong = host::matrix::<f64, Dev>(&Dev::default(), vec![0.0; 10], 2, 5);
    assert!(matches!(
        h.derivatives(&wrong, &[], NoneTape),
        Err(TensorError::ShapeMismatch(_))
    ));
    assert!(HamiltonianGraph::<f64, Dev>::new(&Dev::default(), 2, 2, (vec![0], vec![5]), &[4], 0).is_err());
    assert!(HamiltonianGraph::<f64, Dev>::new(&Dev::default(), 0, 2, (vec![], vec![]), &[4], 0).is_err());
}
