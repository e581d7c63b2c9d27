//! Acceptance 5 on a GPU: the same HNN loss and gradients on CUDA as on the CPU (f64), and the
//! input gradient against finite differences on the device. Compiled only with `--features cuda`;
//! CI type-checks it with dfdx's `ci-check` (`cargo check --tests --features cuda,ci-check`).
#![cfg(feature = "cuda")]

use dfdx::prelude::*;
use liouville_tensor::device::Cuda;
use liouville_tensor::losses::hnn_loss;
use liouville_tensor::{Activation, Init, Mlp};

#[test]
fn hnn_loss_and_gradients_agree_between_cpu_and_cuda() {
    let cpu = Cpu::default();
    let gpu = Cuda::default();
    let xs: Vec<f64> = (0..64).map(|i| (i as f64 * 0.37).sin()).collect();
    let ys: Vec<f64> = (0..64).map(|i| (i as f64 * 0.11).cos()).collect();
    let m_cpu = Mlp::<f64, Cpu>::new(&cpu, &[2, 32, 32, 1], Activation::Tanh, Init::Orthogonal, 7).unwrap();
    let m_gpu = Mlp::<f64, Cuda>::from_parameters(
        Activation::Tanh,
        m_cpu
            .weights
            .iter()
            .map(|w| gpu.tensor_from_vec(w.as_vec(), *w.shape()))
            .collect(),
        m_cpu
            .biases
            .iter()
            .map(|b| gpu.tensor_from_vec(b.as_vec(), *b.shape()))
            .collect(),
    )
    .unwrap();
    let (xc, yc) = (
        cpu.tensor_from_vec(xs.clone(), (32, 2)),
        cpu.tensor_from_vec(ys.clone(), (32, 2)),
    );
    let (xg, yg) = (gpu.tensor_from_vec(xs, (32, 2)), gpu.tensor_from_vec(ys, (32, 2)));
    let lc = hnn_loss(&m_cpu, &xc, &yc, OwnedTape::default()).unwrap();
    let lg = hnn_loss(&m_gpu, &xg, &yg, OwnedTape::default()).unwrap();
    let (vc, vg) = (lc.as_vec()[0], lg.as_vec()[0]);
    assert!((vc - vg).abs() < 1e-12 * vc.abs().max(1.0), "{vc} vs {vg}");
    let (gc, gg) = (lc.backward(), lg.backward());
    for l in 0..3 {
        let (a, b) = (gc.get(&m_cpu.weights[l]).as_vec(), gg.get(&m_gpu.weights[l]).as_vec());
        let worst = a
            .iter()
            .zip(&b)
            .map(|(a, b)| (a - b).abs() / a.abs().max(1e-3))
            .fold(0.0, f64::max);
        assert!(worst < 1e-10, "layer {l}: {worst:e}");
    }
    // Input gradient on the device against central differences.
    let d = m_gpu.energy_derivatives(&xg, &[], NoneTape).unwrap().gradient.as_vec();
    let x0 = xg.as_vec();
    for k in 0..2 {
        let shifted = |delta: f64| {
            let mut p = x0.clone();
            for r in 0..32 {
                p[r * 2 + k] += delta;
            }
            m_gpu
                .energy_derivatives(&gpu.tensor_from_vec(p, (32, 2)), &[], NoneTape)
                .unwrap()
                .value
                .as_vec()
        };
        let (up, down) = (shifted(1e-6), shifted(-1e-6));
        for r in 0..32 {
            let fd = (up[r] - down[r]) / 2e-6;
            assert!((fd - d[r * 2 + k]).abs() / fd.abs().max(1e-3) < 1e-6);
        }
    }
}

/// Σ w ⊙ reduction(x) for reduction `op` (sum, mean, max) on `dev`, and its gradient in x.
fn reduce<D: Device<f64>>(dev: &D, op: usize, ids: &[usize], values: &[f64], weights: &[f64]) -> (f64, Vec<f64>) {
    use liouville_tensor::segment::{segment_max, segment_mean, segment_sum};
    let x = dev.tensor_from_vec(values.to_vec(), (9, 3));
    let xt = x.leaky_trace();
    let out = match op {
        0 => segment_sum(xt, ids, 5),
        1 => segment_mean(xt, ids, 5),
        _ => segment_max(xt, ids, 5),
    }
    .unwrap();
    let l = (out * dev.tensor_from_vec(weights.to_vec(), (5, 3))).sum::<(), _>();
    let v = l.as_vec()[0];
    (v, l.backward().get(&x).as_vec())
}

/// Segment sum, mean and max (and their gradients) agree between the CPU and the GPU.
#[test]
fn segment_reductions_agree_between_cpu_and_cuda() {
    let (cpu, gpu) = (Cpu::default(), Cuda::default());
    let ids = [0, 2, 2, 4, 0, 2, 4, 4, 4];
    let values: Vec<f64> = (0..27).map(|i| ((i * 7919) % 97) as f64 / 13.0 - 3.0).collect();
    let weights: Vec<f64> = (0..15).map(|i| (i as f64 * 0.37).cos()).collect();
    for op in 0..3 {
        let (run_cpu, run_gpu) = (
            reduce(&cpu, op, &ids, &values, &weights),
            reduce(&gpu, op, &ids, &values, &weights),
        );
        assert!(
            (run_cpu.0 - run_gpu.0).abs() < 1e-12,
            "op {op}: {} vs {}",
            run_cpu.0,
            run_gpu.0
        );
        for (a, b) in run_cpu.1.iter().zip(&run_gpu.1) {
            assert!((a - b).abs() < 1e-12, "op {op} gradient: {a} vs {b}");
        }
    }
}
