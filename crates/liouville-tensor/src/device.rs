//! Devices: dfdx's CPU backend always; its CUDA backend with the `cuda` feature. Models are
//! generic over `D: Device<E>`, so the same code runs on both.

/// The CPU device (gemm-backed matmuls, rayon where dfdx uses it).
pub type Cpu = dfdx::tensor::Cpu;

/// An NVIDIA GPU through cudarc (feature `cuda`; needs nvcc at build time).
#[cfg(feature = "cuda")]
pub type Cuda = dfdx::tensor::Cuda;

/// The default device of this build: CUDA with the `cuda` feature, else CPU.
#[cfg(feature = "cuda")]
pub type DefaultDevice = Cuda;
/// The default device of this build: CUDA with the `cuda` feature, else CPU.
#[cfg(not(feature = "cuda"))]
pub type DefaultDevice = Cpu;
