//! The pod as `pod-kit` runs it.

use pod_kit::Backend;
use pod_kit::StateContext;
use scope_runtime::enforce::ErrorStyle;
use sqlx::AnyPool;

use crate::{Api, AppState, Scope};

/// The Mastodon pod, for [`pod_kit::main`].
#[derive(Debug, Clone, Copy)]
pub struct MastodonPod;

impl pod_kit::Pod for MastodonPod {
    type Scope = Scope;
    type State = AppState;
    type Api = Api;
    const NAME: &'static str = crate::NAME;
    const VERSION: &'static str = crate::VERSION;
    // `{"error": "..."}` bodies, as Mastodon answers.
    const ERROR_STYLE: ErrorStyle = ErrorStyle::Mastodon;
    const TRAILING_SLASH_OPTIONAL: bool = true;

    fn migrator(backend: Backend) -> sqlx::migrate::Migrator {
        crate::migrator(backend)
    }

    // Mastodon has no `token = setting` routes: the switch is unused. URLs
    // come from the issuer.
    fn state(db: AnyPool, ctx: &StateContext) -> AppState {
        AppState::new(db, &ctx.issuer)
    }

    async fn seed_demo(db: &AnyPool, user_id: i64) -> Result<(), sqlx::Error> {
        crate::seed_demo(db, user_id).await
    }
}
