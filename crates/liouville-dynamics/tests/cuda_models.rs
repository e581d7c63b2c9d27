//! Every dynamics model on a GPU: built from its typed config on `Cuda`, it predicts what the same
//! model on the CPU predicts (same seed, same weights), trains, and its checkpoint loads on the
//! other device. Compiled only with `--features cuda`; CI type-checks it without a GPU
//! (`cargo check --tests --features cuda,ci-check`), which instantiates every model for `Cuda`.
#![cfg(feature = "cuda")]

use liouville_dynamics::delan::Delan;
use liouville_dynamics::models::{
    Baseline, DissipativeHnn, DissipativeHnnConfig, DynamicsModel, FieldConfig, Hnn, Lnn, LnnConfig,
};
use liouville_dynamics::neural_ode::{LeapfrogOde, NeuralOde, NeuralOdeConfig, OdeGradient};
use liouville_dynamics::srnn::{LeapfrogConfig, Srnn};
use liouville_dynamics::sympnet::{SympNetArchitecture, SympNetConfig, SympNetModel};
use liouville_tensor::Activation;
use liouville_tensor::checkpoint;
use liouville_tensor::config::Configured;
use liouville_tensor::device::{Cpu, Cuda};
use liouville_tensor::sympnet::GSympNetConfig;
use liouville_tensor::train::{Examples, TrainConfig};
use ndarray::Array2;

fn states(rows: usize, cols: usize) -> Array2<f64> {
    Array2::from_shape_fn((rows, cols), |(r, c)| ((r * cols + c) as f64 * 0.37).sin())
}

fn data(input: usize, target: usize) -> Examples {
    let x = states(64, input);
    let y = states(64, target).mapv(|v| 0.5 * v);
    Examples::new(
        x.into_raw_vec_and_offset().0,
        input,
        y.into_raw_vec_and_offset().0,
        target,
    )
    .unwrap()
}

fn max_diff(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

/// CPU and GPU copies of one model: same predictions, both train, checkpoints cross devices.
macro_rules! check_model {
    ($ty:ident, $config:expr, $dim:expr, $target:expr) => {{
        let config = $config;
        let (cpu, gpu) = (Cpu::default(), Cuda::default());
        let mut on_cpu = <$ty<f32, Cpu>>::from_config(&config, &cpu, 3).unwrap();
        let mut on_gpu = <$ty<f32, Cuda>>::from_config(&config, &gpu, 3).unwrap();
        let x = states(16, $dim);
        let (fc, fg) = (on_cpu.field(x.view()).unwrap(), on_gpu.field(x.view()).unwrap());
        assert!(
            max_diff(&fc, &fg) < 1e-4,
            "{}: CPU vs GPU field {}",
            stringify!($ty),
            max_diff(&fc, &fg)
        );
        let cfg = TrainConfig {
            steps: 5,
            batch_size: 32,
            ..TrainConfig::default()
        };
        let d = data($dim, $target);
        on_cpu.fit(&d, &cfg).unwrap();
        on_gpu.fit(&d, &cfg).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        on_gpu.save(&path).unwrap();
        let (back, _): ($ty<f32, Cpu>, _) = checkpoint::load(&cpu, &path).unwrap();
        let (fg, fb) = (on_gpu.field(x.view()).unwrap(), back.field(x.view()).unwrap());
        assert!(
            max_diff(&fg, &fb) < 1e-5,
            "{}: GPU checkpoint on the CPU {}",
            stringify!($ty),
            max_diff(&fg, &fb)
        );
        let (fc, fg) = (on_cpu.field(x.view()).unwrap(), fg);
        assert!(
            max_diff(&fc, &fg) < 1e-3,
            "{}: after training, CPU vs GPU {}",
            stringify!($ty),
            max_diff(&fc, &fg)
        );
    }};
}

#[test]
fn every_model_runs_trains_and_checkpoints_on_the_gpu() {
    let field = |dim| FieldConfig::new(dim, &[16, 16]);
    check_model!(Baseline, field(2), 2, 2);
    check_model!(Hnn, field(2), 2, 2);
    check_model!(
        DissipativeHnn,
        DissipativeHnnConfig {
            dim: 2,
            hidden: vec![16],
            inputs: 0
        },
        2,
        2
    );
    check_model!(
        Lnn,
        LnnConfig {
            dim: 2,
            hidden: vec![16],
            kinetic_prior: true
        },
        2,
        2
    );
    check_model!(Delan, field(2), 2, 2);
    let leapfrog = LeapfrogConfig {
        dim: 2,
        hidden: vec![16],
        interval: 0.1,
        substeps: 2,
    };
    check_model!(Srnn, leapfrog.clone(), 2, 6);
    check_model!(LeapfrogOde, leapfrog, 2, 6);
    for gradient in [OdeGradient::Backprop, OdeGradient::Adjoint] {
        check_model!(
            NeuralOde,
            NeuralOdeConfig {
                dim: 2,
                hidden: vec![16],
                interval: 0.1,
                substeps: 2,
                gradient
            },
            2,
            6
        );
    }
}

#[test]
fn sympnet_flow_maps_agree_between_cpu_and_gpu() {
    let config = SympNetConfig {
        architecture: SympNetArchitecture::G(GSympNetConfig {
            dof: 1,
            layers: 4,
            width: 8,
            activation: Activation::Tanh,
        }),
        dt: 0.1,
    };
    let cpu = SympNetModel::<Cpu>::from_config(&config, &Cpu::default(), 1).unwrap();
    let gpu = SympNetModel::<Cuda>::from_config(&config, &Cuda::default(), 1).unwrap();
    let x = states(8, 2);
    let (a, b) = (cpu.rollout(x.view(), 50).unwrap(), gpu.rollout(x.view(), 50).unwrap());
    let diff = a.iter().zip(&b).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max);
    assert!(diff < 1e-10, "rollouts differ by {diff}");
}
