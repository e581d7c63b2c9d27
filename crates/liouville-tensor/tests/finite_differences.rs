//! Acceptance 1 and 2: every hand-built derivative against central finite differences in f64,
//! over random widths, depths and activations (proptest): input gradients, Hessian-vector
//! products, and parameter gradients of an HNN loss, an LNN loss and a gradient penalty. And no
//! parameter silently loses its gradient.

use dfdx::prelude::*;
use liouville_base::property::check;
use liouville_tensor::losses::{gradient_penalty, hnn_loss, lnn_loss};
use liouville_tensor::mlp::Matrix;
use liouville_tensor::testing::{Entries, GradientCheck, check_parameter_gradients};
use liouville_tensor::train::Loss;
use liouville_tensor::{Activation, Init, Mlp};
use proptest::prelude::*;

const EPS: f64 = 1e-6;
/// Relative error with entries below this scale compared absolutely.
const FLOOR: f64 = 1e-3;

fn rel_err(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(FLOOR)
}

fn activation() -> impl Strategy<Value = Activation> {
    prop_oneof![
        Just(Activation::Tanh),
        Just(Activation::Softplus),
        Just(Activation::Sigmoid),
        Just(Activation::Sin)
    ]
}

fn matrix(dev: &Cpu, rows: usize, cols: usize, values: &[f64]) -> Matrix<f64, Cpu> {
    dev.tensor_from_vec(values[..rows * cols].to_vec(), (rows, cols))
}

/// E at each row, without a tape.
fn energy(mlp: &Mlp<f64, Cpu>, x: &Matrix<f64, Cpu>) -> Vec<f64> {
    mlp.energy_derivatives(x, &[], NoneTape).unwrap().value.as_vec()
}

/// The three losses on fixed data, as [`Loss`]es for tensor's finite-difference check.
enum FixedLoss {
    Hnn(Matrix<f64, Cpu>, Matrix<f64, Cpu>),
    Lnn(Matrix<f64, Cpu>, Matrix<f64, Cpu>, bool),
    Penalty(Matrix<f64, Cpu>),
}

impl Loss<f64, Cpu, Mlp<f64, Cpu>, ()> for FixedLoss {
    fn loss<T: Tape<f64, Cpu> + Merge<T>>(
        &self,
        m: &Mlp<f64, Cpu>,
        _: &(),
        tape: T,
    ) -> Result<Tensor<(), f64, Cpu, T>, liouville_tensor::TensorError> {
        match self {
            FixedLoss::Hnn(x, x_dot) => hnn_loss(m, x, x_dot, tape),
            FixedLoss::Lnn(x, target, prior) => lnn_loss(m, x, target, *prior, tape),
            FixedLoss::Penalty(x) => gradient_penalty(m, x, tape),
        }
    }
}

/// Worst relative error between `loss`'s parameter gradients and central differences, over
/// every parameter entry.
fn worst_parameter_error(mlp: &Mlp<f64, Cpu>, loss: &FixedLoss) -> f64 {
    let check = GradientCheck {
        eps: EPS,
        entries: Entries::All,
        floor: FLOOR,
    };
    check_parameter_gradients(&mut mlp.clone(), loss, &(), check)
        .unwrap()
        .worst
}

#[test]
fn input_gradients_and_hessian_vector_products_match_finite_differences() {
    let dev = Cpu::default();
    let strategy = (
        1usize..5,
        prop::collection::vec(1usize..7, 0..4),
        activation(),
        any::<u64>(),
        prop::collection::vec(-1.5f64..1.5, 64),
    );
    check(48, &strategy, |(n_in, hidden, act, seed, values)| {
        let widths: Vec<usize> = std::iter::once(n_in).chain(hidden).chain([1]).collect();
        let mlp = Mlp::<f64, Cpu>::new(&dev, &widths, act, Init::Xavier, seed).unwrap();
        let batch = 3;
        let x = matrix(&dev, batch, n_in, &values);
        let v = matrix(&dev, batch, n_in, &values[32..]);
        let d = mlp.energy_derivatives(&x, std::slice::from_ref(&v), NoneTape).unwrap();
        let (grad, hvp) = (d.gradient.as_vec(), d.hvps[0].as_vec());
        let xs = x.as_vec();
        let vs = v.as_vec();
        let mut worst: f64 = 0.0;
        for k in 0..n_in {
            let shift = |delta: f64| {
                let mut p = xs.clone();
                for r in 0..batch {
                    p[r * n_in + k] += delta;
                }
                energy(&mlp, &dev.tensor_from_vec(p, (batch, n_in)))
            };
            let (up, down) = (shift(EPS), shift(-EPS));
            for r in 0..batch {
                worst = worst.max(rel_err(grad[r * n_in + k], (up[r] - down[r]) / (2.0 * EPS)));
            }
        }
        // Hv = (∇E(x + εv) - ∇E(x - εv)) / 2ε.
        let grad_at = |delta: f64| {
            let p: Vec<f64> = xs.iter().zip(&vs).map(|(x, v)| x + delta * v).collect();
            mlp.energy_derivatives(&dev.tensor_from_vec(p, (batch, n_in)), &[], NoneTape)
                .unwrap()
                .gradient
                .as_vec()
        };
        let (up, down) = (grad_at(EPS), grad_at(-EPS));
        for i in 0..batch * n_in {
            worst = worst.max(rel_err(hvp[i], (up[i] - down[i]) / (2.0 * EPS)));
        }
        prop_assert!(
            worst < 1e-6,
            "widths {widths:?} {act:?}: worst relative error {worst:e}"
        );
        Ok(())
    });
}

#[test]
fn hnn_loss_parameter_gradients_match_finite_differences() {
    let dev = Cpu::default();
    let strategy = (
        1usize..3,
        prop::collection::vec(2usize..6, 1..3),
        activation(),
        any::<u64>(),
        prop::collection::vec(-1.0f64..1.0, 64),
    );
    check(16, &strategy, |(dof, hidden, act, seed, values)| {
        let widths: Vec<usize> = std::iter::once(2 * dof).chain(hidden).chain([1]).collect();
        let mlp = Mlp::<f64, Cpu>::new(&dev, &widths, act, Init::Orthogonal, seed).unwrap();
        let x = matrix(&dev, 4, 2 * dof, &values);
        let x_dot = matrix(&dev, 4, 2 * dof, &values[16..]);
        let worst = worst_parameter_error(&mlp, &FixedLoss::Hnn(x, x_dot));
        prop_assert!(worst < 1e-6, "HNN {widths:?} {act:?}: {worst:e}");
        Ok(())
    });
}

#[test]
fn lnn_loss_parameter_gradients_match_finite_differences() {
    let dev = Cpu::default();
    let strategy = (
        1usize..3,
        prop::collection::vec(2usize..6, 1..3),
        activation(),
        any::<bool>(),
        any::<u64>(),
        prop::collection::vec(-1.0f64..1.0, 64),
    );
    check(16, &strategy, |(dof, hidden, act, prior, seed, values)| {
        let widths: Vec<usize> = std::iter::once(2 * dof).chain(hidden).chain([1]).collect();
        let mlp = Mlp::<f64, Cpu>::new(&dev, &widths, act, Init::Xavier, seed).unwrap();
        let x = matrix(&dev, 3, 2 * dof, &values);
        let target = matrix(&dev, 3, dof, &values[20..]);
        // Without the prior ∂²L/∂q̇² can be near singular at random weights; FD is then
        // ill-conditioned, so only well-conditioned draws are compared.
        let loss = |m: &Mlp<f64, Cpu>| lnn_loss(m, &x, &target, prior, NoneTape).unwrap().as_vec()[0];
        prop_assume!(loss(&mlp).is_finite() && loss(&mlp) < 1e6);
        let worst = worst_parameter_error(&mlp, &FixedLoss::Lnn(x, target, prior));
        prop_assert!(worst < 1e-6, "LNN {widths:?} {act:?} prior {prior}: {worst:e}");
        Ok(())
    });
}

#[test]
fn gradient_penalty_parameter_gradients_match_finite_differences() {
    let dev = Cpu::default();
    let strategy = (
        1usize..4,
        prop::collection::vec(2usize..6, 1..3),
        activation(),
        any::<u64>(),
        prop::collection::vec(-1.0f64..1.0, 64),
    );
    check(16, &strategy, |(n_in, hidden, act, seed, values)| {
        let widths: Vec<usize> = std::iter::once(n_in).chain(hidden).chain([1]).collect();
        let mlp = Mlp::<f64, Cpu>::new(&dev, &widths, act, Init::Xavier, seed).unwrap();
        let x = matrix(&dev, 5, n_in, &values);
        let worst = worst_parameter_error(&mlp, &FixedLoss::Penalty(x));
        prop_assert!(worst < 1e-6, "GP {widths:?} {act:?}: {worst:e}");
        Ok(())
    });
}

/// Acceptance 2: no parameter silently loses its gradient. Every weight and hidden bias of an
/// HNN receives a non-zero gradient; the output bias — which ∂H/∂x does not depend on — gets
/// exactly zero, as it must.
#[test]
fn no_parameter_silently_loses_its_gradient() {
    let dev = Cpu::default();
    for act in [
        Activation::Tanh,
        Activation::Softplus,
        Activation::Sigmoid,
        Activation::Sin,
    ] {
        let mlp = Mlp::<f64, Cpu>::new(&dev, &[2, 8, 8, 1], act, Init::Orthogonal, 3).unwrap();
        let x = dev.tensor_from_vec((0..16).map(|i| (i as f64 * 0.37).sin()).collect(), (8, 2));
        let x_dot = dev.tensor_from_vec((0..16).map(|i| (i as f64 * 0.11).cos()).collect(), (8, 2));
        let mut grads = hnn_loss(&mlp, &x, &x_dot, OwnedTape::default()).unwrap().backward();
        let last = mlp.weights.len() - 1;
        for (w, b) in mlp.weights.iter().zip(&mlp.biases) {
            // Zero-filled if the tape never reached the parameter (dfdx's `get` would panic).
            grads.try_alloc_for(w).unwrap();
            grads.try_alloc_for(b).unwrap();
        }
        for l in 0..=last {
            let gw = grads.get(&mlp.weights[l]).as_vec();
            assert!(gw.iter().any(|g| *g != 0.0), "{act:?}: weight {l} got no gradient");
            let gb = grads.get(&mlp.biases[l]).as_vec();
            if l == last {
                assert!(gb.iter().all(|g| *g == 0.0), "{act:?}: output bias cannot affect dH/dx");
            } else {
                assert!(gb.iter().any(|g| *g != 0.0), "{act:?}: bias {l} got no gradient");
            }
        }
        // The detector works: a parameter used without a tape has an all-zero gradient.
        let broken = mlp.weights[0].clone().sum::<(), _>().retaped::<OwnedTape<f64, Cpu>>() * 0.0
            + mlp.weights[1].leaky_trace().sum::<(), _>();
        let mut g = broken.backward();
        g.try_alloc_for(&mlp.weights[0]).unwrap();
        assert!(g.get(&mlp.weights[0]).as_vec().iter().all(|v| *v == 0.0));
    }
}

/// Forward-mode tangents of a vector-valued MLP: (∂f/∂x)v = (f(x + εv) − f(x − εv)) / 2ε.
#[test]
fn jacobian_vector_products_match_finite_differences() {
    let dev = Cpu::default();
    let strategy = (
        1usize..5,
        prop::collection::vec(1usize..7, 0..4),
        1usize..4,
        activation(),
        any::<u64>(),
        prop::collection::vec(-1.5f64..1.5, 64),
    );
    check(48, &strategy, |(n_in, hidden, n_out, act, seed, values)| {
        let widths: Vec<usize> = std::iter::once(n_in).chain(hidden).chain([n_out]).collect();
        let mlp = Mlp::<f64, Cpu>::new(&dev, &widths, act, Init::Xavier, seed).unwrap();
        let batch = 3;
        let x = matrix(&dev, batch, n_in, &values);
        let v = matrix(&dev, batch, n_in, &values[32..]);
        let mut tp = liouville_tensor::tape::Threaded::new(NoneTape);
        let (out, tangents) = mlp
            .forward_with_tangents(&mut tp, &x, std::slice::from_ref(&v))
            .unwrap();
        prop_assert_eq!(out.as_vec(), mlp.forward(&x, NoneTape).unwrap().as_vec());
        let jvp = tangents[0].as_vec();
        let at = |delta: f64| {
            let p: Vec<f64> = x.as_vec().iter().zip(v.as_vec()).map(|(x, v)| x + delta * v).collect();
            mlp.forward(&dev.tensor_from_vec(p, (batch, n_in)), NoneTape)
                .unwrap()
                .as_vec()
        };
        let (up, down) = (at(EPS), at(-EPS));
        let worst = (0..batch * n_out)
            .map(|i| rel_err(jvp[i], (up[i] - down[i]) / (2.0 * EPS)))
            .fold(0.0, f64::max);
        prop_assert!(
            worst < 1e-6,
            "widths {widths:?} {act:?}: worst relative error {worst:e}"
        );
        Ok(())
    });
}
