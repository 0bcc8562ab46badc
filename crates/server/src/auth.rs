//! Bearer-token authentication and role checks.
//!
//! A token is 256 random bits in hex; the store keeps only its SHA-256. Look-ups are
//! cached for a few seconds per process (heartbeats would otherwise cost a query each),
//! and a revoked token stops working at once on every replica: the store announces the
//! revocation (`Notice::TokensRevoked`, over PostgreSQL's NOTIFY) and each server forgets
//! it; a notice lost with a dropped database connection still expires within
//! [`CACHE_TTL`].
//!
//! Handlers take [`Authorized<R>`] as their first extractor after the state: the role
//! set `R` is part of the handler's type, and the check runs in the extractor stage,
//! before the path, query and body are parsed, so a caller without the role gets 403
//! whatever it sent (a malformed body is not read, let alone answered with 422). There
//! is no other way to get a [`Caller`]: a route cannot forget its roles.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use patchpilot_store::{Actor, Role, Token, TokenHash, Ts};
use rand::RngCore;

use crate::error::ApiError;
use crate::AppState;

pub const CACHE_TTL: Duration = Duration::from_secs(5);
const CACHE_MAX: usize = 100_000;

/// A new secret: 32 random bytes from the OS generator, hex.
pub fn new_secret() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

#[derive(Default)]
pub struct TokenCache {
    map: Mutex<HashMap<TokenHash, (Token, Instant)>>,
}

impl TokenCache {
    fn get(&self, h: &TokenHash) -> Option<Token> {
        let map = self.map.lock().ok()?;
        map.get(h)
            .filter(|(_, at)| at.elapsed() < CACHE_TTL)
            .map(|(t, _)| t.clone())
    }
    fn put(&self, h: TokenHash, t: Token) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= CACHE_MAX {
                map.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
                if map.len() >= CACHE_MAX {
                    map.clear();
                }
            }
            map.insert(h, (t, Instant::now()));
        }
    }
    /// Forget a token now (this process revoked it or used up an enrolment token).
    pub fn forget_id(&self, id: i64) {
        self.forget_ids(&[id]);
    }
    /// Forget every token (revocation notices were lost).
    pub fn clear(&self) {
        if let Ok(mut map) = self.map.lock() {
            map.clear();
        }
    }
    /// Forget these tokens now (a re-enrolment revoked an asset's agent tokens).
    pub fn forget_ids(&self, ids: &[i64]) {
        if ids.is_empty() {
            return;
        }
        if let Ok(mut map) = self.map.lock() {
            map.retain(|_, (t, _)| !ids.contains(&t.id));
        }
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token: Token,
    pub hash: TokenHash,
    pub actor: Actor,
}

impl Caller {
    /// 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.token.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "role {} may not do this (allowed: {})",
                self.token.role.as_str(),
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    }

    /// The asset an agent token is bound to.
    pub fn agent_asset(&self) -> Result<i64, ApiError> {
        self.require(&[Role::Agent])?;
        self.token
            .asset_id
            .ok_or_else(|| ApiError::forbidden("agent token is not bound to an asset"))
    }
}

/// Who may read the fleet's state.
pub const READERS: &[Role] = &[Role::Admin, Role::Operator, Role::Approver, Role::Auditor];
/// Who may change assets and queue jobs.
pub const OPERATORS: &[Role] = &[Role::Admin, Role::Operator];
/// Who may accept or suppress findings.
pub const APPROVERS: &[Role] = &[Role::Admin, Role::Approver];
/// Who may read the audit log.
pub const AUDITORS: &[Role] = &[Role::Admin, Role::Auditor];
pub const ADMINS: &[Role] = &[Role::Admin];

/// A set of roles a route admits, as a type (see [`Authorized`]).
pub trait RoleSet: Send + Sync + 'static {
    const ROLES: &'static [Role];
}

macro_rules! role_sets {
    ($($(#[$doc:meta])* $name:ident = $roles:expr;)*) => {$(
        $(#[$doc])*
        pub struct $name;
        impl RoleSet for $name {
            const ROLES: &'static [Role] = $roles;
        }
    )*};
}

role_sets! {
    /// [`READERS`].
    Readers = READERS;
    /// [`OPERATORS`].
    Operators = OPERATORS;
    /// [`APPROVERS`].
    Approvers = APPROVERS;
    /// [`AUDITORS`].
    Auditors = AUDITORS;
    /// [`ADMINS`].
    Admins = ADMINS;
    /// Agents (bound to an asset).
    Agents = &[Role::Agent];
    /// One-time enrolment tokens.
    Enrollers = &[Role::Enroll];
}

/// An authenticated caller that has one of `R`'s roles: 401 without a usable token,
/// 403 with another role. Extracted from the request's head only.
pub struct Authorized<R: RoleSet> {
    pub caller: Caller,
    roles: PhantomData<R>,
}

impl<R: RoleSet> std::ops::Deref for Authorized<R> {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.caller
    }
}

impl<R: RoleSet> FromRequestParts<Arc<AppState>> for Authorized<R> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let caller = authenticate(parts, state).await?;
        caller.require(R::ROLES)?;
        Ok(Authorized {
            caller,
            roles: PhantomData,
        })
    }
}

/// Who sent the request: the bearer token, looked up (through the cache) and usable now.
async fn authenticate(parts: &Parts, state: &Arc<AppState>) -> Result<Caller, ApiError> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer token"))?;
    let secret = header
        .to_str()
        .ok()
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 256)
        .ok_or_else(|| ApiError::unauthorized("Authorization must be `Bearer <token>`"))?;
    let hash = TokenHash::of_secret(secret);
    let token = match state.tokens.get(&hash) {
        Some(t) => t,
        None => {
            let t = state
                .store
                .token_by_hash(&hash)
                .await?
                .ok_or_else(|| ApiError::unauthorized("unknown token"))?;
            state.tokens.put(hash.clone(), t.clone());
            t
        }
    };
    if !token.usable_at(Ts::now()) {
        return Err(ApiError::unauthorized(
            "token expired, revoked or already used",
        ));
    }
    let actor = Actor {
        principal: format!("token:{}", token.id),
        role: token.role,
    };
    Ok(Caller { token, hash, actor })
}
