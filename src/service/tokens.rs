//! Access tokens (JWT, RFC 7519, HS256) and opaque refresh tokens.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::{DomainError, ErrorCode, SessionId, UserId};

const AUDIENCE: &str = "echochat";
const ACCESS: &str = "access";

/// Claims of an access token. Identity only: no role or other authority, which would go stale
/// for the token's lifetime (roles are read by the permission function on every check).
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: UserId,
    /// Session = refresh-token family id.
    pub sid: SessionId,
    /// Always `echochat`.
    pub aud: String,
    /// Always `access`.
    pub typ: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expiry (Unix seconds).
    pub exp: i64,
}

/// HS256 keys derived from the server secret (`secrets/jwt.key`).
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    /// Keys from a secret of at least 32 bytes.
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "aud", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// Signs an access token for `sub` in session `sid`, valid `ttl_secs` seconds.
    pub fn issue(&self, sub: UserId, sid: SessionId, ttl_secs: u64) -> Result<String, DomainError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub,
            sid,
            aud: AUDIENCE.into(),
            typ: ACCESS.into(),
            iat: now,
            exp: now + i64::try_from(ttl_secs).unwrap_or(900),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| anyhow::anyhow!("jwt encode: {e}").into())
    }

    /// Verifies signature, algorithm (HS256 only), `aud`, `exp` and `typ`.
    /// Errors: `unauthorized` (401).
    pub fn verify(&self, token: &str) -> Result<Claims, DomainError> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation).map_err(|_| {
            DomainError::unauthorized(ErrorCode::Unauthorized, "invalid or expired access token")
        })?;
        if data.claims.typ != ACCESS {
            return Err(DomainError::unauthorized(
                ErrorCode::Unauthorized,
                "not an access token",
            ));
        }
        Ok(data.claims)
    }
}

/// A new random 256-bit token, base64url without padding (43 characters).
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Lower-case hex SHA-256 of a token, the form in which tokens are stored.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Constant-time comparison of two strings' bytes.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
