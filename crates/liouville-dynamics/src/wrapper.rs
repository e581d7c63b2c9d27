//! Models that train through an inner network: the model (with its config) is what the training
//! loop steps and checkpoints — so the best checkpoint of a run is a loadable model — while the
//! loss is written for the inner network. [`Through`] adapts the one to the other.

use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::module::Module;
use liouville_tensor::train::Loss;
use liouville_tensor::{Real, TensorError};

/// A model whose parameters are those of one inner network.
pub(crate) trait Inner<E: Real, D: Device<E>> {
    /// The network a loss is written for.
    type Net: Module<E, D>;
    /// It.
    fn net(&self) -> &Self::Net;
}

/// The inner network's loss `L`, as a loss of the wrapping model.
pub(crate) struct Through<'a, L>(pub &'a L);

impl<E: Real, D: Device<E>, M: Inner<E, D>, B, L: Loss<E, D, M::Net, B>> Loss<E, D, M, B> for Through<'_, L> {
    fn loss<T: Tape<E, D> + Merge<T>>(
        &self,
        model: &M,
        batch: &B,
        tape: T,
    ) -> Result<Tensor<(), E, D, T>, TensorError> {
        self.0.loss(model.net(), batch, tape)
    }
}

/// `Module` (and [`Inner`]) for a model `$ty<E, D>` whose parameters are its field `$net`.
macro_rules! through_field {
    ($ty:ident, $net:ident, $inner:ty) => {
        impl<E: liouville_tensor::Real, D: liouville_tensor::dfdx::prelude::Device<E>> liouville_tensor::Module<E, D>
            for $ty<E, D>
        {
            fn parameters(&self) -> Vec<(String, liouville_tensor::module::ParamRef<'_, E, D>)> {
                self.$net.parameters()
            }
            fn parameters_mut(&mut self) -> Vec<liouville_tensor::module::ParamMut<'_, E, D>> {
                self.$net.parameters_mut()
            }
        }
        impl<E: liouville_tensor::Real, D: liouville_tensor::dfdx::prelude::Device<E>> crate::wrapper::Inner<E, D>
            for $ty<E, D>
        {
            type Net = $inner;
            fn net(&self) -> &$inner {
                &self.$net
            }
        }
    };
}
pub(crate) use through_field;
