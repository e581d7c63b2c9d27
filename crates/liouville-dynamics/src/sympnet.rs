//! SympNets (Jin, Zhang, Zhu, Tang, Karniadakis 2020): learned maps that are symplectic by
//! construction, for learning a Hamiltonian flow map x_n → x_{n+1} from trajectory data.
//!
//! On rows `[q, p]` (d each) every module is a shear with a symmetric Jacobian block, hence
//! symplectic, and so is their composition. LA-SympNets ([`LaSympNet`]) use
//!
//! - linear "up": p ← p + S q, "low": q ← q + S p, with S = A + Aᵀ symmetric;
//! - activation "up": p ← p + a ⊙ σ(q), "low": q ← q + a ⊙ σ(p) (∂/∂q of a ⊙ σ(q) is diagonal).
//!
//! A layer is `sublayers` alternating linear shears followed by one activation shear; layers
//! alternate up/low; a final bias translation keeps the map symplectic. G-SympNets
//! ([`GSympNet`]) use gradient modules
//!
//! - "up": p ← p + Kᵀ(a ⊙ σ(Kq + b)), "low": q ← q + Kᵀ(a ⊙ σ(Kp + b)), K ∈ ℝ^{w×d},
//!
//! whose Jacobian block Kᵀ diag(a ⊙ σ′) K is symmetric (the shear is the gradient of
//! Σ aᵢ ∫σ(Kq + b)ᵢ). [`SympNetModel`] wraps either as a trainable, saveable flow map of step Δ
//! whose rollouts iterate the map.

use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::mlp::{Matrix, Vector};
use liouville_tensor::module::{Module, ParamMut, ParamRef};
use liouville_tensor::tape::Threaded;
use liouville_tensor::train::{Examples, Loss, TrainConfig, TrainReport, train};
use liouville_tensor::{Activation, Real, TensorError};

/// An LA-SympNet on `2·dof`-dimensional states, on any device.
#[derive(Debug, Clone)]
pub struct LaSympNet<E: Real, D: Device<E>> {
    dof: usize,
    activation: Activation,
    /// Per layer: the `sublayers` matrices A (S = A + Aᵀ) and the activation weights a.
    linear: Vec<Vec<Matrix<E, D>>>,
    scales: Vec<Vector<E, D>>,
    bias: Vector<E, D>,
}

impl<E: Real, D: Device<E>> LaSympNet<E, D> {
    /// `layers` layers of `sublayers` linear shears each, small random initial weights (seeded).
    pub fn new(
        device: &D,
        dof: usize,
        layers: usize,
        sublayers: usize,
        activation: Activation,
        seed: u64,
    ) -> Result<Self, TensorError> {
        if dof == 0 || layers == 0 || sublayers == 0 {
            return Err(TensorError::InvalidConfig(
                "a SympNet needs dof, layers and sublayers >= 1".into(),
            ));
        }
        let dev = device.clone();
        let mut state = seed ^ 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            E::of(((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.2)
        };
        let linear = (0..layers)
            .map(|_| {
                (0..sublayers)
                    .map(|_| dev.tensor_from_vec((0..dof * dof).map(|_| next()).collect(), (dof, dof)))
                    .collect()
            })
            .collect();
        let scales = (0..layers)
            .map(|_| dev.tensor_from_vec((0..dof).map(|_| next()).collect(), (dof,)))
            .collect();
        Ok(Self {
            dof,
            activation,
            linear,
            scales,
            bias: dev.tensor_from_vec(vec![E::default(); 2 * dof], (2 * dof,)),
        })
    }

    /// The linear-shear parameter matrices, mutably (for tests that rescale the weights).
    pub fn parameters_mut_for_test(&mut self) -> Vec<&mut Matrix<E, D>> {
        self.linear.iter_mut().flatten().collect()
    }

    /// Degrees of freedom d.
    pub fn dof(&self) -> usize {
        self.dof
    }

    /// Φ(x) for rows `x = [q, p]`, recording on `tape`.
    pub fn map<T: Tape<E, D> + Merge<T>>(&self, x: &Matrix<E, D>, tape: T) -> Result<Matrix<E, D, T>, TensorError> {
        let (batch, n) = *x.shape();
        let d = self.dof;
        if n != 2 * d {
            return Err(TensorError::ShapeMismatch(format!(
                "states have {n} columns, the SympNet takes {}",
                2 * d
            )));
        }
        let (select, place) = selectors(x.device(), d);
        let mut tp = Threaded::new(tape);
        let mut q = tp.step(|t| x.clone().put_tape(t).matmul(select[0].retaped::<T>()));
        let mut p = tp.step(|t| x.clone().put_tape(t).matmul(select[1].retaped::<T>()));
        for (l, (sub, a)) in self.linear.iter().zip(&self.scales).enumerate() {
            let up = l % 2 == 0;
            for (k, m) in sub.iter().enumerate() {
                // S = A + Aᵀ. dfdx's permute keeps the tensor id, and a binary op on two operands
                // with one id breaks its gradient bookkeeping: the ·1 gives the left one a new id.
                let s = tp.step(|t| m.clone().put_tape(t) * E::ONE + m.retaped::<T>().permute::<_, Axes2<1, 0>>());
                if (k % 2 == 0) == up {
                    p = tp.step(|t| q.clone().put_tape(t).matmul(s.retaped::<T>()) + p.retaped::<T>());
                } else {
                    q = tp.step(|t| p.clone().put_tape(t).matmul(s.retaped::<T>()) + q.retaped::<T>());
                }
            }
            let act = self.activation;
            if up {
                p = tp.step(|t| {
                    act.value(q.clone().put_tape(t)) * a.retaped::<T>().broadcast_like::<_, Axis<0>>(&(batch, d))
                        + p.retaped::<T>()
                });
            } else {
                q = tp.step(|t| {
                    act.value(p.clone().put_tape(t)) * a.retaped::<T>().broadcast_like::<_, Axis<0>>(&(batch, d))
                        + q.retaped::<T>()
                });
            }
        }
        let out = tp.step(|t| {
            q.clone().put_tape(t).matmul(place[0].retaped::<T>())
                + p.retaped::<T>().matmul(place[1].retaped::<T>())
                + self.bias.retaped::<T>().broadcast_like::<_, Axis<0>>(&(batch, n))
        });
        Ok(tp.finish(out))
    }
}

impl<E: Real, D: Device<E>> Module<E, D> for LaSympNet<E, D> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        let mut v = Vec::new();
        for (l, (sub, a)) in self.linear.iter().zip(&self.scales).enumerate() {
            for (k, m) in sub.iter().enumerate() {
                v.push((format!("layers.{l}.linear.{k}"), ParamRef::Matrix(m)));
            }
            v.push((format!("layers.{l}.activation"), ParamRef::Vector(a)));
        }
        v.push(("bias".into(), ParamRef::Vector(&self.bias)));
        v
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        let mut v = Vec::new();
        for (sub, a) in self.linear.iter_mut().zip(self.scales.iter_mut()) {
            for m in sub.iter_mut() {
                v.push(ParamMut::Matrix(m));
            }
            v.push(ParamMut::Vector(a));
        }
        v.push(ParamMut::Vector(&mut self.bias));
        v
    }
}

/// A learned map on `[q, p]` rows that is symplectic by construction.
pub trait SymplecticMap<E: Real, D: Device<E>>: Module<E, D> {
    /// Degrees of freedom d (rows have 2d columns).
    fn dof(&self) -> usize;
    /// Φ(x), recording on `tape`.
    fn map<T: Tape<E, D> + Merge<T>>(&self, x: &Matrix<E, D>, tape: T) -> Result<Matrix<E, D, T>, TensorError>;
}

impl<E: Real, D: Device<E>> SymplecticMap<E, D> for LaSympNet<E, D> {
    fn dof(&self) -> usize {
        self.dof
    }
    fn map<T: Tape<E, D> + Merge<T>>(&self, x: &Matrix<E, D>, tape: T) -> Result<Matrix<E, D, T>, TensorError> {
        LaSympNet::map(self, x, tape)
    }
}

/// A G-SympNet: `layers` gradient modules of width `width`, alternating up/low, then a bias.
#[derive(Debug, Clone)]
pub struct GSympNet<E: Real, D: Device<E>> {
    dof: usize,
    activation: Activation,
    /// Per layer: K `[w, d]`, a `[w]`, b `[w]`.
    kernels: Vec<Matrix<E, D>>,
    scales: Vec<Vector<E, D>>,
    shifts: Vec<Vector<E, D>>,
    bias: Vector<E, D>,
}

impl<E: Real, D: Device<E>> GSympNet<E, D> {
    /// Seeded small random weights (K ~ U(±0.5/√d), a ~ U(±0.1), b ~ U(±0.5)).
    pub fn new(
        device: &D,
        dof: usize,
        layers: usize,
        width: usize,
        activation: Activation,
        seed: u64,
    ) -> Result<Self, TensorError> {
        if dof == 0 || layers == 0 || width == 0 {
            return Err(TensorError::InvalidConfig(
                "a G-SympNet needs dof, layers and width >= 1".into(),
            ));
        }
        let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
        let mut uniform = move |scale: f64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            E::of(((state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * scale)
        };
        let k_scale = 0.5 / (dof as f64).sqrt();
        let mut kernels = Vec::new();
        let mut scales = Vec::new();
        let mut shifts = Vec::new();
        for _ in 0..layers {
            kernels.push(device.tensor_from_vec((0..width * dof).map(|_| uniform(k_scale)).collect(), (width, dof)));
            scales.push(device.tensor_from_vec((0..width).map(|_| uniform(0.1)).collect(), (width,)));
            shifts.push(device.tensor_from_vec((0..width).map(|_| uniform(0.5)).collect(), (width,)));
        }
        Ok(Self {
            dof,
            activation,
            kernels,
            scales,
            shifts,
            bias: device.tensor_from_vec(vec![E::default(); 2 * dof], (2 * dof,)),
        })
    }

    /// Φ(x) for rows `x = [q, p]`, recording on `tape`.
    pub fn map<T: Tape<E, D> + Merge<T>>(&self, x: &Matrix<E, D>, tape: T) -> Result<Matrix<E, D, T>, TensorError> {
        let (batch, n) = *x.shape();
        let d = self.dof;
        if n != 2 * d {
            return Err(TensorError::ShapeMismatch(format!(
                "states have {n} columns, the SympNet takes {}",
                2 * d
            )));
        }
        let dev = x.device().clone();
        let (select, place) = selectors(&dev, d);
        let mut tp = Threaded::new(tape);
        let mut q = tp.step(|t| x.clone().put_tape(t).matmul(select[0].retaped::<T>()));
        let mut p = tp.step(|t| x.clone().put_tape(t).matmul(select[1].retaped::<T>()));
        let act = self.activation;
        for (l, ((k, a), b)) in self.kernels.iter().zip(&self.scales).zip(&self.shifts).enumerate() {
            let w = k.shape().0;
            // Kᵀ(a ⊙ σ(K·u + b)) for rows u: (σ(u Kᵀ + b) ⊙ a) K. The ·1 gives Kᵀ a fresh id
            // (dfdx's permute keeps it, and K enters twice).
            let shear = |tp: &mut Threaded<T>, u: &Matrix<E, D>| {
                let z = tp.step(|t| {
                    u.clone()
                        .put_tape(t)
                        .matmul((k.retaped::<T>() * E::ONE).permute::<_, Axes2<1, 0>>())
                        + b.retaped::<T>().broadcast_like::<_, Axis<0>>(&(batch, w))
                });
                tp.step(|t| {
                    (act.value(z.put_tape(t)) * a.retaped::<T>().broadcast_like::<_, Axis<0>>(&(batch, w)))
                        .matmul(k.retaped::<T>())
                })
            };
            if l % 2 == 0 {
                let s = shear(&mut tp, &q);
                p = tp.step(|t| s.put_tape(t) + p.retaped::<T>());
            } else {
                let s = shear(&mut tp, &p);
                q = tp.step(|t| s.put_tape(t) + q.retaped::<T>());
            }
        }
        let out = tp.step(|t| {
            q.clone().put_tape(t).matmul(place[0].retaped::<T>())
                + p.retaped::<T>().matmul(place[1].retaped::<T>())
                + self.bias.retaped::<T>().broadcast_like::<_, Axis<0>>(&(batch, n))
        });
        Ok(tp.finish(out))
    }
}

/// Constant column selectors `[2d, d]` for q and p (first), and placements `[d, 2d]` back.
type Selectors<E, D> = ([Matrix<E, D>; 2], [Matrix<E, D>; 2]);

fn selectors<E: Real, D: Device<E>>(dev: &D, d: usize) -> Selectors<E, D> {
    let n = 2 * d;
    let select = |offset: usize| {
        let mut m = vec![E::default(); n * d];
        for k in 0..d {
            m[(offset + k) * d + k] = E::ONE;
        }
        dev.tensor_from_vec(m, (n, d))
    };
    let place = |offset: usize| {
        let mut m = vec![E::default(); d * n];
        for k in 0..d {
            m[k * n + offset + k] = E::ONE;
        }
        dev.tensor_from_vec(m, (d, n))
    };
    ([select(0), select(d)], [place(0), place(d)])
}

impl<E: Real, D: Device<E>> SymplecticMap<E, D> for GSympNet<E, D> {
    fn dof(&self) -> usize {
        self.dof
    }
    fn map<T: Tape<E, D> + Merge<T>>(&self, x: &Matrix<E, D>, tape: T) -> Result<Matrix<E, D, T>, TensorError> {
        GSympNet::map(self, x, tape)
    }
}

impl<E: Real, D: Device<E>> Module<E, D> for GSympNet<E, D> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        let mut v = Vec::new();
        for (l, ((k, a), b)) in self.kernels.iter().zip(&self.scales).zip(&self.shifts).enumerate() {
            v.push((format!("layers.{l}.kernel"), ParamRef::Matrix(k)));
            v.push((format!("layers.{l}.scale"), ParamRef::Vector(a)));
            v.push((format!("layers.{l}.shift"), ParamRef::Vector(b)));
        }
        v.push(("bias".into(), ParamRef::Vector(&self.bias)));
        v
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        let mut v = Vec::new();
        for ((k, a), b) in self
            .kernels
            .iter_mut()
            .zip(self.scales.iter_mut())
            .zip(self.shifts.iter_mut())
        {
            v.push(ParamMut::Matrix(k));
            v.push(ParamMut::Vector(a));
            v.push(ParamMut::Vector(b));
        }
        v.push(ParamMut::Vector(&mut self.bias));
        v
    }
}

/// Flow-map regression: mean squared error of Φ(x_n) against x_{n+1}.
pub struct FlowMapLoss;

impl<E: Real, D: Device<E>, M: SymplecticMap<E, D>> Loss<E, D, M> for FlowMapLoss {
    fn loss<T: Tape<E, D> + Merge<T>>(
        &self,
        model: &M,
        x: &Matrix<E, D>,
        y: &Matrix<E, D>,
        tape: T,
    ) -> Result<Tensor<(), E, D, T>, TensorError> {
        let out = model.map(x, tape)?;
        Ok((out - y.retaped::<T>()).square().mean())
    }
}

/// The two SympNet families inside a [`SympNetModel`].
#[derive(Debug, Clone)]
enum Net {
    La(LaSympNet<f64, Cpu>),
    G(GSympNet<f64, Cpu>),
}

/// A SympNet as a trainable flow map of time step Δ (f64 on CPU: iterating a map thousands of
/// times rewards the precision). Flow maps have no vector field; rollouts iterate Φ.
#[derive(Debug, Clone)]
pub struct SympNetModel {
    net: Net,
    dt: f64,
    /// Architecture fields for checkpoints.
    meta: Vec<(&'static str, String)>,
}

impl SympNetModel {
    /// An LA-SympNet flow map.
    pub fn la(
        dof: usize,
        layers: usize,
        sublayers: usize,
        activation: Activation,
        dt: f64,
        seed: u64,
    ) -> Result<Self, crate::DynamicsError> {
        Ok(Self {
            net: Net::La(LaSympNet::new(
                &Cpu::default(),
                dof,
                layers,
                sublayers,
                activation,
                seed,
            )?),
            dt: positive_step(dt)?,
            meta: vec![
                ("model", "la_sympnet".into()),
                ("dof", dof.to_string()),
                ("layers", layers.to_string()),
                ("sublayers", sublayers.to_string()),
                ("activation", activation.name().into()),
                ("dt", dt.to_string()),
            ],
        })
    }

    /// A G-SympNet flow map.
    pub fn g(
        dof: usize,
        layers: usize,
        width: usize,
        activation: Activation,
        dt: f64,
        seed: u64,
    ) -> Result<Self, crate::DynamicsError> {
        Ok(Self {
            net: Net::G(GSympNet::new(&Cpu::default(), dof, layers, width, activation, seed)?),
            dt: positive_step(dt)?,
            meta: vec![
                ("model", "g_sympnet".into()),
                ("dof", dof.to_string()),
                ("layers", layers.to_string()),
                ("width", width.to_string()),
                ("activation", activation.name().into()),
                ("dt", dt.to_string()),
            ],
        })
    }

    /// The time step Δ of one application of the map.
    pub fn dt(&self) -> f64 {
        self.dt
    }

    /// Trains on (x_n, x_{n+1}) pairs, e.g. `neural_ode::windows(ds, rows, 1)`.
    pub fn fit(&mut self, data: &Examples, cfg: &TrainConfig) -> Result<TrainReport, crate::DynamicsError> {
        Ok(match &mut self.net {
            Net::La(n) => train(n, data, &FlowMapLoss, cfg)?,
            Net::G(n) => train(n, data, &FlowMapLoss, cfg)?,
        })
    }

    /// One application x_{n+1} = Φ(x_n) to every row.
    pub fn step(&self, x: ndarray::ArrayView2<'_, f64>) -> Result<ndarray::Array2<f64>, crate::DynamicsError> {
        let t = Cpu::default().tensor_from_vec(x.iter().copied().collect(), x.dim());
        let out = match &self.net {
            Net::La(n) => n.map(&t, NoneTape)?,
            Net::G(n) => n.map(&t, NoneTape)?,
        };
        Ok(ndarray::Array2::from_shape_vec(x.dim(), out.as_vec()).expect("map keeps the shape"))
    }

    /// `steps` iterates from `y0`: states `[steps + 1, rows, dim]` at times kΔ.
    pub fn rollout(
        &self,
        y0: ndarray::ArrayView2<'_, f64>,
        steps: usize,
    ) -> Result<ndarray::Array3<f64>, crate::DynamicsError> {
        let (rows, dim) = y0.dim();
        let mut out = ndarray::Array3::zeros((steps + 1, rows, dim));
        out.index_axis_mut(ndarray::Axis(0), 0).assign(&y0);
        let mut x = y0.to_owned();
        for k in 1..=steps {
            x = self.step(x.view())?;
            out.index_axis_mut(ndarray::Axis(0), k).assign(&x);
        }
        Ok(out)
    }

    /// Writes a checkpoint (architecture and Δ in the metadata).
    pub fn save(&self, path: &std::path::Path) -> Result<(), crate::DynamicsError> {
        let meta: Vec<(&str, String)> = self.meta.iter().map(|(k, v)| (*k, v.clone())).collect();
        match &self.net {
            Net::La(n) => liouville_tensor::checkpoint::save(n, path, &meta)?,
            Net::G(n) => liouville_tensor::checkpoint::save(n, path, &meta)?,
        }
        Ok(())
    }

    /// Loads a checkpoint written by [`SympNetModel::save`].
    pub fn load(path: &std::path::Path) -> Result<Self, crate::DynamicsError> {
        let fields = crate::fields::CheckpointFields::read(path, true)?;
        let int = |key: &str| fields.parse::<usize>(key);
        let activation = fields
            .get("activation")
            .and_then(Activation::parse)
            .ok_or_else(|| fields.bad("activation"))?;
        let dt = fields.positive("dt")?;
        let mut model = match fields.get("model") {
            Some("la_sympnet") => Self::la(int("dof")?, int("layers")?, int("sublayers")?, activation, dt, 0)?,
            Some("g_sympnet") => Self::g(int("dof")?, int("layers")?, int("width")?, activation, dt, 0)?,
            _ => return Err(fields.bad("model")),
        };
        match &mut model.net {
            Net::La(n) => liouville_tensor::checkpoint::load_into(n, path)?,
            Net::G(n) => liouville_tensor::checkpoint::load_into(n, path)?,
        };
        Ok(model)
    }
}

fn positive_step(dt: f64) -> Result<f64, crate::DynamicsError> {
    if dt.is_finite() && dt > 0.0 {
        Ok(dt)
    } else {
        Err(crate::DynamicsError::ShapeMismatch(format!(
            "the map's time step must be positive, got {dt}"
        )))
    }
}
