//! Users named on the command line or in a file: IDs as they are, emails resolved with
//! `users.lookupByEmail`.

use slack_sessions_client::api::{ErrorCode, UserId};
use slack_sessions_client::methods::{LookupByEmailArgs, User};
use slack_sessions_client::{Client, Error};

use crate::exit::{API, Failure, Result};

/// A user as written: an ID or an email address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserRef {
    /// A user ID (`W…` or `U…`).
    Id(UserId),
    /// An email address.
    Email(String),
}

/// True for a Slack user ID: `U` or `W`, then upper-case letters and digits.
pub fn looks_like_id(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some('U' | 'W'))
        && text.len() >= 3
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// True for something shaped like an email address: `local@domain`, no spaces.
pub fn looks_like_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text
            .chars()
            .any(|c| c.is_whitespace() || c == ',' || c == ';')
}

/// Reads a user as written, or says why it is neither an ID nor an email.
pub fn parse(text: &str) -> std::result::Result<UserRef, String> {
    let text = text.trim();
    // `Ada Lovelace <ada@example.com>` and `"Lovelace, Ada" <ada@…>`: the part in brackets.
    let bracketed = match (text.rfind('<'), text.strip_suffix('>')) {
        (Some(open), Some(inner)) => inner[open + 1..].trim(),
        _ => text,
    };
    let unquoted = strip_prefix_ignore_case(bracketed, "mailto:").unwrap_or(bracketed);
    if looks_like_id(unquoted) {
        Ok(UserRef::Id(UserId::new(unquoted)))
    } else if looks_like_email(unquoted) {
        Ok(UserRef::Email(unquoted.to_owned()))
    } else if unquoted.is_empty() {
        Err("empty".to_owned())
    } else {
        Err(format!(
            "{unquoted:?} is neither a user ID (W…, U…) nor an email address"
        ))
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    text.get(..prefix.len())
        .filter(|p| p.eq_ignore_ascii_case(prefix))
        .map(|_| &text[prefix.len()..])
}

/// Looks an email up: `Ok(None)` when Slack knows no such user (`users_not_found`).
pub async fn lookup(client: &Client, email: &str) -> std::result::Result<Option<User>, Error> {
    match client.lookup_by_email(LookupByEmailArgs::new(email)).await {
        Ok(answer) => Ok(Some(answer.into_body().user)),
        Err(Error::Slack(e)) if e.code == ErrorCode::UsersNotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// A user named on the command line, resolved.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// As written.
    pub input: String,
    /// The user's ID.
    pub user_id: UserId,
}

/// Resolves every user named on the command line. Nothing is done unless every one resolves:
/// a typo in one email must not leave a half-done command. `changes`: the command would have
/// changed something (the error then says that nothing was).
pub async fn resolve_all(
    client: &Client,
    inputs: &[String],
    changes: bool,
) -> Result<Vec<Resolved>> {
    let mut refs = Vec::with_capacity(inputs.len());
    for input in inputs {
        match parse(input) {
            Ok(r) => refs.push((input.clone(), r)),
            Err(why) => return Err(Failure::usage(format!("user {why}"))),
        }
    }
    let mut out = Vec::with_capacity(refs.len());
    let mut unknown = Vec::new();
    for (input, r) in refs {
        match r {
            UserRef::Id(id) => out.push(Resolved { input, user_id: id }),
            UserRef::Email(email) => match lookup(client, &email).await {
                Ok(Some(user)) => out.push(Resolved {
                    input,
                    user_id: user.id,
                }),
                Ok(None) => unknown.push(email),
                Err(e) => return Err(Failure::api(format!("cannot look up {email}"), &e)),
            },
        }
    }
    if !unknown.is_empty() {
        return Err(Failure::new(
            API,
            format!(
                "no Slack user has the email address {} (users_not_found){}",
                unknown.join(", "),
                if changes { "; nothing was changed" } else { "" }
            ),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_emails() {
        assert_eq!(
            parse("W012A3CDE"),
            Ok(UserRef::Id(UserId::new("W012A3CDE")))
        );
        assert_eq!(
            parse(" U0G9QF9C6 "),
            Ok(UserRef::Id(UserId::new("U0G9QF9C6")))
        );
        assert_eq!(
            parse("ada@example.com"),
            Ok(UserRef::Email("ada@example.com".into()))
        );
        assert_eq!(
            parse("<Ada.Lovelace@Example.com>"),
            Ok(UserRef::Email("Ada.Lovelace@Example.com".into()))
        );
        for (written, address) in [
            ("Ada Lovelace <ada@example.com>", "ada@example.com"),
            ("\"Lovelace, Ada\" <ada@example.com>", "ada@example.com"),
            ("mailto:ada@example.com", "ada@example.com"),
            ("<MAILTO:ada@example.com>", "ada@example.com"),
        ] {
            assert_eq!(
                parse(written),
                Ok(UserRef::Email(address.into())),
                "{written}"
            );
        }
        for bad in [
            "",
            "ada",
            "w012a3cde",
            "T012AB3CD",
            "a@",
            "@b",
            "a b@c.d",
            "a@b@c",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse("bob").unwrap_err().contains("neither a user ID"));
    }
}
