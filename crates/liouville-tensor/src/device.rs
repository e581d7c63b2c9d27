//! Devices: dfdx's CPU backend always; its CUDA backend with the `cuda` feature. Models are
//! generic over `D: Device<E>`, so the same code runs on both.

/// The CPU device (gemm-backed matmuls, rayon where dfdx uses it).
pub type Cpu = dfdx::tensor::Cpu;

/// An NVIDIA GPU through cudarc (feature `cuda`; needs nvcc at build time).
#[cfg(feature = "cuda")]
pub type Cuda = dfdx::tensor::Cuda;

/// Where models meet the integrators: a rollout evaluates the model from rayon's worker threads,
/// which needs a `Sync` device, and CUDA's handles are not. Models default to it; train on
/// [`DefaultDevice`] (or `Cuda`) and load the checkpoint here to roll out (checkpoints are
/// device-independent).
pub type HostDevice = Cpu;

/// The default device of this build: CUDA with the `cuda` feature, else CPU.
#[cfg(feature = "cuda")]
pub type DefaultDevice = Cuda;
/// The default device of this build: CUDA with the `cuda` feature, else CPU.
#[cfg(not(feature = "cuda"))]
pub type DefaultDevice = Cpu;
