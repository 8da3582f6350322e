//! Decoding sessions in place.
//!
//! A page of `admin.users.session.list` is a thousand sessions of about 300 bytes each, and
//! decoding them is most of what a walk of the org costs the client. Decoded the way
//! `#[derive(Deserialize)]` does it, each string and each device record is built on the stack
//! and then moved into its session, the session into the page's `Vec`: about a kilobyte copied
//! for every 240 bytes of JSON read. Here the `Vec` gets a blank session first and each member,
//! strings included, is decoded straight into its place: a page decodes in about two thirds
//! of the time (benchmark section 3 measures both). What is accepted, and every error, is as
//! with the derive (the tests compare the two): unknown members are skipped, a missing
//! required member is `missing field`, a repeated one `duplicate field`, `null` is an absent
//! optional member, and a record may be written as an array of its members in order.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{ActiveSession, DeviceRecord};
use crate::{CompactString, SessionId, TeamId, UserId};

impl<'de> Deserialize<'de> for ActiveSession {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut session = blank();
        Session(&mut session).deserialize(d)?;
        Ok(session)
    }
}

impl<'de> Deserialize<'de> for DeviceRecord {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut record = DeviceRecord::default();
        Device(&mut record).deserialize(d)?;
        Ok(record)
    }
}

/// `ListResponse::active_sessions`: each session decoded into its place in the `Vec`.
pub(super) fn sessions<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ActiveSession>, D::Error> {
    struct Sessions;
    impl<'de> Visitor<'de> for Sessions {
        type Value = Vec<ActiveSession>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a sequence")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut sessions = Vec::new();
            loop {
                sessions.push(blank());
                let place = sessions.last_mut().expect("just pushed");
                if seq.next_element_seed(Session(place))?.is_none() {
                    sessions.pop();
                    return Ok(sessions);
                }
            }
        }
    }
    d.deserialize_seq(Sessions)
}

/// What a session is before its members are decoded into it.
fn blank() -> ActiveSession {
    ActiveSession::new(
        UserId::default(),
        TeamId::default(),
        SessionId(0),
        DeviceRecord::default(),
        None,
    )
}

#[derive(Clone, Copy, Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum SessionMember {
    UserId,
    TeamId,
    SessionId,
    Created,
    Recent,
    #[serde(other)]
    Other,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum DeviceMember {
    DeviceHardware,
    Os,
    OsVersion,
    SlackClientVersion,
    Ip,
    #[serde(other)]
    Other,
}

const SESSION_MEMBERS: &[&str] = &["user_id", "team_id", "session_id", "created", "recent"];
const DEVICE_MEMBERS: &[&str] = &[
    "device_hardware",
    "os",
    "os_version",
    "slack_client_version",
    "ip",
];

/// Marks member `i` of `names` seen, or fails as the derive does on a repeated member.
fn first_time<E: de::Error>(seen: &mut u8, i: usize, names: &[&'static str]) -> Result<(), E> {
    if *seen & (1 << i) != 0 {
        return Err(E::duplicate_field(names[i]));
    }
    *seen |= 1 << i;
    Ok(())
}

/// Decodes a session into the one it borrows.
struct Session<'a>(&'a mut ActiveSession);

impl<'de> DeserializeSeed<'de> for Session<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_struct("ActiveSession", SESSION_MEMBERS, self)
    }
}

impl<'de> Visitor<'de> for Session<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct ActiveSession")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let s = self.0;
        let mut seen = 0u8;
        while let Some(member) = map.next_key()? {
            if matches!(member, SessionMember::Other) {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            first_time(&mut seen, member as usize, SESSION_MEMBERS)?;
            match member {
                SessionMember::UserId => map.next_value_seed(Text(&mut s.user_id))?,
                SessionMember::TeamId => map.next_value_seed(Text(&mut s.team_id))?,
                SessionMember::SessionId => s.session_id = map.next_value()?,
                SessionMember::Created => map.next_value_seed(Device(&mut s.created))?,
                SessionMember::Recent => map.next_value_seed(Recent(&mut s.recent))?,
                SessionMember::Other => unreachable!("skipped above"),
            }
        }
        // Every member but `recent` is required.
        match (0..4).find(|i| seen & (1 << i) == 0) {
            Some(i) => Err(de::Error::missing_field(SESSION_MEMBERS[i])),
            None => Ok(()),
        }
    }
    /// A session written as an array of its members in order, which the derive accepts too.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let s = self.0;
        let short = |i| de::Error::invalid_length(i, &"struct ActiveSession with 5 elements");
        seq.next_element_seed(Text(&mut s.user_id))?
            .ok_or_else(|| short(0))?;
        seq.next_element_seed(Text(&mut s.team_id))?
            .ok_or_else(|| short(1))?;
        s.session_id = seq.next_element()?.ok_or_else(|| short(2))?;
        seq.next_element_seed(Device(&mut s.created))?
            .ok_or_else(|| short(3))?;
        seq.next_element_seed(Recent(&mut s.recent))?;
        Ok(())
    }
}

/// Decodes `recent`: `null` is no record.
struct Recent<'a>(&'a mut Option<DeviceRecord>);

impl<'de> DeserializeSeed<'de> for Recent<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for Recent<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("option")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        *self.0 = None;
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.visit_none()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        Device(self.0.insert(DeviceRecord::default())).deserialize(d)
    }
}

/// Decodes a string into its place: an id, or an optional device field (`null` is `None`).
/// Built where it is kept, the string is not built on the stack and then copied (reading back
/// an inline string just written a byte at a time stalls the processor): 15% of a page's
/// decoding time.
struct Text<'a, T>(&'a mut T);

/// What [`Text`] decodes into.
trait Place {
    /// Whether `null` is allowed (and means `None`).
    const OPTIONAL: bool;
    fn set(&mut self, text: &str);
    fn clear(&mut self) {}
}

impl Place for UserId {
    const OPTIONAL: bool = false;
    fn set(&mut self, text: &str) {
        *self = UserId::from(text);
    }
}

impl Place for TeamId {
    const OPTIONAL: bool = false;
    fn set(&mut self, text: &str) {
        *self = TeamId::from(text);
    }
}

impl Place for Option<CompactString> {
    const OPTIONAL: bool = true;
    fn set(&mut self, text: &str) {
        *self = Some(CompactString::new(text));
    }
    fn clear(&mut self) {
        *self = None;
    }
}

impl<'de, T: Place> DeserializeSeed<'de> for Text<'_, T> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if T::OPTIONAL {
            d.deserialize_option(self)
        } else {
            d.deserialize_str(self)
        }
    }
}

impl<'de, T: Place> Visitor<'de> for Text<'_, T> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        // The derive's message (compact_str's).
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.set(v);
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.0.clear();
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.visit_none()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

/// Decodes a device record into the one it borrows; every member is optional.
struct Device<'a>(&'a mut DeviceRecord);

impl<'de> DeserializeSeed<'de> for Device<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_struct("DeviceRecord", DEVICE_MEMBERS, self)
    }
}

impl<'de> Visitor<'de> for Device<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct DeviceRecord")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let r = self.0;
        let mut seen = 0u8;
        while let Some(member) = map.next_key()? {
            let field = match member {
                DeviceMember::DeviceHardware => &mut r.device_hardware,
                DeviceMember::Os => &mut r.os,
                DeviceMember::OsVersion => &mut r.os_version,
                DeviceMember::SlackClientVersion => &mut r.slack_client_version,
                DeviceMember::Ip => &mut r.ip,
                DeviceMember::Other => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            first_time(&mut seen, member as usize, DEVICE_MEMBERS)?;
            map.next_value_seed(Text(field))?;
        }
        Ok(())
    }
    /// A record written as an array of its members in order, which the derive accepts too.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let r = self.0;
        for field in [
            &mut r.device_hardware,
            &mut r.os,
            &mut r.os_version,
            &mut r.slack_client_version,
            &mut r.ip,
        ] {
            match seq.next_element()? {
                Some(value) => *field = value,
                None => break,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::{ActiveSession, DeviceRecord, ListResponse};

    // What `#[derive(Deserialize)]` makes of the same types (named the same, for the same
    // messages): the decoder must accept what these accept, give the same values, and fail with
    // the same errors at the same places.
    mod derived {
        use compact_str::CompactString;
        use serde::Deserialize;

        use crate::{SessionId, TeamId, UserId};

        #[derive(Debug, Deserialize)]
        pub struct ActiveSession {
            user_id: UserId,
            team_id: TeamId,
            session_id: SessionId,
            created: DeviceRecord,
            #[serde(default)]
            recent: Option<DeviceRecord>,
        }

        #[derive(Debug, Deserialize)]
        pub struct DeviceRecord {
            #[serde(default)]
            device_hardware: Option<CompactString>,
            #[serde(default)]
            os: Option<CompactString>,
            #[serde(default)]
            os_version: Option<CompactString>,
            #[serde(default)]
            slack_client_version: Option<CompactString>,
            #[serde(default)]
            ip: Option<CompactString>,
        }

        #[derive(Debug, Deserialize)]
        pub struct ListResponse {
            active_sessions: Vec<ActiveSession>,
        }

        impl From<DeviceRecord> for super::DeviceRecord {
            fn from(d: DeviceRecord) -> Self {
                super::DeviceRecord {
                    device_hardware: d.device_hardware,
                    os: d.os,
                    os_version: d.os_version,
                    slack_client_version: d.slack_client_version,
                    ip: d.ip,
                }
            }
        }

        impl From<ActiveSession> for super::ActiveSession {
            fn from(s: ActiveSession) -> Self {
                super::ActiveSession::new(
                    s.user_id,
                    s.team_id,
                    s.session_id,
                    s.created.into(),
                    s.recent.map(Into::into),
                )
            }
        }

        impl From<ListResponse> for super::ListResponse {
            fn from(p: ListResponse) -> Self {
                super::ListResponse::new(p.active_sessions.into_iter().map(Into::into).collect())
            }
        }
    }

    fn same<T: PartialEq + std::fmt::Debug>(
        ours: serde_json::Result<T>,
        derived: serde_json::Result<T>,
        json: &str,
    ) -> Result<(), TestCaseError> {
        match (ours, derived) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b, "{}", json),
            (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string(), "{}", json),
            (a, b) => prop_assert!(false, "{json}: ours {a:?}, derived {b:?}"),
        }
        Ok(())
    }

    /// A JSON value for a member: what Slack sends, and what it should not.
    fn value(device: BoxedStrategy<String>) -> impl Strategy<Value = String> {
        prop_oneof![
            Just(r#""W012ABC""#.to_owned()),
            Just(
                r#""a \"quoted\" \\ \u00e9 string that is longer than twenty-four bytes""#
                    .to_owned()
            ),
            Just("1000000000002".to_owned()),
            Just(r#""42""#.to_owned()),
            Just("null".to_owned()),
            Just("-1".to_owned()),
            Just("true".to_owned()),
            Just(r#"["a"]"#.to_owned()),
            Just(r#"{"x":[1,{"y":null}]}"#.to_owned()),
            device,
        ]
    }

    fn object(
        names: &'static [&'static str],
        values: BoxedStrategy<String>,
    ) -> BoxedStrategy<String> {
        prop::collection::vec((0..names.len(), values), 0..8)
            .prop_map(move |members| {
                let members: Vec<String> = members
                    .into_iter()
                    .map(|(i, v)| format!("\"{}\": {v}", names[i]))
                    .collect();
                format!("{{{}}}", members.join(", "))
            })
            .boxed()
    }

    const SESSION: &[&str] = &[
        "user_id",
        "team_id",
        "session_id",
        "created",
        "recent",
        "other",
    ];
    const DEVICE: &[&str] = &[
        "device_hardware",
        "os",
        "os_version",
        "slack_client_version",
        "ip",
        "other",
    ];

    fn device() -> BoxedStrategy<String> {
        object(DEVICE, value(Just("{}".to_owned()).boxed()).boxed())
    }

    /// A session object whose members are mostly right: each required one present once, in any
    /// order, `recent` present or not; sometimes one missing, repeated or unknown.
    fn session() -> BoxedStrategy<String> {
        let right = (
            Just(r#""user_id": "W0123""#),
            Just(r#""team_id": "T0123""#),
            prop_oneof![Just(r#""session_id": 7"#), Just(r#""session_id": "8""#)],
            device().prop_map(|d| format!(r#""created": {d}"#)),
            prop_oneof![
                Just(String::new()),
                Just(r#""recent": null"#.to_owned()),
                device().prop_map(|d| format!(r#""recent": {d}"#)),
            ],
        )
            .prop_map(|(u, t, s, c, r)| {
                let mut v = vec![u.to_owned(), t.to_owned(), s.to_owned(), c];
                if !r.is_empty() {
                    v.push(r);
                }
                v
            });
        let extra = prop::collection::vec((0..SESSION.len(), value(device())), 0..3);
        (
            right,
            extra,
            any::<prop::sample::Index>(),
            any::<bool>(),
            any::<prop::sample::Index>(),
        )
            .prop_map(|(mut members, extra, drop, dropping, order)| {
                if dropping {
                    members.remove(drop.index(members.len()));
                }
                for (i, v) in extra {
                    let at = order.index(members.len() + 1);
                    members.insert(at, format!("\"{}\": {v}", SESSION[i]));
                }
                format!("{{{}}}", members.join(", "))
            })
            .boxed()
    }

    proptest! {
        #[test]
        fn a_session_decodes_as_the_derive_decodes_it(json in session()) {
            same(
                serde_json::from_str::<ActiveSession>(&json),
                serde_json::from_str::<derived::ActiveSession>(&json).map(Into::into),
                &json,
            )?;
        }

        #[test]
        fn a_device_record_decodes_as_the_derive_decodes_it(json in device()) {
            same(
                serde_json::from_str::<DeviceRecord>(&json),
                serde_json::from_str::<derived::DeviceRecord>(&json).map(Into::into),
                &json,
            )?;
        }

        #[test]
        fn a_page_decodes_as_the_derive_decodes_it(sessions in prop::collection::vec(session(), 0..4)) {
            let json = format!(r#"{{"active_sessions": [{}]}}"#, sessions.join(", "));
            same(
                serde_json::from_str::<ListResponse>(&json),
                serde_json::from_str::<derived::ListResponse>(&json).map(Into::into),
                &json,
            )?;
        }
    }

    #[test]
    fn a_session_written_as_an_array_decodes_as_the_derive_decodes_it() {
        for json in [
            r#"["W1","T1",5,["Intel","OS X"]]"#,
            r#"["W1","T1","5",{},null]"#,
            r#"["W1","T1",5,{},["a","b","c","d","e"]]"#,
            r#"["W1","T1",5]"#,
            r#"["W1","T1",5,{},{},6]"#,
            r#"["W1","T1",5,[1]]"#,
        ] {
            same(
                serde_json::from_str::<ActiveSession>(json),
                serde_json::from_str::<derived::ActiveSession>(json).map(Into::into),
                json,
            )
            .unwrap();
        }
    }

    #[test]
    fn errors_name_the_member_as_the_derive_does() {
        for (json, error) in [
            (
                r#"{"team_id":"T1","session_id":1,"created":{}}"#,
                "missing field `user_id`",
            ),
            (
                r#"{"user_id":"W1","user_id":"W2","team_id":"T1","session_id":1,"created":{}}"#,
                "duplicate field `user_id`",
            ),
            (
                r#"{"user_id":"W1","team_id":"T1","session_id":1,"created":{"os":"a","os":"b"}}"#,
                "duplicate field `os`",
            ),
            (
                r#"{"user_id":"W1","team_id":"T1","session_id":1,"created":null}"#,
                "invalid type: null, expected struct DeviceRecord",
            ),
            (
                r#"[]"#,
                "invalid length 0, expected struct ActiveSession with 5 elements",
            ),
        ] {
            let err = serde_json::from_str::<ActiveSession>(json)
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(error), "{json}: {err}");
        }
    }
}
