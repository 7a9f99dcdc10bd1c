//! The `WHERE` clauses of a list query, assembled at run time, and the
//! page of ids they select.

use sqlx::AnyPool;

use super::{ApiError, ApiResult, Page, Query};
use crate::privacy;

/// A bind argument of a [`Where`] clause.
pub(crate) use pod_kit::Arg;

/// The `WHERE` clauses of a list query, with their arguments in order
/// (clauses use plain `?` placeholders, numbered `$1`, `$2`, ... when the
/// query is written: both engines read `$N`).
#[derive(Debug, Default)]
pub(crate) struct Where {
    clauses: Vec<String>,
    args: Vec<Arg>,
}

impl Where {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Adds `clause`, whose `?`s take `args` in order.
    pub(crate) fn and(&mut self, clause: impl Into<String>, args: impl IntoIterator<Item = Arg>) {
        self.clauses.push(clause.into());
        self.args.extend(args);
    }

    /// `column` contains `text` (LIKE with its wildcards escaped: `?q=%`
    /// searches for a percent sign, not for everything).
    pub(crate) fn contains(&mut self, column: &str, text: &str) {
        // lower() on both sides: SQLite's LIKE ignores ASCII case,
        // PostgreSQL's does not.
        self.and(
            format!("lower({column}) LIKE '%' || lower(?) || '%' ESCAPE '\\'"),
            [Arg::Text(like_escape(text))],
        );
    }

    /// What `viewer` (`None`: anonymous) sees of the libraries or
    /// playlists aliased `alias` ([`privacy::visible`]).
    pub(crate) fn privacy(&mut self, alias: &str, viewer: Option<i64>) {
        self.and(privacy::visible(alias, viewer), []);
    }

    /// The clauses, their `?`s numbered `$1`, `$2`, ... (none of the
    /// clauses has a `?` inside a string literal).
    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            return "1 = 1".to_owned();
        }
        let joined = self.clauses.join(" AND ");
        let mut out = String::with_capacity(joined.len() + 8);
        let mut n = 0;
        for c in joined.chars() {
            if c == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(c);
            }
        }
        out
    }

    fn bind<'q, O>(
        &'q self,
        mut query: sqlx::query::QueryScalar<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::QueryScalar<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
        for arg in &self.args {
            query = query.bind(arg);
        }
        query
    }

    /// Counts the rows of `from` (a table with alias, or a join) matching
    /// the clauses, reads the page the query asks for, and returns it with
    /// the ids (`id_col`) of its rows in `order`.
    pub(crate) async fn page(
        &self,
        db: &AnyPool,
        from: &str,
        id_col: &str,
        order: &str,
        query: &Query,
    ) -> ApiResult<(Page, i64, Vec<i64>)> {
        // A filter holding a NUL matches nothing on SQLite and is an error
        // on PostgreSQL: refused on both, as django-filter's CharFilter
        // refuses it (ProhibitNullCharactersValidator).
        if self
            .args
            .iter()
            .any(|arg| matches!(arg, Arg::Text(s) if s.contains('\0')))
        {
            return Err(ApiError::BadRequest(
                "Null characters are not allowed.".into(),
            ));
        }
        let count_sql = format!("SELECT COUNT(*) FROM {from} WHERE {}", self.sql());
        let count: i64 = self
            .bind(sqlx::query_scalar(&count_sql))
            .fetch_one(db)
            .await?;
        let page = Page::new(query, count)?;
        let n = self.args.len();
        let ids_sql = format!(
            "SELECT {id_col} FROM {from} WHERE {} ORDER BY {order} LIMIT ${} OFFSET ${}",
            self.sql(),
            n + 1,
            n + 2
        );
        let ids: Vec<i64> = self
            .bind(sqlx::query_scalar(&ids_sql))
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(db)
            .await?;
        Ok((page, count, ids))
    }
}

/// `text` with LIKE's wildcards escaped for `ESCAPE '\'`.
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
