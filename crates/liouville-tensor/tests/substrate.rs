//! The training substrate beyond (x, y) regression: two players with two optimisers stepping in
//! turn to a known saddle point, an externally computed gradient, target-less rows trained and
//! checkpointed through the typed config path, SympNets as volume-preserving bijections with
//! exact inverses, device-generic segment reductions, LayerNorm, the GRU cell and the piecewise
//! activations — each against an independent reference or finite differences.

use dfdx::prelude::*;
use liouville_tensor::bijection::{Bijection, Transformed};
use liouville_tensor::config::Configured;
use liouville_tensor::module::{Module, ParamMut, ParamRef};
use liouville_tensor::normalization::LayerNorm;
use liouville_tensor::optim::Optimizer;
use liouville_tensor::recurrent::GruCell;
use liouville_tensor::segment::{segment_max, segment_mean, segment_sum};
use liouville_tensor::shapes::{Matrix, Vector};
use liouville_tensor::sympnet::{GSympNet, LaSympNet};
use liouville_tensor::tape::Threaded;
use liouville_tensor::testing::{Entries, GradientCheck, check_parameter_gradients};
use liouville_tensor::train::{Loss, Rows, TrainConfig, Trainer, train};
use liouville_tensor::{Activation, TensorError, checkpoint, host};

type Dev = Cpu;

/// One trainable vector.
#[derive(Debug, Clone)]
struct Param(Vector<f64, Dev>);

impl Module<f64, Dev> for Param {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, f64, Dev>)> {
        vec![("value".into(), ParamRef::Vector(&self.0))]
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, f64, Dev>> {
        vec![ParamMut::Vector(&mut self.0)]
    }
}

fn param(values: &[f64]) -> Param {
    Param(host::vector(&Dev::default(), values.iter().copied()))
}

/// f(x, y) = xy + ε(x² − y²): x minimises, y maximises; the saddle is (0, 0).
struct Saddle {
    epsilon: f64,
    /// +1 for the minimising player x, −1 for y (who minimises −f).
    sign: f64,
}

impl Loss<f64, Dev, Param, f64> for Saddle {
    fn loss<T: Tape<f64, Dev> + Merge<T>>(
        &self,
        me: &Param,
        other: &f64,
        tape: T,
    ) -> Result<Tensor<(), f64, Dev, T>, TensorError> {
        let coupling = me.0.clone().put_tape(tape) * (self.sign * other);
        let own = me.0.retaped::<T>().square() * self.epsilon;
        Ok((coupling + own).sum())
    }
}

#[test]
fn two_players_alternating_reach_the_saddle_point() {
    let eps = 0.1;
    let (mut x, mut y) = (param(&[1.0]), param(&[-0.8]));
    let sgd = Optimizer::Sgd {
        momentum: 0.0,
        nesterov: false,
        weight_decay: 0.0,
    };
    let mut tx = Trainer::new(&x, sgd, 0.05).unwrap();
    let mut ty = Trainer::new(&y, Optimizer::adam(0.0), 0.01).unwrap();
    let value = |p: &Param| p.0.as_vec()[0];
    let f = |x: f64, y: f64| x * y + eps * (x * x - y * y);
    let start = (value(&x), value(&y));
    for _ in 0..3000 {
        // The "critic" y takes two steps per step of x (a GAN's k = 2).
        for _ in 0..2 {
            let xv = value(&x);
            ty.step(
                &mut y,
                &Saddle {
                    epsilon: eps,
                    sign: -1.0,
                },
                &xv,
            )
            .unwrap();
        }
        let yv = value(&y);
        tx.step(
            &mut x,
            &Saddle {
                epsilon: eps,
                sign: 1.0,
            },
            &yv,
        )
        .unwrap();
    }
    let (xe, ye) = (value(&x), value(&y));
    assert!(xe.abs() < 1e-2 && ye.abs() < 1e-2, "from {start:?} to ({xe}, {ye})");
    assert!(f(xe, ye).abs() < 1e-3);
    assert_eq!((tx.steps(), ty.steps()), (3000, 6000));
    // Without the ascent player the minimiser alone runs off to x = −y/(2ε), not the saddle.
    let mut lone = param(&[1.0]);
    let mut t = Trainer::new(&lone, sgd, 0.05).unwrap();
    for _ in 0..2000 {
        t.step(
            &mut lone,
            &Saddle {
                epsilon: eps,
                sign: 1.0,
            },
            &-0.8,
        )
        .unwrap();
    }
    assert!((value(&lone) - 4.0).abs() < 1e-3, "{}", value(&lone));
}

/// Half the squared distance to a target, with its gradient written by hand.
struct ToTarget(Vec<f64>);

impl Loss<f64, Dev, Param, ()> for ToTarget {
    fn loss<T: Tape<f64, Dev> + Merge<T>>(
        &self,
        p: &Param,
        _: &(),
        tape: T,
    ) -> Result<Tensor<(), f64, Dev, T>, TensorError> {
        let t = host::vector(p.0.device(), self.0.iter().copied());
        Ok(((p.0.clone().put_tape(tape) - t).square() * 0.5).sum())
    }
}

#[test]
fn an_external_gradient_steps_exactly_like_the_taped_one() {
    let target = vec![0.5, -2.0, 3.0];
    let (mut a, mut b) = (param(&[0.0, 0.0, 0.0]), param(&[0.0, 0.0, 0.0]));
    let mut ta = Trainer::new(&a, Optimizer::adam(0.0), 0.1).unwrap().with_clip(10.0);
    let mut tb = ta.clone();
    for _ in 0..200 {
        ta.step(&mut a, &ToTarget(target.clone()), &()).unwrap();
        let g: Vec<f64> = b.0.as_vec().iter().zip(&target).map(|(v, t)| v - t).collect();
        tb.apply_external(&mut b, &[g]).unwrap();
    }
    assert_eq!(a.0.as_vec(), b.0.as_vec(), "external and taped gradients diverged");
    for (v, t) in b.0.as_vec().iter().zip(&target) {
        assert!((v - t).abs() < 1e-3, "{v} vs {t}");
    }
    // A gradient of the wrong shape is a typed error, and a non-finite one stops the step.
    assert!(matches!(
        tb.apply_external(&mut b, &[vec![1.0]]),
        Err(TensorError::ShapeMismatch(_))
    ));
    let before = b.0.as_vec();
    assert!(matches!(
        tb.apply_external(&mut b, &[vec![f64::NAN, 0.0, 0.0]]),
        Err(TensorError::NonFinite { what: "gradient", .. })
    ));
    assert_eq!(b.0.as_vec(), before);
}

#[test]
fn host_gradient_buffers_equal_the_surrogate_backward() {
    // On the CPU `surrogate::gradients` copies into the buffers; the surrogate's backward is the
    // path of every other device. Both must hand the optimiser the same numbers.
    let p = param(&[0.3, -1.0, 2.0]);
    let g = vec![0.25, -4.0, 1e-3];
    let copied = liouville_tensor::surrogate::gradients(&p, std::slice::from_ref(&g)).unwrap();
    let taped = liouville_tensor::surrogate::with_gradient(&p, std::slice::from_ref(&g), 0.0, OwnedTape::default())
        .unwrap()
        .backward();
    assert_eq!(copied.get(&p.0).as_vec(), g);
    assert_eq!(taped.get(&p.0).as_vec(), g);
    assert!(matches!(
        liouville_tensor::surrogate::gradients(&p, &[vec![1.0, 2.0]]),
        Err(TensorError::ShapeMismatch(_))
    ));
}

/// A diagonal Gaussian density N(μ, diag σ²) with σ = e^s: the simplest target-less model.
#[derive(Debug, Clone)]
struct Gaussian {
    mean: Vector<f64, Dev>,
    log_std: Vector<f64, Dev>,
}

impl Module<f64, Dev> for Gaussian {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, f64, Dev>)> {
        vec![
            ("mean".into(), ParamRef::Vector(&self.mean)),
            ("log_std".into(), ParamRef::Vector(&self.log_std)),
        ]
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, f64, Dev>> {
        vec![ParamMut::Vector(&mut self.mean), ParamMut::Vector(&mut self.log_std)]
    }
}

impl Configured<f64, Dev> for Gaussian {
    const KIND: &'static str = "test_gaussian";
    type Config = usize;
    fn config(&self) -> usize {
        self.mean.shape().0
    }
    fn from_config(dim: &usize, device: &Dev, _seed: u64) -> Result<Self, TensorError> {
        Ok(Self {
            mean: device.zeros_like(&(*dim,)),
            log_std: device.zeros_like(&(*dim,)),
        })
    }
}

/// Negative log-likelihood per row (without the constant).
struct Nll;

impl Loss<f64, Dev, Gaussian, Matrix<f64, Dev>> for Nll {
    fn loss<T: Tape<f64, Dev> + Merge<T>>(
        &self,
        g: &Gaussian,
        x: &Matrix<f64, Dev>,
        tape: T,
    ) -> Result<Tensor<(), f64, Dev, T>, TensorError> {
        let shape = *x.shape();
        let z = (x.clone().put_tape(tape) - g.mean.retaped::<T>().broadcast_like::<_, Axis<0>>(&shape))
            * g.log_std
                .retaped::<T>()
                .negate()
                .exp()
                .broadcast_like::<_, Axis<0>>(&shape);
        let per_row = (z.square() * 0.5).sum::<(usize,), Axis<1>>()
            + g.log_std.retaped::<T>().sum::<(), _>().broadcast_like(&(shape.0,));
        Ok(per_row.mean())
    }
}

#[test]
fn target_less_rows_train_validate_and_checkpoint_through_the_config_path() {
    let mut rng = liouville_base::random::Rng::stream(3, 0);
    let (mu, sigma) = ([1.5, -0.5], [0.5, 2.0]);
    let values: Vec<f64> = (0..4000)
        .flat_map(|_| [mu[0] + sigma[0] * rng.normal(), mu[1] + sigma[1] * rng.normal()])
        .collect();
    let data = Rows::new(values, 2).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let best = dir.path().join("best.safetensors");
    let mut model = Gaussian::from_config(&2, &Dev::default(), 0).unwrap();
    let cfg = TrainConfig {
        steps: 1500,
        batch_size: 128,
        learning_rate: 0.03,
        validation_fraction: 0.2,
        eval_every: 100,
        checkpoint: Some(best.clone()),
        ..TrainConfig::default()
    };
    let report = train(&mut model, &data, &Nll, &cfg).unwrap();
    assert!(!report.validation_curve.is_empty());
    let m = model.mean.as_vec();
    let s: Vec<f64> = model.log_std.as_vec().iter().map(|v| v.exp()).collect();
    for k in 0..2 {
        assert!((m[k] - mu[k]).abs() < 0.1, "mean {m:?}");
        assert!((s[k] - sigma[k]).abs() < 0.1 * sigma[k], "std {s:?}");
    }
    let (back, header): (Gaussian, _) = checkpoint::load(&Dev::default(), &best).unwrap();
    assert_eq!(header.kind, "test_gaussian");
    assert!(header.step.is_some() && header.loss.is_some());
    assert!((back.mean.as_vec()[0] - mu[0]).abs() < 0.2);
    // Another kind is refused by name.
    match checkpoint::load::<f64, Dev, liouville_tensor::Mlp<f64, Dev>>(&Dev::default(), &best) {
        Err(TensorError::CheckpointMismatch {
            field, expected, found, ..
        }) => {
            assert_eq!(
                (field.as_str(), expected.as_str(), found.as_str()),
                ("kind", "mlp", "test_gaussian")
            )
        }
        other => panic!("{other:?}"),
    }
}

fn rows(n: usize, cols: usize, phase: f64) -> Matrix<f64, Dev> {
    host::matrix(
        &Dev::default(),
        (0..n * cols).map(|i| (i as f64 * 0.71 + phase).sin() * 1.5),
        n,
        cols,
    )
}

#[test]
fn sympnets_are_volume_preserving_bijections_with_exact_inverses() {
    let dev = Dev::default();
    let la = LaSympNet::<f64, Dev>::new(&dev, 2, 3, 2, Activation::Tanh, 4).unwrap();
    let g = GSympNet::<f64, Dev>::new(&dev, 2, 4, 8, Activation::Sigmoid, 5).unwrap();
    let x = rows(6, 4, 0.3);
    let check = |map: &Forward, inv: &Inverse| {
        let (y, log_det) = map(&x);
        assert!(log_det.as_vec().iter().all(|&v| v == 0.0));
        let back = inv(&y);
        let err = x
            .as_vec()
            .iter()
            .zip(back.as_vec())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(err < 1e-12, "inverse error {err}");
        let moved = x
            .as_vec()
            .iter()
            .zip(y.as_vec())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(moved > 1e-3, "the map is the identity");
        // Volume: det of the finite-difference Jacobian at one row is 1.
        let x0 = x.as_vec()[..4].to_vec();
        let h = 1e-6;
        let mut jac = [[0.0; 4]; 4];
        for j in 0..4 {
            let mut plus = x0.clone();
            let mut minus = x0.clone();
            plus[j] += h;
            minus[j] -= h;
            let (yp, _) = map(&host::matrix(&Dev::default(), plus, 1, 4));
            let (ym, _) = map(&host::matrix(&Dev::default(), minus, 1, 4));
            for i in 0..4 {
                jac[i][j] = (yp.as_vec()[i] - ym.as_vec()[i]) / (2.0 * h);
            }
        }
        let det = det4(jac);
        assert!((det - 1.0).abs() < 1e-7, "det J = {det}");
    };
    check(&|x| la.apply(x).unwrap(), &|y| la.invert(y).unwrap().0);
    check(&|x| g.apply(x).unwrap(), &|y| g.invert(y).unwrap().0);
    assert!(la.apply(&rows(2, 3, 0.0)).is_err());
}

/// A map with its log-determinant, and an inverse, on a batch.
type Forward<'a> = dyn Fn(&Matrix<f64, Dev>) -> Transformed<f64, Dev> + 'a;
type Inverse<'a> = dyn Fn(&Matrix<f64, Dev>) -> Matrix<f64, Dev> + 'a;

fn det4(m: [[f64; 4]; 4]) -> f64 {
    let mut a = m;
    let mut det = 1.0;
    for c in 0..4 {
        let p = (c..4).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs())).unwrap();
        if p != c {
            a.swap(p, c);
            det = -det;
        }
        det *= a[c][c];
        for r in c + 1..4 {
            let f = a[r][c] / a[c][c];
            for k in c..4 {
                a[r][k] -= f * a[c][k];
            }
        }
    }
    det
}

/// A segment reduction.
#[derive(Clone, Copy, Debug)]
enum Reduction {
    Sum,
    Mean,
    Max,
}

impl Reduction {
    fn apply<T: Tape<f64, Dev>>(
        self,
        x: Matrix<f64, Dev, T>,
        ids: &[usize],
        segments: usize,
    ) -> Result<Matrix<f64, Dev, T>, TensorError> {
        match self {
            Reduction::Sum => segment_sum(x, ids, segments),
            Reduction::Mean => segment_mean(x, ids, segments),
            Reduction::Max => segment_max(x, ids, segments),
        }
    }
    /// The host reference of one segment's values (non-empty).
    fn reference(self, m: &[f64]) -> f64 {
        match self {
            Reduction::Sum => m.iter().sum(),
            Reduction::Mean => m.iter().sum::<f64>() / m.len() as f64,
            Reduction::Max => m.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

/// The reduction's input as a trainable matrix, so tensor's finite-difference check applies.
#[derive(Debug, Clone)]
struct Input(Matrix<f64, Dev>);

impl Module<f64, Dev> for Input {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, f64, Dev>)> {
        vec![("x".into(), ParamRef::Matrix(&self.0))]
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, f64, Dev>> {
        vec![ParamMut::Matrix(&mut self.0)]
    }
}

/// Σ w ⊙ reduction(x) for fixed weights w.
struct Weighted {
    reduction: Reduction,
    ids: Vec<usize>,
    segments: usize,
    weights: Matrix<f64, Dev>,
}

impl Loss<f64, Dev, Input, ()> for Weighted {
    fn loss<T: Tape<f64, Dev> + Merge<T>>(
        &self,
        x: &Input,
        _: &(),
        tape: T,
    ) -> Result<Tensor<(), f64, Dev, T>, TensorError> {
        let out = self
            .reduction
            .apply(x.0.clone().put_tape(tape), &self.ids, self.segments)?;
        Ok((out * self.weights.clone()).sum())
    }
}

/// Checks a reduction against a host reference and its input gradient against finite
/// differences of every entry.
fn check_segment(reduction: Reduction) {
    let (rows, features, segments) = (9, 3, 5);
    let ids = vec![0, 2, 2, 4, 0, 2, 4, 4, 4]; // segments 1 and 3 empty
    let x = rows_matrix(rows, features);
    let out = reduction.apply(x.clone(), &ids, segments).unwrap().as_vec();
    let xv = x.as_vec();
    for s in 0..segments {
        for f in 0..features {
            let members: Vec<f64> = (0..rows)
                .filter(|&e| ids[e] == s)
                .map(|e| xv[e * features + f])
                .collect();
            let want = if members.is_empty() {
                0.0
            } else {
                reduction.reference(&members)
            };
            assert!(
                (out[s * features + f] - want).abs() < 1e-12,
                "{reduction:?} [{s},{f}]: {} vs {want}",
                out[s * features + f]
            );
        }
    }
    let loss = Weighted {
        reduction,
        ids: ids.clone(),
        segments,
        weights: host::matrix(
            &Dev::default(),
            (0..segments * features).map(|i| (i as f64 * 0.37).cos()),
            segments,
            features,
        ),
    };
    let check = GradientCheck {
        entries: Entries::All,
        floor: 1e-3,
        ..GradientCheck::default()
    };
    let report = check_parameter_gradients(&mut Input(x.clone()), &loss, &(), check).unwrap();
    assert!(report.worst < 1e-7, "{reduction:?}: {report:?}");
    // Bad ids are typed errors.
    assert!(reduction.apply(x.clone(), &ids[..3], segments).is_err());
    assert!(reduction.apply(x, &[7; 9], segments).is_err());
}

fn rows_matrix(rows: usize, features: usize) -> Matrix<f64, Dev> {
    // Distinct values, so maxima are unique and FD of the max is well defined.
    host::matrix(
        &Dev::default(),
        (0..rows * features).map(|i| ((i * 7919) % 97) as f64 / 13.0 - 3.0),
        rows,
        features,
    )
}

#[test]
fn segment_sum_mean_and_max_match_references_and_finite_differences() {
    for reduction in [Reduction::Sum, Reduction::Mean, Reduction::Max] {
        // The host scatter pass (sum, mean) and the padded-gather path every device has.
        check_segment(reduction);
        liouville_tensor::fused::composed(|| check_segment(reduction));
    }
}

/// A taped matrix on the CPU.
type Taped = Matrix<f64, Dev, OwnedTape<f64, Dev>>;

/// Values and input gradients of `f(x)` weighted by `c`, on the host kernels and on the
/// composed dfdx path.
fn host_and_composed(x: &Matrix<f64, Dev>, f: &dyn Fn(Taped) -> Taped) -> [(Vec<f64>, Vec<f64>); 2] {
    let run = || {
        let out = f(x.clone().leaky_trace());
        let (out, tape) = out.split_tape();
        let c = host::matrix(
            &Dev::default(),
            (0..out.shape().0 * out.shape().1).map(|i| (i as f64 * 0.61).sin()),
            out.shape().0,
            out.shape().1,
        );
        let grads = (out.clone().put_tape(tape) * c).sum::<(), _>().backward();
        (out.as_vec(), grads.get(x).as_vec())
    };
    [run(), liouville_tensor::fused::composed(run)]
}

#[test]
fn host_segment_sums_and_concat_agree_with_the_composed_path_on_permuted_inputs() {
    let dev = Dev::default();
    // A transposed [5, 9] matrix: logically [9, 5] rows, not stored row-major.
    let stored = host::matrix(&dev, (0..45).map(|i| ((i * 31) % 17) as f64 - 8.0), 5, 9);
    let x: Matrix<f64, Dev> = stored.permute::<_, Axes2<1, 0>>();
    let ids = [3usize, 0, 0, 3, 1, 3, 0, 1, 1];
    for (name, f) in [
        ("sum", &(|x| segment_sum(x, &ids, 4).unwrap()) as &dyn Fn(_) -> _),
        ("mean", &|x| segment_mean(x, &ids, 4).unwrap()),
        ("concat", &|x: Taped| {
            let (x, tape) = x.split_tape();
            let mut tp = Threaded::new(tape);
            let a = tp.step(|t| x.clone().put_tape(t) * 2.0);
            let out = liouville_tensor::columns::concat(&mut tp, &[&x, &a, &x]);
            tp.finish(out)
        }),
    ] {
        let [(v_host, g_host), (v_ref, g_ref)] = host_and_composed(&x, f);
        assert_eq!(v_host.len(), v_ref.len(), "{name}");
        for (a, b) in v_host.iter().zip(&v_ref).chain(g_host.iter().zip(&g_ref)) {
            assert!((a - b).abs() < 1e-12, "{name}: host {a} vs composed {b}");
        }
        assert!(g_host.iter().any(|&g| g != 0.0), "{name}: no gradient reached x");
    }
}

/// Σ c ⊙ LayerNorm(x) for fixed c: a scalar of the LayerNorm's parameters.
struct NormLoss(Matrix<f64, Dev>, Matrix<f64, Dev>);

impl Loss<f64, Dev, LayerNorm<f64, Dev>, ()> for NormLoss {
    fn loss<T: Tape<f64, Dev> + Merge<T>>(
        &self,
        ln: &LayerNorm<f64, Dev>,
        _: &(),
        tape: T,
    ) -> Result<Tensor<(), f64, Dev, T>, TensorError> {
        Ok((ln.forward(self.0.clone().put_tape(tape))? * self.1.clone()).sum())
    }
}

#[test]
fn layer_norm_standardises_rows_and_its_derivatives_match_finite_differences() {
    let dev = Dev::default();
    let mut ln = LayerNorm::<f64, Dev>::new(&dev, 4).unwrap();
    ln.scale = host::vector(&dev, [1.5, 0.5, -1.0, 2.0]);
    ln.shift = host::vector(&dev, [0.1, 0.2, 0.3, 0.4]);
    let x = rows(3, 4, 0.2);
    let y = ln.forward(x.clone()).unwrap().as_vec();
    let xv = x.as_vec();
    for r in 0..3 {
        let row = &xv[r * 4..r * 4 + 4];
        let mean = row.iter().sum::<f64>() / 4.0;
        let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 4.0;
        for k in 0..4 {
            let want = [1.5, 0.5, -1.0, 2.0][k] * (row[k] - mean) / (var + 1e-5).sqrt() + [0.1, 0.2, 0.3, 0.4][k];
            assert!((y[r * 4 + k] - want).abs() < 1e-12);
        }
    }
    let c = rows(3, 4, 1.1);
    let report = check_parameter_gradients(
        &mut ln,
        &NormLoss(x.clone(), c.clone()),
        &(),
        GradientCheck {
            entries: Entries::All,
            ..GradientCheck::default()
        },
    )
    .unwrap();
    assert!(report.worst < 1e-7, "{report:?}");
    // The input VJP against finite differences of Σ c ⊙ y.
    let mut tp = Threaded::new(NoneTape);
    let n = ln.normalise(&mut tp, &x).unwrap();
    let vjp = ln.vjp(&mut tp, &n, &c).as_vec();
    let h = 1e-6;
    for i in 0..12 {
        let at = |d: f64| {
            let mut v = xv.clone();
            v[i] += d;
            (ln.forward(host::matrix(&dev, v, 3, 4)).unwrap() * c.clone())
                .sum::<(), _>()
                .as_vec()[0]
        };
        let fd = (at(h) - at(-h)) / (2.0 * h);
        assert!((fd - vjp[i]).abs() < 1e-7, "x[{i}]: {} vs {fd}", vjp[i]);
    }
}

/// Σ c ⊙ GRU(x, h) for fixed inputs.
struct GruLoss(Matrix<f64, Dev>, Matrix<f64, Dev>, Matrix<f64, Dev>);

impl Loss<f64, Dev, GruCell<f64, Dev>, ()> for GruLoss {
    fn loss<T: Tape<f64, Dev> + Merge<T>>(
        &self,
        cell: &GruCell<f64, Dev>,
        _: &(),
        tape: T,
    ) -> Result<Tensor<(), f64, Dev, T>, TensorError> {
        let mut tp = Threaded::new(tape);
        let h = cell.step(&mut tp, &self.0, &self.1)?;
        let c = self.2.clone();
        let l = tp.step(|t| (h.put_tape(t) * c).sum());
        Ok(tp.finish(l))
    }
}

#[test]
fn gru_cell_follows_pytorch_equations_and_its_gradients_match_finite_differences() {
    let dev = Dev::default();
    let mut cell = GruCell::<f64, Dev>::new(&dev, 3, 2, 11).unwrap();
    let (x, h) = (rows(4, 3, 0.5), rows(4, 2, 2.0));
    let out = cell.step(&mut Threaded::new(NoneTape), &x, &h).unwrap().as_vec();
    // Reference: the equations evaluated entry by entry on the host.
    let (w, u, bi, bh) = (
        cell.input_weight.as_vec(),
        cell.hidden_weight.as_vec(),
        cell.input_bias.as_vec(),
        cell.hidden_bias.as_vec(),
    );
    let (xv, hv) = (x.as_vec(), h.as_vec());
    let sig = |z: f64| 1.0 / (1.0 + (-z).exp());
    for r in 0..4 {
        let gi = |j: usize| (0..3).map(|i| xv[r * 3 + i] * w[i * 6 + j]).sum::<f64>() + bi[j];
        let gh = |j: usize| (0..2).map(|i| hv[r * 2 + i] * u[i * 6 + j]).sum::<f64>() + bh[j];
        for k in 0..2 {
            let rg = sig(gi(k) + gh(k));
            let zg = sig(gi(2 + k) + gh(2 + k));
            let ng = (gi(4 + k) + rg * gh(4 + k)).tanh();
            let want = (1.0 - zg) * ng + zg * hv[r * 2 + k];
            assert!(
                (out[r * 2 + k] - want).abs() < 1e-12,
                "row {r} unit {k}: {} vs {want}",
                out[r * 2 + k]
            );
        }
    }
    let report = check_parameter_gradients(
        &mut cell,
        &GruLoss(x, h, rows(4, 2, 0.9)),
        &(),
        GradientCheck {
            entries: Entries::All,
            ..GradientCheck::default()
        },
    )
    .unwrap();
    assert!(report.worst < 1e-7, "{report:?}");
    assert!(
        cell.step(&mut Threaded::new(NoneTape), &rows(4, 2, 0.0), &rows(4, 2, 0.0))
            .is_err()
    );
}

#[test]
fn piecewise_activations_have_the_right_first_and_second_derivatives_away_from_zero() {
    let dev = Dev::default();
    let z = host::vector(&dev, [-2.0, -0.7, -0.1, 0.1, 0.6, 1.9]);
    for act in [Activation::Relu, Activation::Elu, Activation::LeakyRelu] {
        let v = act.value(z.clone()).as_vec();
        let d1 = act.first(z.clone()).as_vec();
        let d2 = act.second(z.clone()).as_vec();
        let h = 1e-6;
        for (i, &zi) in z.as_vec().iter().enumerate() {
            let f = |x: f64| -> f64 { act.value(host::vector::<f64, Dev>(&dev, [x])).as_vec()[0] };
            let g = |x: f64| -> f64 { act.first(host::vector::<f64, Dev>(&dev, [x])).as_vec()[0] };
            assert!((f(zi) - v[i]).abs() < 1e-15);
            assert!(
                ((f(zi + h) - f(zi - h)) / (2.0 * h) - d1[i]).abs() < 1e-7,
                "{act:?} σ' at {zi}"
            );
            assert!(
                ((g(zi + h) - g(zi - h)) / (2.0 * h) - d2[i]).abs() < 1e-7,
                "{act:?} σ'' at {zi}"
            );
        }
        assert_eq!(Activation::parse(act.name()), Some(act));
    }
    assert_eq!(Activation::ALL.len(), 7);
}
