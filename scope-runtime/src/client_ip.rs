//! Who a request comes from, for the limits that count per address (the
//! rate limiter's anonymous buckets, the OAuth server's login and
//! registration limits).
//!
//! The address is the connection's peer, from axum's
//! `ConnectInfo<SocketAddr>` (serve with
//! `into_make_service_with_connect_info::<SocketAddr>()`). Behind a reverse
//! proxy every peer is the proxy: name the proxies in a [`TrustedProxies`]
//! put in the request's extensions (`Router::layer(Extension(proxies))`),
//! and a request whose peer is one of them counts against the right-most
//! address of its `X-Forwarded-For` that is not a trusted proxy: the last
//! hop a trusted proxy saw, which a client cannot forge as long as every
//! trusted proxy appends the address it received from (anything left of
//! it was written by the client). Name only the proxies, never networks
//! clients live in: any host of a trusted network can claim any address.
//! Without a `TrustedProxies`, `X-Forwarded-For` is never read.
//!
//! Limits count IPv6 clients per /64 ([`limit_address`]): a single host
//! usually holds a whole /64, so counting per /128 would give it 2^64
//! fresh buckets.
//!
//! ```
//! use scope_runtime::client_ip::TrustedProxies;
//!
//! let proxies: TrustedProxies = "127.0.0.1, 10.0.0.0/8, ::1".parse()?;
//! assert!(proxies.contains("10.1.2.3".parse()?));
//! assert!(!proxies.contains("192.0.2.1".parse()?));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use axum::extract::ConnectInfo;
use http::{Extensions, HeaderMap};
use ipnet::IpNet;

/// The reverse proxies whose `X-Forwarded-For` is believed. Empty by
/// default: then the header is ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Arc<[IpNet]>);

/// A [`TrustedProxies`] list that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an address or CIDR network: `{0}` (e.g. `10.0.0.0/8, 127.0.0.1, ::1`)")]
pub struct TrustedProxiesError(String);

impl TrustedProxies {
    /// The proxies in `networks`.
    pub fn new(networks: impl IntoIterator<Item = IpNet>) -> Self {
        Self(networks.into_iter().collect())
    }

    /// Whether `ip` is one of the proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromStr for TrustedProxies {
    type Err = TrustedProxiesError;

    /// Comma- or space-separated addresses (`127.0.0.1`) and networks
    /// (`10.0.0.0/8`, `fd00::/8`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|part| !part.is_empty())
            .map(|part| {
                part.parse::<IpNet>()
                    .or_else(|_| part.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| TrustedProxiesError(part.to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self::new)
    }
}

/// The address of the connection's peer, from `ConnectInfo<SocketAddr>`;
/// `None` without it.
pub fn peer_ip(extensions: &Extensions) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| canonical(c.0.ip()))
}

/// The address a request comes from: its peer, or, when the peer is one of
/// the [`TrustedProxies`] in `extensions`, the right-most address of
/// `X-Forwarded-For` (all its headers, in order) that is not a trusted
/// proxy. A value that is not an address ends the walk at the proxy that
/// forwarded it. `None` without `ConnectInfo`.
pub fn client_ip(headers: &HeaderMap, extensions: &Extensions) -> Option<IpAddr> {
    let peer = peer_ip(extensions)?;
    let Some(proxies) = extensions.get::<TrustedProxies>() else {
        return Some(peer);
    };
    let mut client = peer;
    if !proxies.contains(client) {
        return Some(client);
    }
    // From the right; a line that is not text ends the walk like an entry
    // that is not an address (skipping it would let a client's earlier
    // line stand for the proxy's).
    let lines: Vec<_> = headers.get_all("x-forwarded-for").iter().collect();
    let hops = lines
        .into_iter()
        .rev()
        .flat_map(|line| match line.to_str() {
            Ok(text) => text.rsplit(',').map(|h| Some(h.trim())).collect::<Vec<_>>(),
            Err(_) => vec![None],
        });
    for hop in hops {
        match hop.and_then(parse_hop) {
            Some(ip) => {
                client = ip;
                if !proxies.contains(ip) {
                    break;
                }
            }
            None => break,
        }
    }
    Some(client)
}

/// One `X-Forwarded-For` entry: `192.0.2.1`, `2001:db8::1`, or either with
/// a port (`192.0.2.1:4711`, `[2001:db8::1]:4711`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(canonical)
}

/// What a per-address limit counts under: an IPv4 address whole, an IPv6
/// one by its /64 (IPv4-mapped IPv6 addresses as IPv4).
pub fn limit_address(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// `::ffff:192.0.2.1` as `192.0.2.1`: a dual-stack listener reports IPv4
/// peers so.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(peer: &str, forwarded: &[&str], proxies: Option<&str>) -> Option<IpAddr> {
        let mut extensions = Extensions::new();
        extensions.insert(ConnectInfo(peer.parse::<SocketAddr>().expect("peer")));
        if let Some(p) = proxies {
            extensions.insert(p.parse::<TrustedProxies>().expect("proxies"));
        }
        let mut headers = HeaderMap::new();
        for f in forwarded {
            headers.append("x-forwarded-for", f.parse().expect("header"));
        }
        client_ip(&headers, &extensions)
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().expect("ip"))
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        assert_eq!(
            request("192.0.2.9:1", &["203.0.113.5"], None),
            ip("192.0.2.9")
        );
        // An untrusted peer's header is ignored too.
        assert_eq!(
            request("192.0.2.9:1", &["203.0.113.5"], Some("10.0.0.0/8")),
            ip("192.0.2.9")
        );
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let proxies = Some("10.0.0.0/8, 127.0.0.1");
        // The client forged the left-most entry; the proxy appended the real one.
        assert_eq!(
            request("10.0.0.1:1", &["1.1.1.1, 203.0.113.5"], proxies),
            ip("203.0.113.5")
        );
        // Two proxies in a row; two header lines.
        assert_eq!(
            request(
                "127.0.0.1:1",
                &["1.1.1.1, 203.0.113.5", "10.0.0.2"],
                proxies
            ),
            ip("203.0.113.5")
        );
        // Ports and brackets.
        assert_eq!(
            request("10.0.0.1:1", &["[2001:db8::1]:4711"], proxies),
            ip("2001:db8::1")
        );
        // Garbage stops at the proxy that sent it.
        assert_eq!(
            request("127.0.0.1:1", &["203.0.113.5, bogus, 10.0.0.7"], proxies),
            ip("10.0.0.7")
        );
        // So does a line that is not text, rather than letting an earlier
        // (client-written) line speak.
        let mut extensions = Extensions::new();
        extensions.insert(ConnectInfo(
            "10.0.0.1:1".parse::<SocketAddr>().expect("peer"),
        ));
        extensions.insert("10.0.0.0/8".parse::<TrustedProxies>().expect("proxies"));
        let mut headers = HeaderMap::new();
        headers.append("x-forwarded-for", "1.2.3.4".parse().expect("header"));
        headers.append(
            "x-forwarded-for",
            http::HeaderValue::from_bytes(b"\x80, 203.0.113.9").expect("header"),
        );
        assert_eq!(client_ip(&headers, &extensions), ip("10.0.0.1"));
        // No header: the proxy itself.
        assert_eq!(request("10.0.0.1:1", &[], proxies), ip("10.0.0.1"));
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let a = limit_address("2001:db8:1:2:aaaa::1".parse().expect("ip"));
        let b = limit_address("2001:db8:1:2:ffff::9".parse().expect("ip"));
        assert_eq!(a, b);
        assert_ne!(a, limit_address("2001:db8:1:3::1".parse().expect("ip")));
        assert_eq!(
            limit_address("::ffff:192.0.2.1".parse().expect("ip")),
            "192.0.2.1".parse::<IpAddr>().expect("ip")
        );
        assert!(
            "10.0.0.0/8, 127.0.0.1"
                .parse::<TrustedProxies>()
                .expect("list")
                .contains("::ffff:127.0.0.1".parse().expect("ip"))
        );
    }

    #[test]
    fn bad_lists_are_refused() {
        let e = "10.0.0.0/8, proxy.local".parse::<TrustedProxies>();
        assert_eq!(e, Err(TrustedProxiesError("proxy.local".into())));
        assert!("".parse::<TrustedProxies>().expect("empty").is_empty());
    }
}
