//! The inter-agency exchange, in the spirit of X-Road and Vietnam's LGSP/NDXP: members named by
//! national agency code and system name, each with an Ed25519 key; requests and responses
//! signed over what they say; the refusals, each with a code another system can act on; and
//! the message log, hash-chained like the dossier events.

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::dossier::chain::{GENESIS, digest_fields};
use crate::{AgencyCode, InvalidField};

/// How far a request's timestamp may be from the provider's clock, either way.
pub const TIMESTAMP_WINDOW_SECONDS: i64 = 300;

/// The headers of a signed request.
pub const CLIENT_HEADER: &str = "x-exchange-client";
pub const TIMESTAMP_HEADER: &str = "x-exchange-timestamp";
pub const NONCE_HEADER: &str = "x-exchange-nonce";
pub const SIGNATURE_HEADER: &str = "x-exchange-signature";
/// The header of a signed response naming who answered.
pub const PROVIDER_HEADER: &str = "x-exchange-provider";

/// A member system: `000.00.00.H31/motcua`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MemberId {
    pub agency: AgencyCode,
    pub system: String,
}

impl MemberId {
    pub fn new(agency: AgencyCode, system: &str) -> Result<Self, InvalidField> {
        check_name("system", system)?;
        Ok(Self {
            agency,
            system: system.to_owned(),
        })
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidField> {
        let (agency, system) = raw.trim().split_once('/').ok_or_else(|| {
            InvalidField::bilingual(
                "member",
                format!("'{raw}' is not a member: write the agency code, '/', and the system name (000.00.00.H31/motcua)"),
                format!("'{raw}' không phải thành viên: viết mã cơ quan, '/', và tên hệ thống (000.00.00.H31/motcua)"),
            )
        })?;
        let agency =
            AgencyCode::parse(agency).map_err(|e| InvalidField::new("member", e.reason))?;
        Self::new(agency, system)
    }
}

impl std::fmt::Display for MemberId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.agency, self.system)
    }
}

impl TryFrom<String> for MemberId {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw).map_err(|e| e.reason)
    }
}

impl From<MemberId> for String {
    fn from(id: MemberId) -> String {
        id.to_string()
    }
}

/// System and service names: lower-case letters, digits and hyphens, 1 to 60 of them.
pub fn check_name(field: &str, name: &str) -> Result<(), InvalidField> {
    let fine = !name.is_empty()
        && name.len() <= 60
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if fine {
        Ok(())
    } else {
        Err(InvalidField::bilingual(
            field,
            format!("'{name}' is not a name: 1 to 60 lower-case letters, digits or hyphens"),
            format!("'{name}' không hợp lệ: 1 đến 60 chữ thường, chữ số hoặc gạch nối"),
        ))
    }
}

/// A member's key pair. The secret half never leaves the member's own database.
pub struct MemberKey(SigningKey);

impl MemberKey {
    /// A key from 32 random bytes.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self(SigningKey::from_bytes(&seed))
    }

    pub fn from_base64(text: &str) -> Result<Self, String> {
        let bytes = decode_32(text).ok_or("not a base64 Ed25519 secret key of 32 bytes")?;
        Ok(Self::from_seed(bytes))
    }

    pub fn to_base64(&self) -> String {
        base64_encode(self.0.as_bytes())
    }

    pub fn public_base64(&self) -> String {
        base64_encode(self.0.verifying_key().as_bytes())
    }

    pub fn sign(&self, message: &str) -> String {
        base64_encode(&self.0.sign(message.as_bytes()).to_bytes())
    }
}

/// Checks a public key as the registry takes it.
pub fn check_public_key(text: &str) -> Result<(), InvalidField> {
    decode_32(text)
        .and_then(|b| VerifyingKey::from_bytes(&b).ok())
        .map(|_| ())
        .ok_or_else(|| {
            InvalidField::bilingual(
                "public_key",
                "not an Ed25519 public key (32 bytes in base64)",
                "không phải khoá công khai Ed25519 (32 byte, base64)",
            )
        })
}

/// Whether `signature` is `public_key`'s over `message` (strict: no malleable forms).
pub fn verify(public_key: &str, message: &str, signature: &str) -> bool {
    PublicKey::parse(public_key).is_some_and(|key| key.verify(message, signature))
}

/// A member's public key, decoded once: decoding the curve point costs about as much as a
/// verification, so a provider keeps its registry's keys decoded.
#[derive(Debug, Clone)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    pub fn parse(text: &str) -> Option<Self> {
        decode_32(text)
            .and_then(|b| VerifyingKey::from_bytes(&b).ok())
            .map(Self)
    }

    pub fn verify(&self, message: &str, signature: &str) -> bool {
        let Some(sig) = base64_decode(signature).and_then(|b| <[u8; 64]>::try_from(b).ok()) else {
            return false;
        };
        self.0
            .verify_strict(
                message.as_bytes(),
                &ed25519_dalek::Signature::from_bytes(&sig),
            )
            .is_ok()
    }
}

/// What a request's signature covers, one field a line: the method, the path with its query,
/// the SHA-256 of the body, the timestamp (Unix seconds), the nonce, the client and the
/// provider it is meant for (so a provider cannot pass a call it was sent on to another).
#[derive(Debug, Clone, Copy)]
pub struct RequestText<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub body: &'a [u8],
    pub timestamp: i64,
    pub nonce: &'a str,
    pub client: &'a MemberId,
    pub provider: &'a MemberId,
}

impl RequestText<'_> {
    pub fn message(&self) -> String {
        format!(
            "motcua-exchange-request-v1\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
            self.method,
            self.path,
            body_hash(self.body),
            self.timestamp,
            self.nonce,
            self.client,
            self.provider
        )
    }
}

/// What a response's signature covers: the status, the request's nonce (so a response cannot
/// be replayed for another request), the SHA-256 of the body, the timestamp and the provider.
pub fn response_message(
    status: u16,
    request_nonce: &str,
    body: &[u8],
    timestamp: i64,
    provider: &MemberId,
) -> String {
    format!(
        "motcua-exchange-response-v1\n{status}\n{request_nonce}\n{}\n{timestamp}\n{provider}",
        body_hash(body)
    )
}

pub fn body_hash(body: &[u8]) -> String {
    crate::text::hex(&Sha256::digest(body))
}

/// What an agency's signature on a result document covers.
pub fn result_message(
    dossier: &str,
    agency: &str,
    document: &str,
    file_name: &str,
    sha256: &str,
    signed_at: DateTime<Utc>,
) -> String {
    format!(
        "motcua-result-v1\n{dossier}\n{agency}\n{document}\n{file_name}\n{sha256}\n{}",
        signed_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    )
}

/// Nonces: 16 to 100 characters of letters, digits, '-' and '_'.
pub fn nonce_is_fine(nonce: &str) -> bool {
    (16..=100).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Why a call was refused. Each is logged with its code and answered as problem+json.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Headers missing or malformed: which.
    Unsigned(String),
    UnknownClient(String),
    BadSignature,
    /// The timestamp is this many seconds away from the provider's clock.
    Stale(i64),
    Replayed,
    UnknownService(String),
    NotGranted {
        service: String,
        client: String,
    },
    RateLimited,
    /// The nonce could not be checked (the database did not answer).
    Unavailable,
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Unsigned(_) => "unsigned",
            Refusal::UnknownClient(_) => "unknown_client",
            Refusal::BadSignature => "bad_signature",
            Refusal::Stale(_) => "stale_timestamp",
            Refusal::Replayed => "replayed",
            Refusal::UnknownService(_) => "unknown_service",
            Refusal::NotGranted { .. } => "not_granted",
            Refusal::RateLimited => "rate_limited",
            Refusal::Unavailable => "unavailable",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Refusal::Unsigned(_)
            | Refusal::UnknownClient(_)
            | Refusal::BadSignature
            | Refusal::Stale(_) => 401,
            Refusal::Replayed => 409,
            Refusal::UnknownService(_) => 404,
            Refusal::NotGranted { .. } => 403,
            Refusal::RateLimited => 429,
            Refusal::Unavailable => 503,
        }
    }

    pub fn english(&self) -> String {
        match self {
            Refusal::Unsigned(what) => format!("the request is not signed: {what}"),
            Refusal::UnknownClient(who) => format!("'{who}' is not a member of the exchange"),
            Refusal::BadSignature => {
                "the signature does not match the request and the client's registered key".into()
            }
            Refusal::Stale(skew) => format!(
                "the timestamp is {skew} s from the provider's clock; at most {TIMESTAMP_WINDOW_SECONDS} s is accepted"
            ),
            Refusal::Replayed => "this nonce was already used: each request needs a new one".into(),
            Refusal::UnknownService(s) => format!("this member offers no service '{s}'"),
            Refusal::NotGranted { service, client } => {
                format!("'{client}' has no access grant for the service '{service}'")
            }
            Refusal::RateLimited => "too many calls from this client: slow down and retry".into(),
            Refusal::Unavailable => "the provider cannot check the call now: retry later".into(),
        }
    }

    pub fn vietnamese(&self) -> String {
        match self {
            Refusal::Unsigned(what) => format!("yêu cầu chưa được ký: {what}"),
            Refusal::UnknownClient(who) => format!("'{who}' không phải thành viên trục liên thông"),
            Refusal::BadSignature => "chữ ký không khớp với yêu cầu và khoá đã đăng ký".into(),
            Refusal::Stale(skew) => format!(
                "dấu thời gian lệch {skew} giây; chỉ chấp nhận tối đa {TIMESTAMP_WINDOW_SECONDS} giây"
            ),
            Refusal::Replayed => "nonce này đã được dùng: mỗi yêu cầu cần một nonce mới".into(),
            Refusal::UnknownService(s) => format!("thành viên này không cung cấp dịch vụ '{s}'"),
            Refusal::NotGranted { service, client } => {
                format!("'{client}' chưa được cấp quyền dùng dịch vụ '{service}'")
            }
            Refusal::RateLimited => "gọi quá nhiều: hãy gọi chậm lại".into(),
            Refusal::Unavailable => {
                "bên cung cấp tạm thời không kiểm tra được: hãy gọi lại sau".into()
            }
        }
    }
}

/// One exchange as the message log keeps it: who called which service, what came of it, and
/// the hashes of the request and response bodies (the bodies themselves are not kept: they
/// hold personal data the log has no reason to).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    /// As the request named it, even when it is no member.
    pub client: String,
    pub service: String,
    pub nonce: String,
    /// The HTTP status answered.
    pub status: i32,
    /// "ok"; "error" when the service failed; or the refusal's code.
    pub outcome: String,
    pub request_hash: String,
    pub response_hash: String,
    pub millis: i64,
    pub prev_hash: String,
    pub hash: String,
}

impl LogEntry {
    /// Whether the call passed the checks (its service may still have failed).
    pub fn accepted(&self) -> bool {
        self.outcome == "ok" || self.outcome == "error"
    }

    /// Who the figures count the call for: a client whose signature was not checked is only
    /// a name someone sent, so those calls are counted together.
    pub fn figures_client(&self) -> &str {
        match self.outcome.as_str() {
            "unsigned" | "unknown_client" | "bad_signature" => "(unverified)",
            _ => &self.client,
        }
    }

    pub fn compute_hash(&self) -> String {
        digest_fields(&[
            self.prev_hash.as_bytes(),
            &self.seq.to_be_bytes(),
            self.at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
                .as_bytes(),
            self.client.as_bytes(),
            self.service.as_bytes(),
            self.nonce.as_bytes(),
            &self.status.to_be_bytes(),
            self.outcome.as_bytes(),
            self.request_hash.as_bytes(),
            self.response_hash.as_bytes(),
            &self.millis.to_be_bytes(),
        ])
    }

    /// Numbered and linked; the time is cut to microseconds, as databases keep it.
    pub fn sealed(mut self, seq: i64, prev_hash: &str) -> Self {
        self.seq = seq;
        self.at = DateTime::from_timestamp_micros(self.at.timestamp_micros()).unwrap_or(self.at);
        self.prev_hash = prev_hash.to_owned();
        self.hash = self.compute_hash();
        self
    }
}

/// Checks a run of the log that starts at `first_seq` after `prev` (the genesis for 1): the
/// number of the first entry that does not hold together, and why.
pub fn verify_log(entries: &[LogEntry], first_seq: i64, prev: &str) -> Result<(), (i64, String)> {
    let mut prev = if first_seq == 1 { GENESIS } else { prev };
    for (i, entry) in entries.iter().enumerate() {
        let expected = first_seq + i as i64;
        if entry.seq != expected {
            return Err((expected, format!("found entry {} in its place", entry.seq)));
        }
        if entry.prev_hash != prev {
            return Err((expected, "does not link to the entry before it".into()));
        }
        if entry.compute_hash() != entry.hash {
            return Err((
                expected,
                "its content was changed after it was written".into(),
            ));
        }
        prev = &entry.hash;
    }
    Ok(())
}

fn decode_32(text: &str) -> Option<[u8; 32]> {
    base64_decode(text).and_then(|b| <[u8; 32]>::try_from(b).ok())
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(raw: &str) -> MemberId {
        MemberId::parse(raw).unwrap()
    }

    #[test]
    fn a_signature_covers_every_part_of_the_request() {
        let key = MemberKey::from_seed([7; 32]);
        let (client, provider, other_member) = (
            member("000.00.00.H31/motcua"),
            member("000.00.00.G01/motcua"),
            member("000.00.00.H49/motcua"),
        );
        let request = RequestText {
            method: "POST",
            path: "/x/a?b=1",
            body: b"{}",
            timestamp: 1_700_000_000,
            nonce: "n0nce-n0nce-n0nce",
            client: &client,
            provider: &provider,
        };
        let message = request.message();
        let signature = key.sign(&message);
        assert!(verify(&key.public_base64(), &message, &signature));
        for changed in [
            RequestText {
                method: "GET",
                ..request
            },
            RequestText {
                path: "/x/a?b=2",
                ..request
            },
            RequestText {
                body: b"{ }",
                ..request
            },
            RequestText {
                timestamp: 1_700_000_001,
                ..request
            },
            RequestText {
                nonce: "n0nce-n0nce-n0ncf",
                ..request
            },
            RequestText {
                client: &other_member,
                ..request
            },
            RequestText {
                provider: &other_member,
                ..request
            },
        ] {
            assert!(!verify(
                &key.public_base64(),
                &changed.message(),
                &signature
            ));
        }
        let other = MemberKey::from_seed([8; 32]);
        assert!(!verify(&other.public_base64(), &message, &signature));
        assert!(!verify("not base64", &message, &signature));
        assert!(!verify(&key.public_base64(), &message, "AAAA"));
    }

    #[test]
    fn keys_round_trip_and_bad_ones_are_named() {
        let key = MemberKey::from_seed([1; 32]);
        let again = MemberKey::from_base64(&key.to_base64()).unwrap();
        assert_eq!(again.public_base64(), key.public_base64());
        assert!(check_public_key(&key.public_base64()).is_ok());
        assert_eq!(check_public_key("abc").unwrap_err().field, "public_key");
    }

    #[test]
    fn members_are_an_agency_code_and_a_system_name() {
        let id = member("000.00.00.H31/motcua-tinh");
        assert_eq!(id.to_string(), "000.00.00.H31/motcua-tinh");
        assert!(MemberId::parse("000.00.00.H31").is_err());
        assert!(MemberId::parse("000.00.00.H31/Motcua").is_err());
        assert!(MemberId::parse("nonsense/motcua").is_err());
        assert!(nonce_is_fine("abcdefghijklmnop"));
        assert!(!nonce_is_fine("short"));
        assert!(!nonce_is_fine("abcdefghijklmnop\n"));
    }

    #[test]
    fn the_log_chain_finds_a_changed_entry() {
        let entry = |n: i64| LogEntry {
            seq: 0,
            at: DateTime::from_timestamp(1_700_000_000 + n, 0).unwrap(),
            client: "000.00.00.H31/motcua".into(),
            service: "dossier-status".into(),
            nonce: format!("nonce-{n:012}"),
            status: 200,
            outcome: "ok".into(),
            request_hash: body_hash(b""),
            response_hash: body_hash(b"{}"),
            millis: 1,
            prev_hash: String::new(),
            hash: String::new(),
        };
        let mut log = Vec::new();
        let mut prev = GENESIS.to_owned();
        for n in 1..=3 {
            let e = entry(n).sealed(n, &prev);
            prev = e.hash.clone();
            log.push(e);
        }
        assert_eq!(verify_log(&log, 1, GENESIS), Ok(()));
        assert_eq!(verify_log(&log[1..], 2, &log[0].hash), Ok(()));
        let mut changed = log.clone();
        changed[1].status = 403;
        assert_eq!(verify_log(&changed, 1, GENESIS).unwrap_err().0, 2);
        let mut dropped = log.clone();
        dropped.remove(1);
        assert_eq!(verify_log(&dropped, 1, GENESIS).unwrap_err().0, 2);
    }
}
