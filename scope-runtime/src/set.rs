//! [`ScopeSet`]: a fixed-size bitset of the scopes of one hierarchy.
//!
//! A set holds the scopes exactly as they were granted or requested; what a
//! set *grants* follows the hierarchy (parents imply their children, aliases
//! expand). Those implications are tables computed by `scope_hierarchy!` at
//! compile time, so [`ScopeSet::grants`] is one `AND` per 64 scopes and
//! [`ScopeSet::closure`] is one `OR` per scope in the set.
//!
//! ```
//! use scope_runtime::{scope, scope_hierarchy, ScopeSet};
//!
//! scope_hierarchy! {
//!     pub Api {
//!         #[default]
//!         read { statuses, accounts },
//!         write { statuses, accounts },
//!         /// Legacy: relationships
//!         follow = ["read:accounts", "write:accounts"],
//!     }
//! }
//!
//! // RFC 6749 §3.3: space-separated scope tokens.
//! let granted: ScopeSet<Api> = "read follow".parse()?;
//! assert!(granted.grants(scope!(Api, "read:statuses")));   // parent implies child
//! assert!(granted.grants(scope!(Api, "write:accounts")));  // alias expands
//! assert!(!granted.grants(scope!(Api, "write:statuses")));
//! assert_eq!(granted.to_string(), "read follow");
//! // A request without scope gets the hierarchy's default.
//! assert_eq!(ScopeSet::<Api>::parse_requested("")?.to_string(), "read");
//! assert!(ScopeSet::<Api>::parse("")?.is_empty());
//!
//! let err = ScopeSet::<Api>::parse("read wirte").unwrap_err();
//! assert_eq!(err.token(), "wirte");
//! # Ok::<(), scope_runtime::ParseScopeError>(())
//! ```

use core::fmt;
use core::hash::{Hash, Hasher};
use core::iter::FusedIterator;
use core::marker::PhantomData;
use core::ops::{BitAnd, BitAndAssign, BitOr, BitOrAssign, Sub, SubAssign};
use core::str::FromStr;

use crate::bits::{self, Bits};
use crate::scope::Scope;

/// A set of scopes of hierarchy `S`, one bit per scope.
///
/// `Copy`, allocation-free, and ordered by declaration when iterated or
/// displayed. See the [module docs](crate::set) for an example.
pub struct ScopeSet<S: Scope> {
    bits: S::Bits,
    _scope: PhantomData<fn() -> S>,
}

impl<S: Scope> ScopeSet<S> {
    /// The empty set.
    pub const EMPTY: Self = Self::from_bits(<S::Bits as Bits>::EMPTY);

    /// The empty set.
    #[inline]
    pub const fn new() -> Self {
        Self::EMPTY
    }

    #[inline]
    pub(crate) const fn from_bits(bits: S::Bits) -> Self {
        Self {
            bits,
            _scope: PhantomData,
        }
    }

    /// The scopes granted when a client asks for none (`#[default]` in the
    /// hierarchy; Mastodon's and Funkwhale's is `read`).
    #[inline]
    pub fn default_scopes() -> Self {
        Self::from_bits(S::DEFAULT)
    }

    /// Every grantable scope of the hierarchy, deprecated ones included.
    pub fn all() -> Self {
        S::ALL.iter().copied().collect()
    }

    /// Parses a scope string (RFC 6749 §3.3): scope tokens separated by
    /// spaces, exactly as given. Repeated tokens are accepted; runs of ASCII
    /// whitespace count as one separator, as Doorkeeper and
    /// django-oauth-toolkit accept them. A string with no token is the empty
    /// set, so `parse(&set.to_string()) == Ok(set)` for every set. Same as
    /// `FromStr`.
    ///
    /// # Errors
    /// [`ParseScopeError`] naming the first token that is not a grantable
    /// scope of `S` (a grouping node such as Mastodon's `admin` is not).
    pub fn parse(s: &str) -> Result<Self, ParseScopeError> {
        let mut set = Self::EMPTY;
        for token in s.split_ascii_whitespace() {
            match S::from_name(token) {
                Some(scope) => {
                    set.insert(scope);
                }
                None => return Err(ParseScopeError::unknown(token, S::HIERARCHY)),
            }
        }
        Ok(set)
    }

    /// Parses the `scope` a client *requested*: like [`ScopeSet::parse`],
    /// but a request without any scope gets [`ScopeSet::default_scopes`]
    /// (RFC 6749 §3.3: the server uses a default when the client omits the
    /// scope; Mastodon and Funkwhale default to `read`). Use this on
    /// authorization and token requests only, never to read back a stored
    /// grant.
    ///
    /// # Errors
    /// [`ParseScopeError`] naming the first unknown token.
    pub fn parse_requested(s: &str) -> Result<Self, ParseScopeError> {
        let set = Self::parse(s)?;
        Ok(if set.is_empty() {
            Self::default_scopes()
        } else {
            set
        })
    }

    #[inline]
    fn locate(scope: S) -> (usize, u64) {
        let i = scope.index();
        (i / 64, 1 << (i % 64))
    }

    /// Adds `scope`; returns whether it was absent.
    #[inline]
    pub fn insert(&mut self, scope: S) -> bool {
        let (word, mask) = Self::locate(scope);
        let w = &mut self.bits.words_mut()[word];
        let absent = *w & mask == 0;
        *w |= mask;
        absent
    }

    /// Removes `scope`; returns whether it was present.
    #[inline]
    pub fn remove(&mut self, scope: S) -> bool {
        let (word, mask) = Self::locate(scope);
        let w = &mut self.bits.words_mut()[word];
        let present = *w & mask != 0;
        *w &= !mask;
        present
    }

    /// Whether `scope` itself is in the set. This is membership, not
    /// authorization: use [`ScopeSet::grants`] to ask whether the set
    /// satisfies a requirement.
    #[inline]
    pub fn contains(&self, scope: S) -> bool {
        let (word, mask) = Self::locate(scope);
        self.bits.words()[word] & mask != 0
    }

    /// The number of scopes in the set.
    #[inline]
    pub fn len(&self) -> usize {
        self.bits
            .words()
            .iter()
            .map(|w| w.count_ones() as usize)
            .sum()
    }

    /// Whether the set is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.bits.words().iter().all(|w| *w == 0)
    }

    /// The scopes in declaration order.
    #[inline]
    pub fn iter(&self) -> Iter<S> {
        Iter {
            bits: self.bits,
            word: 0,
            _scope: PhantomData,
        }
    }

    /// The scopes in either set.
    #[inline]
    #[must_use]
    pub fn union(mut self, other: Self) -> Self {
        bits::zip_assign(&mut self.bits, &other.bits, |a, b| a | b);
        self
    }

    /// The scopes in both sets.
    #[inline]
    #[must_use]
    pub fn intersection(mut self, other: Self) -> Self {
        bits::zip_assign(&mut self.bits, &other.bits, |a, b| a & b);
        self
    }

    /// The scopes of `self` that are not in `other`.
    #[inline]
    #[must_use]
    pub fn difference(mut self, other: Self) -> Self {
        bits::zip_assign(&mut self.bits, &other.bits, |a, b| a & !b);
        self
    }

    /// Whether every scope of `self` is in `other` (plain set inclusion).
    #[inline]
    pub fn is_subset(&self, other: &Self) -> bool {
        bits::all_zero(&self.bits, &other.bits, |a, b| a & !b)
    }

    /// Whether every scope of `other` is in `self`.
    #[inline]
    pub fn is_superset(&self, other: &Self) -> bool {
        other.is_subset(self)
    }

    /// Whether the sets have no scope in common.
    #[inline]
    pub fn is_disjoint(&self, other: &Self) -> bool {
        bits::all_zero(&self.bits, &other.bits, |a, b| a & b)
    }

    /// Everything this set grants: its scopes, all their descendants, and
    /// what its aliases expand to. Idempotent and monotone.
    #[must_use]
    pub fn closure(&self) -> Self {
        let mut out = Self::EMPTY;
        for scope in self {
            bits::zip_assign(&mut out.bits, &S::IMPLIES[scope.index()], |a, b| a | b);
        }
        out
    }

    /// Whether a token holding this set may use something that requires
    /// `scope`: the set contains `scope`, one of its ancestors, or an alias
    /// that includes it. One `AND` per 64 scopes; nothing is computed at run
    /// time beyond that.
    #[inline]
    pub fn grants(&self, scope: S) -> bool {
        !bits::all_zero(&self.bits, &S::GRANTED_BY[scope.index()], |a, b| a & b)
    }

    /// Whether this set grants every scope of `required` (all-of).
    #[inline]
    pub fn grants_all(&self, required: &Self) -> bool {
        required.iter().all(|scope| self.grants(scope))
    }

    /// Whether this set grants at least one scope of `required` (any-of).
    /// An empty `required` is never satisfied.
    #[inline]
    pub fn grants_any(&self, required: &Self) -> bool {
        required.iter().any(|scope| self.grants(scope))
    }

    /// The deprecated scopes in this set (the OAuth server may warn about
    /// them on the consent page).
    pub fn deprecated(&self) -> impl Iterator<Item = S> + '_ {
        self.iter().filter(|s| s.info().deprecated().is_some())
    }
}

impl<S: Scope> Clone for ScopeSet<S> {
    #[inline]
    fn clone(&self) -> Self {
        *self
    }
}

impl<S: Scope> Copy for ScopeSet<S> {}

impl<S: Scope> PartialEq for ScopeSet<S> {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.bits == other.bits
    }
}

impl<S: Scope> Eq for ScopeSet<S> {}

impl<S: Scope> Hash for ScopeSet<S> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bits.hash(state);
    }
}

/// The empty set (not the hierarchy's default scopes; see
/// [`ScopeSet::default_scopes`]).
impl<S: Scope> Default for ScopeSet<S> {
    #[inline]
    fn default() -> Self {
        Self::EMPTY
    }
}

impl<S: Scope> fmt::Debug for ScopeSet<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(S::name)).finish()
    }
}

/// The canonical scope string: names in declaration order, one space apart.
impl<S: Scope> fmt::Display for ScopeSet<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope.name())?;
        }
        Ok(())
    }
}

/// Same as [`ScopeSet::parse`]: an empty string is the empty set.
impl<S: Scope> FromStr for ScopeSet<S> {
    type Err = ParseScopeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl<S: Scope> From<S> for ScopeSet<S> {
    #[inline]
    fn from(scope: S) -> Self {
        let mut set = Self::EMPTY;
        set.insert(scope);
        set
    }
}

impl<S: Scope> FromIterator<S> for ScopeSet<S> {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut set = Self::EMPTY;
        set.extend(iter);
        set
    }
}

impl<S: Scope> Extend<S> for ScopeSet<S> {
    fn extend<I: IntoIterator<Item = S>>(&mut self, iter: I) {
        for scope in iter {
            self.insert(scope);
        }
    }
}

impl<S: Scope> IntoIterator for ScopeSet<S> {
    type Item = S;
    type IntoIter = Iter<S>;

    #[inline]
    fn into_iter(self) -> Iter<S> {
        self.iter()
    }
}

impl<S: Scope> IntoIterator for &ScopeSet<S> {
    type Item = S;
    type IntoIter = Iter<S>;

    #[inline]
    fn into_iter(self) -> Iter<S> {
        self.iter()
    }
}

impl<S: Scope> BitOr for ScopeSet<S> {
    type Output = Self;

    #[inline]
    fn bitor(self, rhs: Self) -> Self {
        self.union(rhs)
    }
}

impl<S: Scope> BitAnd for ScopeSet<S> {
    type Output = Self;

    #[inline]
    fn bitand(self, rhs: Self) -> Self {
        self.intersection(rhs)
    }
}

impl<S: Scope> Sub for ScopeSet<S> {
    type Output = Self;

    #[inline]
    fn sub(self, rhs: Self) -> Self {
        self.difference(rhs)
    }
}

impl<S: Scope> BitOrAssign for ScopeSet<S> {
    #[inline]
    fn bitor_assign(&mut self, rhs: Self) {
        *self = self.union(rhs);
    }
}

impl<S: Scope> BitAndAssign for ScopeSet<S> {
    #[inline]
    fn bitand_assign(&mut self, rhs: Self) {
        *self = self.intersection(rhs);
    }
}

impl<S: Scope> SubAssign for ScopeSet<S> {
    #[inline]
    fn sub_assign(&mut self, rhs: Self) {
        *self = self.difference(rhs);
    }
}

impl<S: Scope, const N: usize> From<[S; N]> for ScopeSet<S> {
    fn from(scopes: [S; N]) -> Self {
        scopes.into_iter().collect()
    }
}

/// Iterator over the scopes of a [`ScopeSet`], in declaration order.
#[derive(Clone, Debug)]
pub struct Iter<S: Scope> {
    bits: S::Bits,
    word: usize,
    _scope: PhantomData<fn() -> S>,
}

impl<S: Scope> Iterator for Iter<S> {
    type Item = S;

    #[inline]
    fn next(&mut self) -> Option<S> {
        let words = self.bits.words_mut();
        while let Some(w) = words.get_mut(self.word) {
            if *w != 0 {
                let bit = w.trailing_zeros() as usize;
                *w &= *w - 1;
                return S::from_index(self.word * 64 + bit);
            }
            self.word += 1;
        }
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.bits.words()[self.word.min(self.bits.words().len())..]
            .iter()
            .map(|w| w.count_ones() as usize)
            .sum();
        (n, Some(n))
    }
}

impl<S: Scope> ExactSizeIterator for Iter<S> {}
impl<S: Scope> FusedIterator for Iter<S> {}

/// A scope string named a token that is not a grantable scope of the
/// hierarchy.
///
/// Returned by [`ScopeSet::parse`](crate::ScopeSet::parse) and the `FromStr`
/// implementations of generated scope types. The OAuth server maps it to an
/// `invalid_scope` error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
// `{token:?}` escapes quotes and control characters: the message may end
// up in an OAuth `error_description` or a log line.
#[error("unknown scope {token:?} in {hierarchy}")]
pub struct ParseScopeError {
    token: Box<str>,
    hierarchy: &'static str,
}

impl ParseScopeError {
    /// An error for `token`, unknown in `hierarchy`.
    pub fn unknown(token: &str, hierarchy: &'static str) -> Self {
        Self {
            token: token.into(),
            hierarchy,
        }
    }

    /// The token that is not a scope, exactly as it appeared in the input.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The name of the hierarchy type the token was looked up in.
    pub fn hierarchy(&self) -> &'static str {
        self.hierarchy
    }
}
