//! Compact session records: a million sessions must fit in a few hundred megabytes.
//!
//! Strings that repeat (user and team ids, device names, OS versions) are interned per org as
//! 4-byte symbols, and so are the devices they make up (less their IP); IPv4 addresses are
//! kept as their 32 bits. A session is then 36 bytes.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, Serializer};
use slack_sessions_api::CompactString;
use slack_sessions_api::methods::DeviceRecord;

use crate::seed::{ClientKind, SessionSeed};

/// An interned string; `Sym(0)` is "absent".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(u32);

/// Interned strings, each also kept as its JSON string literal (escaped once, by serde_json);
/// and the device records they make up (less their IP), each kept once.
#[derive(Debug)]
pub struct Interner {
    strings: Vec<Arc<str>>,
    literals: Vec<Box<[u8]>>,
    index: HashMap<Arc<str>, Sym>,
    devices: Vec<DeviceFields>,
    device_index: HashMap<[Sym; 4], u32>,
}

impl Default for Interner {
    fn default() -> Self {
        Interner {
            strings: vec![Arc::from("")],
            literals: vec![Box::from(&b"\"\""[..])],
            index: HashMap::new(),
            devices: Vec::new(),
            device_index: HashMap::new(),
        }
    }
}

/// The four string fields of a device record, and their JSON members as serde writes them
/// (`"device_hardware":"Intel","os":"OS X",…`): a `list` page copies these in one piece. An
/// org has few distinct devices (a model, an OS version and a client version make one), so
/// they are kept once each.
#[derive(Debug)]
struct DeviceFields {
    syms: [Sym; 4],
    members: Box<[u8]>,
}

/// The names of a device's string fields, in the order serde writes them.
const DEVICE_FIELDS: [&str; 4] = [
    "device_hardware",
    "os",
    "os_version",
    "slack_client_version",
];

impl Interner {
    /// The symbol of `s`, added if new.
    pub fn intern(&mut self, s: &str) -> Sym {
        if let Some(sym) = self.index.get(s) {
            return *sym;
        }
        let sym = Sym(u32::try_from(self.strings.len()).expect("fewer than 2^32 distinct strings"));
        let literal = serde_json::to_vec(s).expect("strings serialize");
        let s: Arc<str> = Arc::from(s);
        self.strings.push(Arc::clone(&s));
        self.literals.push(literal.into_boxed_slice());
        self.index.insert(s, sym);
        sym
    }

    /// The JSON string literal of a symbol, quotes and escapes included.
    fn literal(&self, sym: Sym) -> &[u8] {
        &self.literals[sym.0 as usize]
    }

    /// The symbol of `s`, if interned.
    pub fn lookup(&self, s: &str) -> Option<Sym> {
        self.index.get(s).copied()
    }

    fn opt(&mut self, s: Option<&str>) -> Sym {
        s.map_or(Sym(0), |s| self.intern(s))
    }

    /// The string of a symbol.
    pub fn get(&self, sym: Sym) -> &str {
        &self.strings[sym.0 as usize]
    }

    fn get_opt(&self, sym: Sym) -> Option<&str> {
        (sym.0 != 0).then(|| self.get(sym))
    }

    /// The index of a device's four fields, added if new.
    fn device(&mut self, syms: [Sym; 4]) -> u32 {
        if let Some(i) = self.device_index.get(&syms) {
            return *i;
        }
        let mut members = Vec::new();
        for (name, sym) in DEVICE_FIELDS.into_iter().zip(syms) {
            if sym.0 != 0 {
                if !members.is_empty() {
                    members.push(b',');
                }
                members.push(b'"');
                members.extend_from_slice(name.as_bytes());
                members.extend_from_slice(b"\":");
                members.extend_from_slice(self.literal(sym));
            }
        }
        let i = u32::try_from(self.devices.len()).expect("fewer than 2^32 distinct devices");
        self.devices.push(DeviceFields {
            syms,
            members: members.into_boxed_slice(),
        });
        self.device_index.insert(syms, i);
        i
    }

    fn device_fields(&self, i: u32) -> &DeviceFields {
        &self.devices[i as usize]
    }
}

/// An IP address: IPv4 in place, anything else interned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ip {
    None,
    V4(u32),
    Other(Sym),
}

/// A device record, interned: its four string fields by their index in the [`Interner`],
/// and its IP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Device {
    fields: u32,
    ip: Ip,
}

impl Device {
    /// Interns a device record.
    pub fn intern(strings: &mut Interner, d: &DeviceRecord) -> Device {
        Device::from_parts(
            strings,
            [
                d.device_hardware.as_deref(),
                d.os.as_deref(),
                d.os_version.as_deref(),
                d.slack_client_version.as_deref(),
            ],
            d.ip.as_deref(),
        )
    }

    /// Interns a device record given field by field.
    pub fn from_parts(
        strings: &mut Interner,
        fields: [Option<&str>; 4],
        ip: Option<&str>,
    ) -> Device {
        let ip = match ip {
            None => Ip::None,
            Some(s) => match s.parse::<Ipv4Addr>() {
                // Only the canonical spelling round-trips through 32 bits.
                Ok(v4) if v4.to_string() == s => Ip::V4(u32::from(v4)),
                _ => Ip::Other(strings.intern(s)),
            },
        };
        let syms = fields.map(|f| strings.opt(f));
        Device {
            fields: strings.device(syms),
            ip,
        }
    }

    /// The record with its strings.
    pub fn record(&self, strings: &Interner) -> DeviceRecord {
        let [hardware, os, os_version, client_version] = strings
            .device_fields(self.fields)
            .syms
            .map(|s| strings.get_opt(s));
        let mut d = DeviceRecord::default();
        d.device_hardware = hardware.map(Into::into);
        d.os = os.map(Into::into);
        d.os_version = os_version.map(Into::into);
        d.slack_client_version = client_version.map(Into::into);
        d.ip = self.ip_string(strings);
        d
    }

    fn ip_string(&self, strings: &Interner) -> Option<CompactString> {
        match self.ip {
            Ip::None => None,
            Ip::V4(bits) => Some(Ipv4Addr::from(bits).to_string().into()),
            Ip::Other(sym) => Some(strings.get(sym).into()),
        }
    }
}

/// A session, interned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Session {
    /// The user's id.
    pub user: Sym,
    /// The team (or org) id.
    pub team: Sym,
    /// The client kind.
    pub client: ClientKind,
    /// The device when the session began.
    pub created: Device,
    /// The device as last seen, when it changed.
    pub recent: Option<Device>,
}

impl Session {
    /// Interns a seed session.
    pub fn intern(strings: &mut Interner, s: &SessionSeed) -> Session {
        Session {
            user: strings.intern(&s.user_id),
            team: strings.intern(&s.team_id),
            client: s.client,
            created: Device::intern(strings, &s.created),
            recent: s.recent.as_ref().map(|r| Device::intern(strings, r)),
        }
    }

    /// The session in the seed's shape.
    pub fn seed(&self, id: u64, strings: &Interner) -> SessionSeed {
        SessionSeed {
            session_id: id,
            user_id: strings.get(self.user).to_owned(),
            team_id: strings.get(self.team).to_owned(),
            client: self.client,
            created: self.created.record(strings),
            recent: self.recent.map(|r| r.record(strings)),
        }
    }
}

impl Device {
    /// Appends this device's JSON object (the same bytes serde writes for a `DeviceRecord`).
    fn write_json(&self, strings: &Interner, out: &mut Vec<u8>) {
        out.push(b'{');
        let members = &strings.device_fields(self.fields).members;
        out.extend_from_slice(members);
        let field = |out: &mut Vec<u8>, key: &[u8]| {
            if !members.is_empty() {
                out.push(b',');
            }
            out.extend_from_slice(key);
        };
        match self.ip {
            Ip::None => {}
            Ip::V4(bits) => {
                field(out, b"\"ip\":\"");
                let mut digits = itoa::Buffer::new();
                for (i, octet) in bits.to_be_bytes().iter().enumerate() {
                    if i > 0 {
                        out.push(b'.');
                    }
                    out.extend_from_slice(digits.format(*octet).as_bytes());
                }
                out.push(b'"');
            }
            Ip::Other(sym) => {
                field(out, b"\"ip\":");
                out.extend_from_slice(strings.literal(sym));
            }
        }
        out.push(b'}');
    }
}

impl SessionView<'_> {
    /// Appends the session's JSON object: exactly the bytes `serde_json` writes for the same
    /// [`ActiveSession`](slack_sessions_api::methods::ActiveSession), from literals escaped once
    /// at intern time (the `list` hot path; equality is tested below).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let (x, strings) = (self.session, self.strings);
        out.extend_from_slice(b"{\"user_id\":");
        out.extend_from_slice(strings.literal(x.user));
        out.extend_from_slice(b",\"team_id\":");
        out.extend_from_slice(strings.literal(x.team));
        out.extend_from_slice(b",\"session_id\":");
        out.extend_from_slice(itoa::Buffer::new().format(self.id).as_bytes());
        out.extend_from_slice(b",\"created\":");
        x.created.write_json(strings, out);
        if let Some(recent) = &x.recent {
            out.extend_from_slice(b",\"recent\":");
            recent.write_json(strings, out);
        }
        out.push(b'}');
    }
}

/// A session serialized exactly as [`slack_sessions_api::methods::ActiveSession`], straight from
/// the compact record, without building owned strings.
#[derive(Debug)]
pub struct SessionView<'a> {
    /// The session id.
    pub id: u64,
    /// The session.
    pub session: &'a Session,
    /// The org's strings.
    pub strings: &'a Interner,
}

struct DeviceView<'a>(&'a Device, &'a Interner);

impl Serialize for DeviceView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (d, strings) = (self.0, self.1);
        let mut map = s.serialize_map(None)?;
        let syms = strings.device_fields(d.fields).syms;
        for (name, sym) in DEVICE_FIELDS.into_iter().zip(syms) {
            if let Some(v) = strings.get_opt(sym) {
                map.serialize_entry(name, v)?;
            }
        }
        match d.ip {
            Ip::None => {}
            Ip::V4(bits) => map.serialize_entry("ip", &Ipv4Addr::from(bits))?,
            Ip::Other(sym) => map.serialize_entry("ip", strings.get(sym))?,
        }
        map.end()
    }
}

impl Serialize for SessionView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (x, strings) = (self.session, self.strings);
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("user_id", strings.get(x.user))?;
        map.serialize_entry("team_id", strings.get(x.team))?;
        map.serialize_entry("session_id", &self.id)?;
        map.serialize_entry("created", &DeviceView(&x.created, strings))?;
        if let Some(recent) = &x.recent {
            map.serialize_entry("recent", &DeviceView(recent, strings))?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slack_sessions_api::methods::ActiveSession;

    fn ip_only(ip: &str) -> DeviceRecord {
        let mut d = DeviceRecord::default();
        d.ip = Some(ip.into());
        d
    }

    #[test]
    fn views_serialize_exactly_like_the_api_type() {
        let mut strings = Interner::default();
        for s in crate::demo::seed().orgs[0].sessions.iter().take(50).chain(
            [
                SessionSeed {
                    session_id: 9,
                    user_id: "W1".into(),
                    team_id: "E1".into(),
                    client: ClientKind::Web,
                    created: {
                        let mut d = ip_only("2001:db8::1");
                        d.os = Some("q\"uote\\back\u{1}ctl \u{e9}\u{1F600}".into());
                        d
                    },
                    recent: Some(ip_only("010.0.0.1")),
                },
                // No field at all; and some fields, not the first, without an IP.
                SessionSeed {
                    session_id: 10,
                    user_id: "W2".into(),
                    team_id: "T1".into(),
                    client: ClientKind::Desktop,
                    created: DeviceRecord::default(),
                    recent: Some({
                        let mut d = DeviceRecord::default();
                        d.os_version = Some("14.6".into());
                        d.slack_client_version = Some("4.41.105".into());
                        d
                    }),
                },
            ]
            .iter(),
        ) {
            let compact = Session::intern(&mut strings, s);
            assert_eq!(&compact.seed(s.session_id, &strings), s, "lossless");
            let api = ActiveSession::new(
                s.user_id.as_str().into(),
                s.team_id.as_str().into(),
                s.session_id.into(),
                s.created.clone(),
                s.recent.clone(),
            );
            let view = SessionView {
                id: s.session_id,
                session: &compact,
                strings: &strings,
            };
            assert_eq!(
                serde_json::to_string(&view).unwrap(),
                serde_json::to_string(&api).unwrap()
            );
        }
        // Two device records of 12 bytes each (the index of their fields, their IP).
        assert!(
            std::mem::size_of::<Session>() <= 36,
            "{}",
            std::mem::size_of::<Session>()
        );
    }
}
