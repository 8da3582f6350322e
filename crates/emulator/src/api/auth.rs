//! Authentication (who is calling) and authorization (may they call this method), once per
//! request, against the view the method then runs on.

use http::HeaderMap;
use slack_sessions_api::{ErrorCode, MethodInfo, Scope};

use super::ErrorAnswer;
use crate::seed::{Role, TokenSeed, TokenState, TokenType, UserSeed};
use crate::store::{OrgView, TokenView, View};

/// The caller, authenticated and authorized, borrowed from the view it was checked against:
/// it cannot outlive that view, so a method never runs on another state than its caller's.
#[derive(Clone, Copy, Debug)]
pub struct Caller<'s> {
    /// The caller's org.
    pub org: OrgView<'s>,
    /// The token's user.
    pub user: &'s UserSeed,
    /// The token.
    pub token: &'s TokenSeed,
}

impl Caller<'_> {
    /// The user's role.
    pub fn role(&self) -> Role {
        self.user.role
    }

    /// Whether the token was granted `scope`.
    pub fn has_scope(&self, scope: Scope) -> bool {
        self.token.scopes.iter().any(|s| s == scope.as_str())
    }

    /// The app the token belongs to (rate limits are counted per app).
    pub fn app_id(&self) -> String {
        self.token.app_id(self.org.id())
    }
}

/// What the request log and the scope headers say of a known token, whatever the call's outcome.
#[derive(Clone, Debug, Default)]
pub struct Who {
    /// The token's org.
    pub org_id: String,
    /// The token's user.
    pub user_id: String,
    /// The token's scopes, comma-separated (`x-oauth-scopes`).
    pub scopes: String,
}

impl Who {
    /// What is known of `token` in `view`.
    pub fn of(view: View<'_>, token: Option<&str>) -> Option<Who> {
        view.token(token?).map(Who::from_token)
    }

    fn from_token(t: TokenView<'_>) -> Who {
        Who {
            org_id: t.org.id().to_owned(),
            user_id: t.seed.user_id.clone(),
            scopes: t.seed.scopes.join(","),
        }
    }

    /// [`Who::of`], with the org id and workspace ids of the token's org (what a fault rule's
    /// `team` matches), from one lookup of the token.
    pub fn with_teams(view: View<'_>, token: Option<&str>) -> Option<(Who, Vec<String>)> {
        let t = view.token(token?)?;
        let teams = std::iter::once(t.org.id())
            .chain(t.org.teams().iter().map(|t| t.id.as_str()))
            .map(str::to_owned)
            .collect();
        Some((Who::from_token(t), teams))
    }
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

/// Checks the token against the method, in Slack's order: authentication, token type, scope,
/// plan, role.
pub fn authenticate<'s>(
    view: View<'s>,
    token: Option<&str>,
    method: &MethodInfo,
) -> Result<Caller<'s>, ErrorAnswer> {
    let token = token.ok_or_else(|| ErrorAnswer::new(ErrorCode::NotAuthed))?;
    let record = view
        .token(token)
        .ok_or_else(|| ErrorAnswer::new(ErrorCode::InvalidAuth))?;
    match record.seed.state {
        TokenState::Active => {}
        TokenState::Revoked => return Err(ErrorAnswer::new(ErrorCode::TokenRevoked)),
        TokenState::Expired => return Err(ErrorAnswer::new(ErrorCode::TokenExpired)),
    }
    let org = record.org;
    let user = org
        .user(&record.seed.user_id)
        .filter(|u| !u.deleted)
        .ok_or_else(|| ErrorAnswer::new(ErrorCode::AccountInactive))?;
    let kind = record.seed.kind();
    if method.admin && kind == TokenType::Bot {
        return Err(ErrorAnswer::new(ErrorCode::NotAllowedTokenType));
    }
    if let Some(scope) = method.scope
        && !record.seed.scopes.iter().any(|s| s == scope.as_str())
    {
        let mut missing = ErrorAnswer::new(ErrorCode::MissingScope);
        missing.needed = Some(scope.as_str().to_owned());
        missing.provided = Some(record.seed.scopes.join(","));
        return Err(missing);
    }
    if method.admin {
        if !org.grid() {
            return Err(ErrorAnswer::new(ErrorCode::FeatureNotEnabled));
        }
        if !user.role.is_admin() {
            return Err(ErrorAnswer::new(ErrorCode::NotAnAdmin));
        }
    }
    Ok(Caller {
        org,
        user,
        token: record.seed,
    })
}
