//! Funkwhale's OAuth scopes, as `tests/data/funkwhale-scopes.txt` lists them
//! (`users/oauth/scopes.py` @ c24b6ee183ea, 1.4.0). Descriptions are the
//! labels passed to `Scope()`.
//!
//! Funkwhale computes `read -> read:<base>` and `write -> write:<base>`;
//! `read:instance:*` hangs directly off `read`, with no `read:instance`
//! scope, which is what `#[group]` expresses.

/// Declares this hierarchy in the calling crate, as `$name` with the
/// visibility given, so that `scope!` and `#[requires_scope]` can name its
/// scopes there as a type of its own (`FunkwhaleScope` itself can be
/// used from any crate as well).
///
/// ```
/// scope_hierarchies::funkwhale_scopes!(
///     /// The scopes of my pod.
///     pub Scope
/// );
/// assert_eq!(scope_runtime::scope!(Scope, "read").to_string(), "read");
/// ```
#[macro_export]
macro_rules! funkwhale_scopes {
    ($(#[$attr:meta])* $vis:vis $name:ident) => {
        $crate::__private::scope_runtime::scope_hierarchy! {
            $(#[$attr])*
            $vis $name {
                /// all read:* scopes
                #[default]
                read {
                    /// Access profile data (e-mail, username, avatar, subsonic password…)
                    profile,
                    /// Access uploads, libraries, and audio metadata
                    libraries,
                    /// Browse and submit edits on audio metadata
                    edits,
                    /// Access library follows
                    follows,
                    /// Access favorites
                    favorites,
                    /// Access content filters
                    filters,
                    /// Access listening history
                    listenings,
                    /// Access radios
                    radios,
                    /// Access playlists
                    playlists,
                    /// Access personal notifications
                    notifications,
                    /// Access security settings
                    security,
                    /// Access reports
                    reports,
                    /// Access plugins
                    plugins,
                    #[group]
                    instance {
                        /// Access instance settings
                        settings,
                        /// Access local user accounts
                        users,
                        /// Access invitations
                        invitations,
                        /// Access instance metadata edits
                        edits,
                        /// Access instance uploads, libraries and audio metadata
                        libraries,
                        /// Access instance federated accounts
                        accounts,
                        /// Access instance domains
                        domains,
                        /// Access instance moderation policies
                        policies,
                        /// Access instance moderation reports
                        reports,
                        /// Access instance moderation requests
                        requests,
                        /// Access instance moderation notes
                        notes,
                    },
                },
                /// all write:* scopes
                write {
                    /// Access profile data (e-mail, username, avatar, subsonic password…)
                    profile,
                    /// Access uploads, libraries, and audio metadata
                    libraries,
                    /// Browse and submit edits on audio metadata
                    edits,
                    /// Access library follows
                    follows,
                    /// Access favorites
                    favorites,
                    /// Access content filters
                    filters,
                    /// Access listening history
                    listenings,
                    /// Access radios
                    radios,
                    /// Access playlists
                    playlists,
                    /// Access personal notifications
                    notifications,
                    /// Access security settings
                    security,
                    /// Access reports
                    reports,
                    /// Access plugins
                    plugins,
                    #[group]
                    instance {
                        /// Access instance settings
                        settings,
                        /// Access local user accounts
                        users,
                        /// Access invitations
                        invitations,
                        /// Access instance metadata edits
                        edits,
                        /// Access instance uploads, libraries and audio metadata
                        libraries,
                        /// Access instance federated accounts
                        accounts,
                        /// Access instance domains
                        domains,
                        /// Access instance moderation policies
                        policies,
                        /// Access instance moderation reports
                        reports,
                        /// Access instance moderation requests
                        requests,
                        /// Access instance moderation notes
                        notes,
                    },
                },
            }
        }
    };
}

funkwhale_scopes!(
    /// Funkwhale's OAuth scopes.
    pub FunkwhaleScope
);
