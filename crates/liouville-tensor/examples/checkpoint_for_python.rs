//! Writes an HNN-shaped checkpoint to the path given (default `out/hnn.safetensors`), for loading
//! from Python:
//!
//! ```python
//! from safetensors.numpy import load_file; from safetensors import safe_open
//! w = load_file("out/hnn.safetensors"); print({k: v.shape for k, v in w.items()})
//! print(safe_open("out/hnn.safetensors", "np").metadata())
//! ```
use dfdx::prelude::*;
use liouville_tensor::{Activation, Init, Mlp, checkpoint};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "out/hnn.safetensors".into());
    let model = Mlp::<f32, Cpu>::new(
        &Cpu::default(),
        &[2, 200, 200, 1],
        Activation::Tanh,
        Init::Orthogonal,
        0,
    )?;
    checkpoint::save(&model, std::path::Path::new(&path), None)?;
    println!("wrote {path}");
    Ok(())
}
