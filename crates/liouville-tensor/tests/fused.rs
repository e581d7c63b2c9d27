//! The fused host layers (`liouville_tensor::fused`) against the composed dfdx ops they replace,
//! over random widths, depths, activations and seeds, in f32 and f64: energies, input gradients,
//! Hessian-vector products, plain forward passes, and the parameter gradients of an HNN loss and
//! a regression loss agree to round-off. (The finite-difference checks of the same derivatives
//! run on the fused path in `tests/finite_differences.rs`.)

use dfdx::prelude::*;
use liouville_base::property::check;
use liouville_tensor::fused::{composed, is_fused};
use liouville_tensor::losses::hnn_loss;
use liouville_tensor::mlp::Matrix;
use liouville_tensor::{Activation, Init, Mlp, Real};
use proptest::prelude::*;

/// Everything the two paths compute, on the host in f64.
#[derive(Debug)]
struct Outputs {
    energy: Vec<f64>,
    gradient: Vec<f64>,
    hvp: Vec<f64>,
    forward: Vec<f64>,
    hnn_loss: f64,
    hnn_parameter_gradients: Vec<Vec<f64>>,
    regression_parameter_gradients: Vec<Vec<f64>>,
}

fn to64<E: Real>(v: Vec<E>) -> Vec<f64> {
    v.into_iter().map(Real::to64).collect()
}

/// Parameter gradients of `loss` on a copy of `mlp` cast to f64 for comparison.
fn grads_of<E: Real>(mlp: &Mlp<E, Cpu>, loss: Tensor<(), E, Cpu, OwnedTape<E, Cpu>>) -> Vec<Vec<f64>>
where
    Cpu: Device<E>,
{
    let mut grads = loss.backward();
    let alloc = |t: &Matrix<E, Cpu>, g: &mut Gradients<E, Cpu>| {
        g.try_alloc_for(t).unwrap();
        to64(g.get(t).as_vec())
    };
    let mut out = Vec::new();
    for (w, b) in mlp.weights.iter().zip(&mlp.biases) {
        out.push(alloc(w, &mut grads));
        grads.try_alloc_for(b).unwrap();
        out.push(to64(grads.get(b).as_vec()));
    }
    out
}

fn outputs<E: Real>(energy_mlp: &Mlp<E, Cpu>, plain_mlp: &Mlp<E, Cpu>, values: &[f64], batch: usize) -> Outputs
where
    Cpu: Device<E>,
{
    let dev = Cpu::default();
    let n_in = energy_mlp.widths()[0];
    let m = |offset: usize, cols: usize| -> Matrix<E, Cpu> {
        dev.tensor_from_vec(
            values[offset..offset + batch * cols]
                .iter()
                .map(|&v| E::of(v))
                .collect(),
            (batch, cols),
        )
    };
    let (x, v, x_dot) = (m(0, n_in), m(40, n_in), m(80, n_in));
    let d = energy_mlp
        .energy_derivatives(&x, std::slice::from_ref(&v), NoneTape)
        .unwrap();
    let forward = plain_mlp.forward(&x, NoneTape).unwrap();
    let hnn = hnn_loss(energy_mlp, &x, &x_dot, OwnedTape::default()).unwrap();
    let hnn_value = hnn.as_vec()[0].to64();
    let target = m(120, plain_mlp.widths().last().copied().unwrap());
    let prediction = plain_mlp.forward(&x, OwnedTape::default()).unwrap();
    let regression = (prediction - target).square().mean();
    Outputs {
        energy: to64(d.value.as_vec()),
        gradient: to64(d.gradient.as_vec()),
        hvp: to64(d.hvps[0].as_vec()),
        forward: to64(forward.as_vec()),
        hnn_loss: hnn_value,
        hnn_parameter_gradients: grads_of(energy_mlp, hnn),
        regression_parameter_gradients: grads_of(plain_mlp, regression),
    }
}

/// Worst |a − b| / max(|a|, |b|, scale) over two equally long lists, `scale` the largest |entry|
/// of the list (round-off is relative to the list's magnitude, not to each entry's).
fn worst(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = a.iter().chain(b).fold(1e-300f64, |m, v| m.max(v.abs()));
    a.iter().zip(b).map(|(x, y)| (x - y).abs() / scale).fold(0.0, f64::max)
}

fn compare<E: Real>(
    widths: &[usize],
    act: Activation,
    seed: u64,
    values: &[f64],
    tolerance: f64,
) -> Result<(), TestCaseError>
where
    Cpu: Device<E>,
{
    let dev = Cpu::default();
    let energy_widths: Vec<usize> = widths.iter().copied().chain([1]).collect();
    let plain_widths: Vec<usize> = widths.iter().copied().chain([3]).collect();
    let energy = Mlp::<E, Cpu>::new(&dev, &energy_widths, act, Init::TorchOrthogonal, seed).unwrap();
    let plain = Mlp::<E, Cpu>::new(&dev, &plain_widths, act, Init::TorchOrthogonal, seed ^ 1).unwrap();
    let batch = 5;
    let fusable = matches!(
        act,
        Activation::Tanh | Activation::Sigmoid | Activation::Softplus | Activation::Relu
    );
    prop_assert_eq!(is_fused::<E, Cpu>(act), fusable);
    let fused = outputs(&energy, &plain, values, batch);
    let reference = composed(|| {
        assert!(!is_fused::<E, Cpu>(act), "composed() turns the fused path off");
        outputs(&energy, &plain, values, batch)
    });
    let mut errors = vec![
        ("energy", worst(&fused.energy, &reference.energy)),
        ("gradient", worst(&fused.gradient, &reference.gradient)),
        ("hvp", worst(&fused.hvp, &reference.hvp)),
        ("forward", worst(&fused.forward, &reference.forward)),
        ("hnn loss", worst(&[fused.hnn_loss], &[reference.hnn_loss])),
    ];
    for (k, (a, b)) in fused
        .hnn_parameter_gradients
        .iter()
        .zip(&reference.hnn_parameter_gradients)
        .enumerate()
    {
        errors.push((["hnn dW", "hnn db"][k % 2], worst(a, b)));
    }
    for (k, (a, b)) in fused
        .regression_parameter_gradients
        .iter()
        .zip(&reference.regression_parameter_gradients)
        .enumerate()
    {
        errors.push((["mse dW", "mse db"][k % 2], worst(a, b)));
    }
    for (what, err) in errors {
        prop_assert!(
            err <= tolerance,
            "{widths:?} {act:?} {}: {what} differs by {err:e}",
            E::NAME
        );
    }
    Ok(())
}

fn strategy() -> impl Strategy<Value = (Vec<usize>, Activation, u64, Vec<f64>)> {
    (
        // Even input widths: the HNN loss takes (q, p) states.
        (1usize..3, prop::collection::vec(1usize..40, 1..4))
            .prop_map(|(n, h)| std::iter::once(2 * n).chain(h).collect()),
        prop_oneof![
            Just(Activation::Tanh),
            Just(Activation::Softplus),
            Just(Activation::Sigmoid),
            Just(Activation::Relu),
            Just(Activation::Sin)
        ],
        any::<u64>(),
        prop::collection::vec(-2.0f64..2.0, 160),
    )
}

#[test]
fn fused_layers_agree_with_composed_ops_in_f64() {
    check(32, &strategy(), |(widths, act, seed, values)| {
        compare::<f64>(&widths, act, seed, &values, 1e-13)
    });
}

#[test]
fn fused_layers_agree_with_composed_ops_in_f32() {
    check(32, &strategy(), |(widths, act, seed, values)| {
        compare::<f32>(&widths, act, seed, &values, 2e-5)
    });
}
