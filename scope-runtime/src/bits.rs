//! The fixed-size bit storage behind [`ScopeSet`](crate::ScopeSet).
//!
//! `scope_hierarchy!` picks `[u64; N]` with just enough words for the
//! hierarchy (one word up to 64 scopes), so every set operation is a handful
//! of word-wide instructions that the compiler unrolls.

use core::fmt::Debug;
use core::hash::Hash;

mod sealed {
    pub trait Sealed {}
    impl<const N: usize> Sealed for [u64; N] {}
}

/// Storage of a scope set: an array of 64-bit words, one bit per scope.
///
/// Public in a private module: it bounds [`Scope::Bits`](crate::Scope::Bits)
/// but no user names it (sealed: the hierarchy macro picks `[u64; N]`).
///
/// Implemented for `[u64; N]` only; the hierarchy macro chooses `N`.
#[allow(unreachable_pub)]
pub trait Bits: sealed::Sealed + Copy + Eq + Hash + Debug + Send + Sync + 'static {
    /// The set with no bit set.
    const EMPTY: Self;

    /// The words, lowest scope index first.
    fn words(&self) -> &[u64];

    /// The words, mutable.
    fn words_mut(&mut self) -> &mut [u64];
}

impl<const N: usize> Bits for [u64; N] {
    const EMPTY: Self = [0; N];

    #[inline]
    fn words(&self) -> &[u64] {
        self
    }

    #[inline]
    fn words_mut(&mut self) -> &mut [u64] {
        self
    }
}

/// `a op= b`, word by word.
#[inline]
pub(crate) fn zip_assign<B: Bits>(a: &mut B, b: &B, op: impl Fn(u64, u64) -> u64) {
    for (x, y) in a.words_mut().iter_mut().zip(b.words()) {
        *x = op(*x, *y);
    }
}

/// Whether `op(a, b)` is zero in every word.
#[inline]
pub(crate) fn all_zero<B: Bits>(a: &B, b: &B, op: impl Fn(u64, u64) -> u64) -> bool {
    a.words()
        .iter()
        .zip(b.words())
        .all(|(x, y)| op(*x, *y) == 0)
}
