//! Networks in CIDR notation, to match the IP addresses a session reports (an office, a VPN,
//! a provider's range). A thin layer over the `ipnet` crate that refuses what would be
//! guessed: a network with host bits set.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

/// An IPv4 or IPv6 network: `10.0.0.0/8`, `2001:db8::/32`, or one address (`/32`, `/128`).
///
/// ```
/// use slack_sessions_api::Network;
///
/// let office: Network = "198.51.100.0/24".parse().unwrap();
/// assert!(office.contains_str("198.51.100.7"));
/// assert!(!office.contains_str("203.0.113.7"));
/// assert!(!office.contains_str("not an address"));
/// let v6: Network = "2001:db8:ac3e::/48".parse().unwrap();
/// assert!(v6.contains("2001:db8:ac3e::1".parse().unwrap()));
/// // Host bits set: which network was meant is not guessed.
/// let err = "10.1.2.3/8".parse::<Network>().unwrap_err();
/// assert_eq!(err.to_string(), r#""10.1.2.3/8" has host bits set: did you mean 10.0.0.0/8?"#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Network(IpNet);

/// A network that did not parse; `Display` says why, naming the text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseNetworkError(String);

/// Parses a network: `10.0.0.0/8`, `2001:db8::/32`, or one address (`/32` or `/128`). A network
/// with host bits set (`10.1.2.3/8`) is refused: which network was meant is not guessed.
pub fn parse_network(text: &str) -> Result<Network, ParseNetworkError> {
    let text = text.trim();
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(Network(IpNet::from(ip)));
    }
    let net: IpNet = text.parse().map_err(|_| {
        ParseNetworkError(format!(
            "{text:?} is not a network: use CIDR notation, e.g. 10.0.0.0/8 or 2001:db8::/32"
        ))
    })?;
    if net.trunc() != net {
        return Err(ParseNetworkError(format!(
            "{text:?} has host bits set: did you mean {}?",
            net.trunc()
        )));
    }
    Ok(Network(net))
}

impl Network {
    /// Whether `ip` is in the network (an IPv4 address is never in an IPv6 network, nor the
    /// reverse).
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(&ip)
    }

    /// Whether `ip`, an address as a session reports it, is in the network; `false` when it is
    /// not an address.
    pub fn contains_str(&self, ip: &str) -> bool {
        ip.trim()
            .parse::<IpAddr>()
            .is_ok_and(|ip| self.contains(ip))
    }

    /// The `ipnet` value, for what this type does not offer.
    pub fn as_ipnet(&self) -> &IpNet {
        &self.0
    }
}

impl FromStr for Network {
    type Err = ParseNetworkError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_network(s)
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<Network> for IpNet {
    fn from(n: Network) -> Self {
        n.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_are_parsed_strictly() {
        assert_eq!(
            parse_network("10.0.0.0/8").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            parse_network("203.0.113.9").unwrap().to_string(),
            "203.0.113.9/32"
        );
        assert_eq!(
            parse_network(" 2001:db8::/32 ").unwrap().to_string(),
            "2001:db8::/32"
        );
        assert_eq!(
            parse_network("2001:db8::7").unwrap().to_string(),
            "2001:db8::7/128"
        );
        let err = parse_network("10.1.2.3/8").unwrap_err();
        assert!(err.to_string().contains("did you mean 10.0.0.0/8"), "{err}");
        assert!(parse_network("10.0.0.0/33").is_err());
        assert!(parse_network("office").is_err());
        assert!(parse_network("").is_err());
    }

    #[test]
    fn addresses_match_their_family_only() {
        let v4 = parse_network("10.0.0.0/8").unwrap();
        let v6 = parse_network("2001:db8::/32").unwrap();
        assert!(v4.contains_str("10.1.2.3"));
        assert!(v4.contains_str(" 10.255.255.255 "));
        assert!(!v4.contains_str("11.0.0.0"));
        assert!(
            !v4.contains_str("::ffff:10.1.2.3"),
            "a mapped address is IPv6"
        );
        assert!(v6.contains_str("2001:db8::7"));
        assert!(!v6.contains_str("10.1.2.3"));
        assert!(!v6.contains_str(""));
    }
}
