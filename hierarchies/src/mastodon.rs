//! Mastodon's OAuth scopes, as `tests/data/mastodon-scopes.txt` lists them
//! (documentation @ 2903485da54a, server main @ 2f40549d41d7). Descriptions
//! are the strings of `config/locales/doorkeeper.en.yml`.
//!
//! Left out on purpose: `crypto` (removed in 4.3.0) and `read:me` (renamed
//! to `profile` before any release). `read:reports` stays, deprecated: the
//! documented scope matrix still lists it.

/// Declares this hierarchy in the calling crate, as `$name` with the
/// visibility given, so that `scope!` and `#[requires_scope]` can name its
/// scopes there as a type of its own (`MastodonScope` itself can be
/// used from any crate as well).
///
/// ```
/// scope_hierarchies::mastodon_scopes!(
///     /// The scopes of my pod.
///     pub Scope
/// );
/// assert_eq!(scope_runtime::scope!(Scope, "read").to_string(), "read");
/// ```
#[macro_export]
macro_rules! mastodon_scopes {
    ($(#[$attr:meta])* $vis:vis $name:ident) => {
        $crate::__private::scope_runtime::scope_hierarchy! {
            $(#[$attr])*
            $vis $name {
                /// read all your account's data
                #[default]
                read {
                    /// see accounts information
                    accounts,
                    /// see your blocks
                    blocks,
                    /// see your bookmarks
                    bookmarks,
                    collections,
                    /// see your favorites
                    favourites,
                    /// see your filters
                    filters,
                    /// see your follows
                    follows,
                    /// see your lists
                    lists,
                    /// see your mutes
                    mutes,
                    /// see your notifications
                    notifications,
                    /// see your reports
                    #[deprecated(since = "2.6.0", note = "an unused stub; not registrable since Mastodon 3.0 (#9387)")]
                    reports,
                    /// search on your behalf
                    search,
                    /// see all posts
                    statuses,
                },
                /// modify all your account's data
                write {
                    /// modify your profile
                    accounts,
                    /// block accounts and domains
                    blocks,
                    /// bookmark posts
                    bookmarks,
                    collections,
                    /// mute and delete conversations
                    conversations,
                    /// favorite posts
                    favourites,
                    /// create filters
                    filters,
                    /// follow people
                    follows,
                    /// create lists
                    lists,
                    /// upload media files
                    media,
                    /// mute people and conversations
                    mutes,
                    /// clear your notifications
                    notifications,
                    /// report other people
                    reports,
                    /// publish posts
                    statuses,
                },
                /// modify account relationships
                #[deprecated(
                    since = "3.5.0",
                    note = "request read:blocks, read:follows, read:mutes, write:blocks, write:follows and write:mutes instead"
                )]
                follow = [
                    "read:blocks", "read:follows", "read:mutes",
                    "write:blocks", "write:follows", "write:mutes",
                ],
                /// receive your push notifications
                push,
                /// read only your account's profile information
                profile,
                #[group]
                admin {
                    /// read all data on the server
                    read {
                        /// read sensitive information of all accounts
                        accounts,
                        /// read sensitive information of all reports and reported accounts
                        reports,
                        /// read sensitive information of all domain allows
                        domain_allows,
                        /// read sensitive information of all domain blocks
                        domain_blocks,
                        /// read sensitive information of all IP blocks
                        ip_blocks,
                        /// read sensitive information of all email domain blocks
                        email_domain_blocks,
                        /// read sensitive information of all canonical email blocks
                        canonical_email_blocks,
                    },
                    /// modify all data on the server
                    write {
                        /// perform moderation actions on accounts
                        accounts,
                        /// perform moderation actions on reports
                        reports,
                        /// perform moderation actions on domain allows
                        domain_allows,
                        /// perform moderation actions on domain blocks
                        domain_blocks,
                        /// perform moderation actions on IP blocks
                        ip_blocks,
                        /// perform moderation actions on email domain blocks
                        email_domain_blocks,
                        /// perform moderation actions on canonical email blocks
                        canonical_email_blocks,
                    },
                },
            }
        }
    };
}

mastodon_scopes!(
    /// Mastodon's OAuth scopes.
    pub MastodonScope
);
