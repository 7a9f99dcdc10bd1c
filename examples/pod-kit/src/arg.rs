//! A value bound to a query over the pods' [`AnyPool`](sqlx::AnyPool)
//! whose text is assembled at run time (a list's filters): the clauses
//! are collected with their arguments, then bound in order.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Any, Database, Encode, Type};

/// A bind argument of a query written at run time: bind it with
/// `query.bind(&arg)` (`sqlx::query`, `query_as` or `query_scalar`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// An integer, or NULL.
    Int(Option<i64>),
    /// Text.
    Text(String),
}

impl Type<Any> for Arg {
    /// The type of NULL and integer arguments; `Any` reads the type of a
    /// bound value from the value itself (text is sent as text).
    fn type_info() -> <Any as Database>::TypeInfo {
        <i64 as Type<Any>>::type_info()
    }
}

impl<'q> Encode<'q, Any> for Arg {
    fn encode_by_ref(
        &self,
        buf: &mut <Any as Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        match self {
            Self::Int(n) => <Option<i64> as Encode<'q, Any>>::encode_by_ref(n, buf),
            Self::Text(s) => <String as Encode<'q, Any>>::encode_by_ref(s, buf),
        }
    }
}
