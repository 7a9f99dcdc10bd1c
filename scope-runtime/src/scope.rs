//! The [`Scope`] trait that every `scope_hierarchy!` enum implements, and the
//! static metadata of each scope ([`ScopeInfo`], [`Deprecation`]).
//!
//! You normally never implement [`Scope`] by hand: the hierarchy macro writes
//! the implementation, with every table below computed at compile time.
//!
//! ```
//! use scope_runtime::{scope_hierarchy, Scope, ScopeSet};
//!
//! scope_hierarchy! {
//!     /// A tiny hierarchy.
//!     pub Demo {
//!         /// Read everything
//!         #[default]
//!         read {
//!             /// Read posts
//!             posts,
//!         },
//!     }
//! }
//!
//! let info = Demo::ReadPosts.info();
//! assert_eq!(info.name(), "read:posts");
//! assert_eq!(info.description(), "Read posts");
//! assert_eq!(info.parent(), Some(Demo::Read));
//! assert_eq!(ScopeSet::<Demo>::default_scopes().to_string(), "read");
//! ```

use core::fmt::{Debug, Display};
use core::hash::Hash;
use core::str::FromStr;

use crate::bits::Bits;
use crate::set::{ParseScopeError, ScopeSet};

/// A scope of one hierarchy: a field-less enum written by `scope_hierarchy!`.
///
/// The associated tables are constants indexed by [`Scope::index`], computed
/// by the macro; looking anything up never allocates. The trait is sealed:
/// only `scope_hierarchy!` implements it, so the tables are always
/// consistent.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a scope hierarchy",
    note = "declare scope types with `scope_runtime::scope_hierarchy!`; see https://docs.rs/scope-runtime"
)]
pub trait Scope:
    crate::__private::Sealed
    + Copy
    + Eq
    + Ord
    + Hash
    + Debug
    + Display
    + FromStr<Err = ParseScopeError>
    + Send
    + Sync
    + 'static
{
    /// Bit storage of a [`ScopeSet`] of this hierarchy.
    type Bits: Bits;

    /// The name of the hierarchy type, e.g. `"MastodonScope"`.
    const HIERARCHY: &'static str;

    /// Every grantable scope, in declaration order (`ALL[i].index() == i`).
    const ALL: &'static [Self];

    /// Metadata of every scope, in declaration order.
    const INFO: &'static [ScopeInfo<Self>];

    /// Full names of the grouping nodes: they organise names but are not
    /// scopes themselves (Mastodon's `admin`, Funkwhale's `read:instance`).
    const GROUPS: &'static [&'static str];

    #[doc(hidden)]
    /// For each scope, the closed set it grants: itself, its descendants and
    /// what its aliases expand to. Computed by the macro.
    const IMPLIES: &'static [Self::Bits];

    #[doc(hidden)]
    /// For each scope, the set of scopes that grant it (the transpose of
    /// `IMPLIES`). Computed by the macro.
    const GRANTED_BY: &'static [Self::Bits];

    #[doc(hidden)]
    /// The scopes granted when a client asks for none.
    const DEFAULT: Self::Bits;

    /// The position of this scope in [`Scope::ALL`].
    fn index(self) -> usize;

    /// The scope with this exact name (`"write:playlists"`), if any.
    fn from_name(name: &str) -> Option<Self>;

    /// The scope at `index` in [`Scope::ALL`].
    #[inline]
    fn from_index(index: usize) -> Option<Self> {
        Self::ALL.get(index).copied()
    }

    /// The metadata of this scope.
    #[inline]
    fn info(self) -> &'static ScopeInfo<Self> {
        &Self::INFO[self.index()]
    }

    /// The full name, e.g. `"admin:read:accounts"`.
    #[inline]
    fn name(self) -> &'static str {
        self.info().name()
    }

    /// Everything granting this scope grants: itself, every descendant and,
    /// for an alias, what it expands to.
    #[inline]
    fn implied(self) -> ScopeSet<Self> {
        ScopeSet::from_bits(Self::IMPLIES[self.index()])
    }

    /// The scopes that grant this one: itself, its ancestors and the aliases
    /// that include it.
    #[inline]
    fn granted_by(self) -> ScopeSet<Self> {
        ScopeSet::from_bits(Self::GRANTED_BY[self.index()])
    }
}

/// Static metadata of one scope, taken from its declaration.
///
/// Built only by `scope_hierarchy!`; read through the accessors.
#[derive(Debug)]
pub struct ScopeInfo<S: 'static> {
    scope: S,
    name: &'static str,
    description: &'static str,
    parent: Option<S>,
    expands_to: &'static [S],
    deprecated: Option<Deprecation>,
    is_default: bool,
}

impl<S: Copy + 'static> ScopeInfo<S> {
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    pub const fn __new(
        scope: S,
        name: &'static str,
        description: &'static str,
        parent: Option<S>,
        expands_to: &'static [S],
        deprecated: Option<Deprecation>,
        is_default: bool,
    ) -> Self {
        Self {
            scope,
            name,
            description,
            parent,
            expands_to,
            deprecated,
            is_default,
        }
    }

    /// The scope this entry describes.
    pub const fn scope(&self) -> S {
        self.scope
    }

    /// The full name, e.g. `"read:playlists"`.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The description from the scope's doc comment (empty if it has none).
    pub const fn description(&self) -> &'static str {
        self.description
    }

    /// The nearest grantable ancestor (`read` for `read:instance:settings`,
    /// skipping the `read:instance` group), or `None` for a top-level scope.
    pub const fn parent(&self) -> Option<S> {
        self.parent
    }

    /// For an alias such as Mastodon's `follow`, the scopes it was declared
    /// to grant (before closure); empty for other scopes.
    pub const fn expands_to(&self) -> &'static [S] {
        self.expands_to
    }

    /// `Some` if the scope carries `#[deprecated]`.
    pub const fn deprecated(&self) -> Option<&Deprecation> {
        self.deprecated.as_ref()
    }

    /// Whether the scope is granted when a client asks for no scope.
    pub const fn is_default(&self) -> bool {
        self.is_default
    }
}

/// The `#[deprecated(since = "..", note = "..")]` of a scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deprecation {
    since: Option<&'static str>,
    note: Option<&'static str>,
}

impl Deprecation {
    #[doc(hidden)]
    pub const fn __new(since: Option<&'static str>, note: Option<&'static str>) -> Self {
        Self { since, note }
    }

    /// The version the scope was deprecated in, if given.
    pub const fn since(&self) -> Option<&'static str> {
        self.since
    }

    /// The explanation, if given.
    pub const fn note(&self) -> Option<&'static str> {
        self.note
    }
}
