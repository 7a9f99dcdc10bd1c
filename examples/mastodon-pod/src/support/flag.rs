//! Booleans to and from the database: read as either engine answers them,
//! bound as the integer flag columns store them.

/// A boolean read from the database: SQLite answers flags and `EXISTS`
/// as integers, PostgreSQL `EXISTS` (and `users.admin`) as booleans; this
/// reads both (the pod's flag columns are integers 0/1 on both engines).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Flag(pub(crate) bool);

impl sqlx::Type<sqlx::Any> for Flag {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <bool as sqlx::Type<sqlx::Any>>::type_info()
    }

    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        ty.kind() == sqlx::any::AnyTypeInfoKind::Bool || ty.kind().is_integer()
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Any> for Flag {
    fn decode(value: sqlx::any::AnyValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        match <bool as sqlx::Decode<'r, sqlx::Any>>::decode(value.clone()) {
            Ok(b) => Ok(Self(b)),
            Err(_) => <i64 as sqlx::Decode<'r, sqlx::Any>>::decode(value).map(|n| Self(n != 0)),
        }
    }
}

impl serde::Serialize for Flag {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bool(self.0)
    }
}

/// A boolean as the flag columns store it (integer 0/1 on both engines:
/// PostgreSQL does not assign a boolean to an integer column).
pub(crate) trait AsInt {
    /// The integer form.
    type Int;
    /// `true` is 1.
    fn int(self) -> Self::Int;
}

impl AsInt for bool {
    type Int = i64;
    fn int(self) -> i64 {
        i64::from(self)
    }
}

impl AsInt for Option<bool> {
    type Int = Option<i64>;
    fn int(self) -> Option<i64> {
        self.map(i64::from)
    }
}
