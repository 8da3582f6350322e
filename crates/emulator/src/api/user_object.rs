//! Slack's user object, as `users.lookupByEmail`, `users.info` and `users.list` return it: from
//! the seed where it has the field, Slack's rules for the rest (field meanings from Slack's user
//! type, shapes from Slack's method examples and the Node SDK's `UsersInfoResponse`).

use std::sync::LazyLock;

use sha2::{Digest, Sha256};
use slack_sessions_api::methods::{EnterpriseUser, User, UserProfile};
use slack_sessions_api::{Scope, TeamId, UserId};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use unicode_script::{Script, UnicodeScript};

use super::auth::Caller;
use crate::seed::{Role, UserSeed, default_app_id};

/// Slackbot, a user of every workspace (not a bot user: `is_bot` is false), listed by
/// `users.list` and answered by `users.info` as on Slack. It is no seed user: it has no email
/// address and no sessions, and exports leave it out.
pub static SLACKBOT: LazyLock<UserSeed> = LazyLock::new(|| UserSeed {
    id: UserId::SLACKBOT.into(),
    name: "slackbot".into(),
    real_name: Some("Slackbot".into()),
    display_name: Some("Slackbot".into()),
    ..UserSeed::default()
});

/// When every emulated user object was last "updated": fixed, so answers are stable.
const UPDATED: u64 = 1_700_000_000;

/// The bot id of a bot user (what `auth.test` answers for its token).
pub fn bot_id(user_id: &str) -> String {
    format!("B{}", user_id.trim_start_matches(['U', 'W']))
}

/// A name with any non-Latin characters filtered out, as Slack's `*_normalized` fields are
/// ("The display_name field, but with any non-Latin characters filtered out"): letters lose
/// their accents (`José` → `Jose`), other scripts and emoji go, and the spaces left where they
/// were close up.
fn normalized(name: &str) -> String {
    let latin: String = name
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .filter(|c| c.is_ascii() || c.script() == Script::Latin)
        .collect();
    latin.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The long names Slack gives zones in `tz_label`, by the abbreviation and offset the IANA
/// database gives them at a moment (an abbreviation alone is ambiguous: IST is India, Israel
/// or Ireland).
const LABELS: &[(&str, i32, &str)] = &[
    ("HST", -36_000, "Hawaii-Aleutian Standard Time"),
    ("HDT", -32_400, "Hawaii-Aleutian Daylight Time"),
    ("AKST", -32_400, "Alaska Standard Time"),
    ("AKDT", -28_800, "Alaska Daylight Time"),
    ("PST", -28_800, "Pacific Standard Time"),
    ("PDT", -25_200, "Pacific Daylight Time"),
    ("MST", -25_200, "Mountain Standard Time"),
    ("MDT", -21_600, "Mountain Daylight Time"),
    ("CST", -21_600, "Central Standard Time"),
    ("CDT", -18_000, "Central Daylight Time"),
    ("EST", -18_000, "Eastern Standard Time"),
    ("EDT", -14_400, "Eastern Daylight Time"),
    ("AST", -14_400, "Atlantic Standard Time"),
    ("ADT", -10_800, "Atlantic Daylight Time"),
    ("NST", -12_600, "Newfoundland Standard Time"),
    ("NDT", -9_000, "Newfoundland Daylight Time"),
    ("GMT", 0, "Greenwich Mean Time"),
    ("UTC", 0, "Coordinated Universal Time"),
    ("WET", 0, "Western European Time"),
    ("WEST", 3_600, "Western European Summer Time"),
    ("BST", 3_600, "British Summer Time"),
    ("IST", 3_600, "Irish Standard Time"),
    ("CET", 3_600, "Central European Time"),
    ("CEST", 7_200, "Central European Summer Time"),
    ("WAT", 3_600, "West Africa Standard Time"),
    ("CAT", 7_200, "Central Africa Time"),
    ("SAST", 7_200, "South Africa Standard Time"),
    ("EET", 7_200, "Eastern European Time"),
    ("EEST", 10_800, "Eastern European Summer Time"),
    ("IST", 7_200, "Israel Standard Time"),
    ("IDT", 10_800, "Israel Daylight Time"),
    ("EAT", 10_800, "East Africa Time"),
    ("MSK", 10_800, "Moscow Standard Time"),
    ("PKT", 18_000, "Pakistan Standard Time"),
    ("IST", 19_800, "India Standard Time"),
    ("WIB", 25_200, "Western Indonesia Time"),
    ("CST", 28_800, "China Standard Time"),
    ("HKT", 28_800, "Hong Kong Standard Time"),
    ("PST", 28_800, "Philippine Standard Time"),
    ("AWST", 28_800, "Australian Western Standard Time"),
    ("JST", 32_400, "Japan Standard Time"),
    ("KST", 32_400, "Korean Standard Time"),
    ("ACST", 34_200, "Australian Central Standard Time"),
    ("ACDT", 37_800, "Australian Central Daylight Time"),
    ("AEST", 36_000, "Australian Eastern Standard Time"),
    ("AEDT", 39_600, "Australian Eastern Daylight Time"),
    ("NZST", 43_200, "New Zealand Standard Time"),
    ("NZDT", 46_800, "New Zealand Daylight Time"),
];

/// A zone's label and offset from UTC in seconds, now (daylight saving included), from the IANA
/// database bundled with `jiff` (seeds are checked against it). A zone the table above does not
/// name is labelled by its abbreviation, or `UTC+08:00` where the database has only an offset.
fn zone(name: &str) -> (String, i64) {
    let tz = jiff::tz::TimeZone::get(name).unwrap_or(jiff::tz::TimeZone::UTC);
    let info = tz.to_offset_info(jiff::Timestamp::now());
    let (abbreviation, seconds) = (info.abbreviation(), info.offset().seconds());
    let label = LABELS
        .iter()
        .find(|(a, o, _)| *a == abbreviation && *o == seconds)
        .map(|(_, _, label)| (*label).to_owned())
        .unwrap_or_else(|| {
            if abbreviation.starts_with(['+', '-']) {
                let (sign, minutes) = (if seconds < 0 { '-' } else { '+' }, seconds.abs() / 60);
                format!("UTC{sign}{:02}:{:02}", minutes / 60, minutes % 60)
            } else {
                abbreviation.to_owned()
            }
        });
    (label, i64::from(seconds))
}

/// The full user object of `u` as `caller` sees it: the email address only with
/// `users:read.email`, `has_2fa` only for an admin, `is_app_user` for the users who authorized
/// the caller's app (hold an active user token of it; a bot user never does).
pub fn user_object(caller: &Caller<'_>, u: &UserSeed, include_locale: bool) -> User {
    let org = caller.org;
    let slackbot = u.id == UserId::SLACKBOT;
    let home = u.teams.first().map_or(org.id(), String::as_str);
    let hash: String = Sha256::digest(u.id.as_bytes())[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let real = u.real_name.clone().unwrap_or_else(|| u.name.clone());
    let display = u.display_name.clone().unwrap_or_else(|| u.name.clone());
    let (first, last) = real.split_once(' ').unwrap_or((real.as_str(), ""));
    let tz = u.tz.as_deref().unwrap_or("America/Los_Angeles");
    let (label, offset) = zone(tz);
    let image = |size: u32| {
        Some(format!(
            "https://avatars.slack-edge.com/emulator/{hash}_{size}.png"
        ))
    };

    let mut profile = UserProfile::default();
    profile.title = Some(u.title.clone().unwrap_or_default());
    profile.phone = Some(String::new());
    profile.real_name_normalized = Some(normalized(&real));
    profile.real_name = Some(real.clone());
    profile.display_name_normalized = Some(normalized(&display));
    profile.display_name = Some(display);
    profile.first_name = Some(first.to_owned());
    profile.last_name = Some(last.to_owned());
    profile.status_text = Some(String::new());
    profile.status_emoji = Some(String::new());
    profile.status_expiration = Some(0);
    profile.avatar_hash = Some(hash.clone());
    profile.email = u
        .email
        .clone()
        .filter(|_| caller.has_scope(Scope::UsersReadEmail));
    profile.image_24 = image(24);
    profile.image_32 = image(32);
    profile.image_48 = image(48);
    profile.image_72 = image(72);
    profile.image_192 = image(192);
    profile.image_512 = image(512);
    profile.team = Some(TeamId::new(home));
    if u.is_bot {
        profile.bot_id = Some(bot_id(&u.id));
        profile.api_app_id = Some(
            org.bot_app(&u.id)
                .map_or_else(|| default_app_id(org.id()), str::to_owned),
        );
        profile.always_active = Some(false);
    }
    if slackbot {
        profile.always_active = Some(true);
    }

    let is_owner = matches!(u.role, Role::PrimaryOwner | Role::Owner);
    let is_primary_owner = u.role == Role::PrimaryOwner;
    let mut user = User::new(UserId::new(u.id.as_str()), u.name.as_str());
    user.team_id = Some(TeamId::new(home));
    user.deleted = u.deleted;
    user.color = Some(if slackbot { "757575" } else { &hash[..6] }.to_owned());
    user.real_name = Some(real);
    user.tz = Some(tz.to_owned());
    user.tz_label = Some(label);
    user.tz_offset = Some(offset);
    user.profile = profile;
    user.is_admin = u.role.is_admin();
    user.is_owner = is_owner;
    user.is_primary_owner = is_primary_owner;
    user.is_restricted = u.role.is_guest();
    user.is_ultra_restricted = u.role == Role::SingleChannelGuest;
    user.is_bot = u.is_bot;
    user.is_app_user = !u.is_bot && org.authorized(&caller.app_id(), &u.id);
    user.updated = UPDATED;
    user.has_2fa = caller.user.role.is_admin().then_some(u.has_2fa);
    user.is_email_confirmed = Some(u.email.is_some());
    user.who_can_share_contact_card = Some("EVERYONE".into());
    user.locale = include_locale.then(|| "en-US".to_owned());
    if org.grid() && !slackbot {
        let mut e = EnterpriseUser::default();
        e.id = UserId::new(u.id.as_str());
        e.enterprise_id = TeamId::new(org.id());
        e.enterprise_name = org.name().to_owned();
        e.is_admin = user.is_admin;
        e.is_owner = is_owner;
        e.is_primary_owner = is_primary_owner;
        e.teams = u.teams.iter().map(|t| TeamId::new(t.as_str())).collect();
        user.enterprise_user = Some(e);
    }
    user
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized_names_keep_latin_letters_only() {
        assert_eq!(normalized("José Ñúñez 山田"), "Jose Nunez");
        assert_eq!(normalized("Zoë 😀 Петров"), "Zoe");
        assert_eq!(normalized("grace.hopper"), "grace.hopper");
        assert_eq!(normalized("Ｆｕｌｌ Width"), "Full Width");
        assert_eq!(normalized("Jürgen Weiß-Ørsted"), "Jurgen Weiß-Ørsted");
        assert_eq!(normalized("李"), "");
    }

    #[test]
    fn zones_have_offsets_and_labels() {
        assert_eq!(zone("Asia/Kolkata"), ("India Standard Time".into(), 19_800));
        assert_eq!(zone("UTC"), ("Coordinated Universal Time".into(), 0));
        let (label, offset) = zone("Asia/Singapore");
        assert_eq!((label.as_str(), offset), ("UTC+08:00", 28_800));
        let (label, offset) = zone("America/St_Johns");
        assert!(
            [
                ("Newfoundland Standard Time", -12_600),
                ("Newfoundland Daylight Time", -9_000)
            ]
            .contains(&(label.as_str(), offset)),
            "{label} {offset}"
        );
    }
}
