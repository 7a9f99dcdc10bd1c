//! The record decoders of both SQL stores: the same columns in both
//! schemas, decoded by one text (`record_decoders!`, expanded once per row
//! type by `shared_statements!`).

/// The decoders of the rows `$row` of engine `$db`: `hash_of`, `hash_from`,
/// `opt_hash_from`, `client_from`, `user_from`, `code_from`, `token_from`.
macro_rules! record_decoders {
    ($db:ty, $row:ty) => {
        /// A decoding failure.
        fn backend(e: sqlx::Error) -> StoreError {
            $crate::store::sql::engine::store_error::<$db>(e)
        }

        /// A stored [`SecretHash`], or an error if the value has the wrong length
        /// (a corrupt row, or a database written before the selector format).
        fn hash_of(column: &str, bytes: &[u8]) -> Result<SecretHash, StoreError> {
            SecretHash::from_slice(bytes).ok_or_else(|| {
                StoreError::Backend(format!(
                    "{column} is {} bytes, not a {}-byte secret hash",
                    bytes.len(),
                    SecretHash::LEN
                ))
            })
        }

        /// The hash in `column` of `row`.
        pub(crate) fn hash_from(row: &$row, column: &str) -> Result<SecretHash, StoreError> {
            let bytes: &[u8] = row.try_get(column).map_err(backend)?;
            hash_of(column, bytes)
        }

        fn opt_hash_from(row: &$row, column: &str) -> Result<Option<SecretHash>, StoreError> {
            let bytes: Option<&[u8]> = row.try_get(column).map_err(backend)?;
            bytes.map(|b| hash_of(column, b)).transpose()
        }

        fn client_from(row: &$row) -> Result<ClientRecord, StoreError> {
            let uris: String = row.try_get("redirect_uris").map_err(backend)?;
            Ok(ClientRecord {
                id: row.try_get("id").map_err(backend)?,
                client_id: row.try_get("client_id").map_err(backend)?,
                secret_hash: hash_from(row, "secret_hash")?,
                name: row.try_get("name").map_err(backend)?,
                redirect_uris: uris.lines().map(str::to_owned).collect(),
                scopes: row.try_get("scopes").map_err(backend)?,
                website: row.try_get("website").map_err(backend)?,
                owner: row.try_get("owner").map_err(backend)?,
                created_at: row.try_get("created_at").map_err(backend)?,
            })
        }

        fn user_from(row: &$row) -> Result<UserRecord, StoreError> {
            Ok(UserRecord {
                id: row.try_get("id").map_err(backend)?,
                username: row.try_get("username").map_err(backend)?,
                password_hash: row.try_get("password_hash").map_err(backend)?,
                admin: row.try_get("admin").map_err(backend)?,
                disabled: row.try_get("disabled").map_err(backend)?,
            })
        }

        fn code_from(row: &$row) -> Result<CodeRecord, StoreError> {
            Ok(CodeRecord {
                code_hash: hash_from(row, "code_hash")?,
                client_id: row.try_get("client_id").map_err(backend)?,
                user_id: row.try_get("user_id").map_err(backend)?,
                redirect_uri: row.try_get("redirect_uri").map_err(backend)?,
                redirect_uri_given: row.try_get("redirect_uri_given").map_err(backend)?,
                scopes: row.try_get("scopes").map_err(backend)?,
                challenge: row.try_get("challenge").map_err(backend)?,
                challenge_method: row.try_get("challenge_method").map_err(backend)?,
                expires_at: row.try_get("expires_at").map_err(backend)?,
            })
        }

        fn token_from(row: &$row) -> Result<TokenRecord, StoreError> {
            Ok(TokenRecord {
                id: row.try_get("id").map_err(backend)?,
                access_hash: hash_from(row, "access_hash")?,
                refresh_hash: opt_hash_from(row, "refresh_hash")?,
                client_id: row.try_get("client_id").map_err(backend)?,
                user_id: row.try_get("user_id").map_err(backend)?,
                scopes: row.try_get("scopes").map_err(backend)?,
                created_at: row.try_get("created_at").map_err(backend)?,
                expires_at: row.try_get("expires_at").map_err(backend)?,
                family: row.try_get("family").map_err(backend)?,
                code_hash: opt_hash_from(row, "code_hash")?,
                revoked: row.try_get("revoked").map_err(backend)?,
            })
        }
    };
}
pub(crate) use record_decoders;
