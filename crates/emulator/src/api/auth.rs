//! Authentication (who is calling) and authorization (may they call this method).

use http::HeaderMap;
use slack_sessions_api::{ErrorCode, MethodInfo};

use super::Failure;
use crate::seed::{Role, TokenState, TokenType};
use crate::store::State;

/// The caller, once authenticated and authorized.
#[derive(Clone, Debug)]
pub struct Caller {
    /// Index of the caller's org.
    pub org: usize,
    /// The token's user.
    pub user_id: String,
    /// The user's role.
    pub role: Role,
    /// The token's type.
    pub kind: TokenType,
}

/// Picks the token: `Authorization: Bearer` first, then the `token` form or query field, then a
/// `token` header (as the APIMatic-generated SDKs send it).
pub fn token<'a>(headers: &'a HeaderMap, form_token: Option<&'a str>) -> Option<&'a str> {
    let bearer = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        });
    bearer
        .or(form_token)
        .or_else(|| headers.get("token").and_then(|v| v.to_str().ok()))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The scopes of a known token, comma-separated, for `x-oauth-scopes`.
pub fn scopes_of(state: &State, token: Option<&str>) -> Option<String> {
    state.tokens.get(token?).map(|t| t.seed.scopes.join(","))
}

/// Checks the token against the method, in Slack's order: authentication, token type, scope,
/// plan, role.
pub fn authorize(
    state: &State,
    token: Option<&str>,
    method: &MethodInfo,
) -> Result<Caller, Failure> {
    let token = token.ok_or_else(|| Failure::new(ErrorCode::NotAuthed))?;
    let record = state
        .tokens
        .get(token)
        .ok_or_else(|| Failure::new(ErrorCode::InvalidAuth))?;
    match record.seed.state {
        TokenState::Active => {}
        TokenState::Revoked => return Err(Failure::new(ErrorCode::TokenRevoked)),
        TokenState::Expired => return Err(Failure::new(ErrorCode::TokenExpired)),
    }
    let org = &state.orgs[record.org];
    let user = org
        .users
        .get(&record.seed.user_id)
        .filter(|u| !u.deleted)
        .ok_or_else(|| Failure::new(ErrorCode::AccountInactive))?;
    let kind = record.seed.kind();
    if method.admin && kind == TokenType::Bot {
        return Err(Failure::new(ErrorCode::NotAllowedTokenType));
    }
    if let Some(scope) = method.scope
        && !record.seed.scopes.iter().any(|s| s == scope.as_str())
    {
        let mut failure = Failure::new(ErrorCode::MissingScope);
        failure.needed = Some(scope.as_str().to_owned());
        failure.provided = Some(record.seed.scopes.join(","));
        return Err(failure);
    }
    if method.admin {
        if !org.grid {
            return Err(Failure::new(ErrorCode::FeatureNotEnabled));
        }
        if !user.role.is_admin() {
            return Err(Failure::new(ErrorCode::NotAnAdmin));
        }
    }
    Ok(Caller {
        org: record.org,
        user_id: user.id.clone(),
        role: user.role,
        kind,
    })
}
