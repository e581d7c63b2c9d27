//! One tape threaded through a computation.
//!
//! dfdx records backward operations on the tape carried by the left operand of a binary op and
//! the operand of a unary op. An op on a tensor *without* a tape records nothing, and the
//! parameters behind it silently get zero gradient. The discipline here avoids that: every
//! intermediate is stored untaped, each step takes the one main tape ([`Threaded::step`]), and
//! every other operand enters through `retaped()`, whose empty tape merges into the main one.

use dfdx::prelude::*;

/// Holder of the main tape.
pub struct Threaded<T>(Option<T>);

impl<T> Threaded<T> {
    /// Starts with `tape` (for example the input's tape after `split_tape`).
    pub fn new(tape: T) -> Self {
        Self(Some(tape))
    }

    /// Runs one step: `f` receives the main tape (to put on its first operand) and returns a
    /// taped result; the tape goes back into the holder and the result comes back untaped.
    pub fn step<S: Shape, E: Dtype, D: Storage<E>>(
        &mut self,
        f: impl FnOnce(T) -> Tensor<S, E, D, T>,
    ) -> Tensor<S, E, D>
    where
        T: Tape<E, D>,
    {
        let tape = self.0.take().expect("tape is returned after every step");
        let (result, tape) = f(tape).split_tape();
        self.0 = Some(tape);
        result
    }

    /// As [`Threaded::step`] for a fallible op. On an error the thread is spent (its tape went
    /// into the failed op): the caller returns the error and drops the thread.
    pub fn try_step<S: Shape, E: Dtype, D: Storage<E>, Er>(
        &mut self,
        f: impl FnOnce(T) -> Result<Tensor<S, E, D, T>, Er>,
    ) -> Result<Tensor<S, E, D>, Er>
    where
        T: Tape<E, D>,
    {
        let tape = self.0.take().expect("a thread is not used after a failed step");
        let (result, tape) = f(tape)?.split_tape();
        self.0 = Some(tape);
        Ok(result)
    }

    /// Records a hand-written backward operation on the main tape (a custom op's VJP; see
    /// [`crate::fused`]). It runs after every op recorded later, as dfdx's own do.
    pub fn add_backward_op<E: Dtype, D: Storage<E>>(
        &mut self,
        op: impl 'static + FnOnce(&mut Gradients<E, D>) -> Result<(), D::Err>,
    ) where
        T: Tape<E, D>,
    {
        self.0.as_mut().expect("tape present").add_backward_op(op);
    }

    /// The main tape, ending the thread.
    pub fn into_tape(mut self) -> T {
        self.0.take().expect("tape present")
    }

    /// Puts the main tape on `t` (the final loss), ending the thread.
    pub fn finish<S: Shape, E: Dtype, D: Storage<E>>(mut self, t: Tensor<S, E, D>) -> Tensor<S, E, D, T>
    where
        T: Tape<E, D>,
    {
        t.put_tape(self.0.take().expect("tape present"))
    }
}
