//! The VNPay 2.1.0 payment protocol: building a signed payment URL and checking the
//! signature of what VNPay sends back (the IPN call and the browser's return).
//!
//! Pure functions only, so the protocol can be tested against vectors computed elsewhere;
//! the routes and the fee records that use it live with the rest of the application.
//!
//! VNPay signs a canonical string, not the bytes on the wire: the `vnp_` parameters sorted
//! by name, each name and value encoded as Java's `URLEncoder` does (space → `+`), joined
//! `k=v&k=v`, under HMAC-SHA512 keyed by the merchant's hash secret.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha512;

/// The protocol version every request declares; VNPay rejects a version it was not told.
pub const VERSION: &str = "2.1.0";

/// The parameter carrying the signature; never part of what is signed.
pub const HASH_PARAM: &str = "vnp_SecureHash";

/// Older integrations send the algorithm name alongside the hash; it is not signed either.
const HASH_TYPE_PARAM: &str = "vnp_SecureHashType";

/// Parameters by name: a `BTreeMap` so that iteration is the sorted order VNPay signs.
pub type Params = BTreeMap<String, String>;

type HmacSha512 = Hmac<Sha512>;

/// What the application knows about one payment; everything else in the request is fixed
/// by the protocol.
pub struct PaymentRequest<'a> {
    /// VNPay's payment page, e.g. `https://sandbox.vnpayment.vn/paymentv2/vpcpay.html`.
    pub pay_url: &'a str,
    /// The merchant (terminal) code VNPay issued.
    pub tmn_code: &'a str,
    /// Our reference for this attempt; VNPay refuses a reference it has seen the same day.
    pub txn_ref: &'a str,
    /// The amount in đồng; the wire carries it multiplied by 100.
    pub amount_vnd: i64,
    /// Shown to the payer and echoed back.
    pub order_info: &'a str,
    /// `vn` or `en`: the language of VNPay's pages.
    pub locale: &'a str,
    /// Where VNPay sends the payer's browser afterwards.
    pub return_url: &'a str,
    /// The payer's address, which VNPay requires.
    pub ip_addr: &'a str,
    pub created_at: DateTime<Utc>,
    /// After this VNPay refuses the payment, so a stale link cannot be paid.
    pub expires_at: DateTime<Utc>,
}

/// The unsigned `vnp_` parameters of a payment request.
///
/// # Panics
///
/// If `amount_vnd × 100` overflows an `i64`, which no real fee comes near.
pub fn request_params(req: &PaymentRequest) -> Params {
    let amount = req
        .amount_vnd
        .checked_mul(100)
        .expect("a fee amount far below i64::MAX / 100");
    [
        ("vnp_Version", VERSION.to_owned()),
        ("vnp_Command", "pay".to_owned()),
        ("vnp_TmnCode", req.tmn_code.to_owned()),
        ("vnp_Amount", amount.to_string()),
        ("vnp_CurrCode", "VND".to_owned()),
        ("vnp_TxnRef", req.txn_ref.to_owned()),
        ("vnp_OrderInfo", req.order_info.to_owned()),
        // VNPay's catch-all category; fees for administrative procedures fit no other.
        ("vnp_OrderType", "other".to_owned()),
        ("vnp_Locale", req.locale.to_owned()),
        ("vnp_ReturnUrl", req.return_url.to_owned()),
        ("vnp_IpAddr", req.ip_addr.to_owned()),
        ("vnp_CreateDate", vietnam_time(req.created_at)),
        ("vnp_ExpireDate", vietnam_time(req.expires_at)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The canonical string VNPay signs, which is also the query we send: sorted by name (the
/// map's order), names and values form-urlencoded like Java's `URLEncoder`, joined with
/// `&`. The hash parameters are skipped, since a signature cannot cover itself.
pub fn encode(params: &Params) -> String {
    let mut out = String::new();
    for (name, value) in params {
        if name == HASH_PARAM || name == HASH_TYPE_PARAM {
            continue;
        }
        if !out.is_empty() {
            out.push('&');
        }
        out.extend(form_urlencoded::byte_serialize(name.as_bytes()));
        out.push('=');
        out.extend(form_urlencoded::byte_serialize(value.as_bytes()));
    }
    out
}

fn mac(secret: &str, params: &Params) -> HmacSha512 {
    let mut mac = HmacSha512::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(encode(params).as_bytes());
    mac
}

/// The signature of `params`: lower-case hex HMAC-SHA512 of [`encode`].
pub fn sign(secret: &str, params: &Params) -> String {
    domain::text::hex(&mac(secret, params).finalize().into_bytes())
}

/// The query string to send: the canonical string with its signature appended.
pub fn signed_query(secret: &str, params: &Params) -> String {
    format!("{}&{HASH_PARAM}={}", encode(params), sign(secret, params))
}

/// Where to send the payer: VNPay's page with the signed request as its query.
pub fn payment_url(secret: &str, req: &PaymentRequest) -> String {
    format!(
        "{}?{}",
        req.pay_url,
        signed_query(secret, &request_params(req))
    )
}

/// Whether a callback (IPN or return) was signed with our secret.
///
/// Only `vnp_` parameters count, because VNPay signs only those and a proxy or our own
/// routing may add others. The comparison is constant-time so that the answer leaks
/// nothing about how close a forged hash came; a missing or malformed hash is a failure.
pub fn verify(secret: &str, params: &Params) -> bool {
    let Some(expected) = params.get(HASH_PARAM).and_then(|h| unhex(h)) else {
        return false;
    };
    let signed: Params = params
        .iter()
        .filter(|(name, _)| name.starts_with("vnp_"))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    mac(secret, &signed).verify_slice(&expected).is_ok()
}

/// Hex to bytes, either case (VNPay's samples send upper case); `None` unless every
/// character is a hex digit and they pair up.
fn unhex(s: &str) -> Option<Vec<u8>> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    if bytes.is_empty() || !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some((digit(pair[0])? << 4) | digit(pair[1])?))
        .collect()
}

/// Vietnam's offset: UTC+7 all year (no daylight saving), so a fixed offset is exact and
/// needs no time-zone database.
fn vietnam() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("+07:00 is a valid offset")
}

const VNPAY_TIME: &str = "%Y%m%d%H%M%S";

/// `yyyyMMddHHmmss` in Vietnam time, as VNPay reads `vnp_CreateDate` and `vnp_ExpireDate`.
pub fn vietnam_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&vietnam()).format(VNPAY_TIME).to_string()
}

/// Reads a VNPay time (`vnp_PayDate`, ours echoed back) as an instant; `None` unless it is
/// exactly fourteen digits forming a real date and time.
pub fn parse_vietnam_time(s: &str) -> Option<DateTime<Utc>> {
    // chrono's `%Y` would also take a sign or a longer year; VNPay's field is fixed-width.
    if s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let naive = NaiveDateTime::parse_from_str(s, VNPAY_TIME).ok()?;
    Some(
        naive
            .and_local_timezone(vietnam())
            .single()?
            .with_timezone(&Utc),
    )
}

/// The answer VNPay expects to an IPN call; it retries until it gets one, and reads the
/// code, not the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpnCode {
    Success,
    OrderNotFound,
    AlreadyConfirmed,
    InvalidAmount,
    InvalidSignature,
    Other,
}

impl IpnCode {
    /// `RspCode` as VNPay defines it.
    pub fn code(self) -> &'static str {
        match self {
            IpnCode::Success => "00",
            IpnCode::OrderNotFound => "01",
            IpnCode::AlreadyConfirmed => "02",
            IpnCode::InvalidAmount => "04",
            IpnCode::InvalidSignature => "97",
            IpnCode::Other => "99",
        }
    }

    /// `Message`, in VNPay's own wording, which its logs show to both sides.
    pub fn message(self) -> &'static str {
        match self {
            IpnCode::Success => "Confirm Success",
            IpnCode::OrderNotFound => "Order not found",
            IpnCode::AlreadyConfirmed => "Order already confirmed",
            IpnCode::InvalidAmount => "Invalid amount",
            IpnCode::InvalidSignature => "Invalid signature",
            IpnCode::Other => "Unknown error",
        }
    }

    /// The JSON body of the IPN response: `{"RspCode": …, "Message": …}`.
    pub fn answer(self) -> serde_json::Value {
        serde_json::json!({ "RspCode": self.code(), "Message": self.message() })
    }
}

/// The outcome a callback reports: vnp_ResponseCode and vnp_TransactionStatus both "00" is a
/// success. Both, because VNPay documents the first as the answer to this call and the second
/// as the state of the transaction, and they can disagree.
pub fn succeeded(params: &Params) -> bool {
    let is_00 = |name: &str| params.get(name).is_some_and(|v| v == "00");
    is_00("vnp_ResponseCode") && is_00("vnp_TransactionStatus")
}

/// vnp_Amount as VND (divided by 100), None if absent, not a number, or not a multiple of
/// 100: đồng have no subunit, so anything else did not come from a request of ours.
pub fn amount_vnd(params: &Params) -> Option<i64> {
    let raw = params.get("vnp_Amount")?;
    // `i64::from_str` would accept a sign; the field is plain digits.
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hundredths: i64 = raw.parse().ok()?;
    (hundredths % 100 == 0).then_some(hundredths / 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const SECRET: &str = "SANDBOXSECRETKEY0123456789ABCDEF";
    const ORDER_ASCII: &str = "Nop le phi ho so 001.00.00.H31-261203-0001";
    const ORDER_UTF8: &str = "Lệ phí hồ sơ 001.00.00.H31-261203-0001";
    const RETURN_URL: &str = "https://motcua.example.gov.vn/thanh-toan/vnpay?ho_so=001.00.00.H31-261203-0001&buoc=ket qua";

    // The vectors below were computed apart from this module, with Python's standard
    // library, by this one-liner (secret first, then name=value pairs):
    //
    //   python3 -c 'import hmac,hashlib,sys,urllib.parse as u;p=dict(a.split("=",1) for a in sys.argv[2:]);q="&".join(u.quote_plus(k,safe="")+"="+u.quote_plus(v,safe="") for k,v in sorted(p.items()));print(q);print(hmac.new(sys.argv[1].encode(),q.encode(),hashlib.sha512).hexdigest())' \
    //     SANDBOXSECRETKEY0123456789ABCDEF vnp_Version=2.1.0 vnp_Command=pay vnp_TmnCode=MOTCUA01 \
    //     vnp_Amount=800000 vnp_CurrCode=VND vnp_TxnRef=H31261203000101 vnp_OrderType=other vnp_Locale=vn \
    //     'vnp_ReturnUrl=https://motcua.example.gov.vn/thanh-toan/vnpay?ho_so=001.00.00.H31-261203-0001&buoc=ket qua' \
    //     vnp_IpAddr=203.0.113.7 vnp_CreateDate=20261203153000 vnp_ExpireDate=20261203154500 \
    //     'vnp_OrderInfo=Nop le phi ho so 001.00.00.H31-261203-0001'
    //
    // and again with 'vnp_OrderInfo=Lệ phí hồ sơ 001.00.00.H31-261203-0001' for the UTF-8
    // vector. `quote_plus(v, safe="")` and `form_urlencoded::byte_serialize` (like Java's
    // URLEncoder, which VNPay's reference uses) agree on everything except `~` (Python keeps
    // it, Java and we write %7E) and `*` (the reverse), so no value here contains either;
    // `encode_writes_star_and_tilde_as_java_does` pins those two down separately.

    const QUERY_ASCII: &str = "vnp_Amount=800000&vnp_Command=pay&vnp_CreateDate=20261203153000&vnp_CurrCode=VND&vnp_ExpireDate=20261203154500&vnp_IpAddr=203.0.113.7&vnp_Locale=vn&vnp_OrderInfo=Nop+le+phi+ho+so+001.00.00.H31-261203-0001&vnp_OrderType=other&vnp_ReturnUrl=https%3A%2F%2Fmotcua.example.gov.vn%2Fthanh-toan%2Fvnpay%3Fho_so%3D001.00.00.H31-261203-0001%26buoc%3Dket+qua&vnp_TmnCode=MOTCUA01&vnp_TxnRef=H31261203000101&vnp_Version=2.1.0";
    const HASH_ASCII: &str = "564b305e84df773428936e73709e974a209ef9ed3ae807e5732208c3fab18e9a78a8cc41d642b0bf64b3cb17f444932c8119bd58bf6a8bc8343764ffb3b46d89";

    const QUERY_UTF8: &str = "vnp_Amount=800000&vnp_Command=pay&vnp_CreateDate=20261203153000&vnp_CurrCode=VND&vnp_ExpireDate=20261203154500&vnp_IpAddr=203.0.113.7&vnp_Locale=vn&vnp_OrderInfo=L%E1%BB%87+ph%C3%AD+h%E1%BB%93+s%C6%A1+001.00.00.H31-261203-0001&vnp_OrderType=other&vnp_ReturnUrl=https%3A%2F%2Fmotcua.example.gov.vn%2Fthanh-toan%2Fvnpay%3Fho_so%3D001.00.00.H31-261203-0001%26buoc%3Dket+qua&vnp_TmnCode=MOTCUA01&vnp_TxnRef=H31261203000101&vnp_Version=2.1.0";
    const HASH_UTF8: &str = "98999f9e0dd01476f7222b8255167046a201ede7101b2894c63010256cda33c092cb3fdc8954ad1f29fe121d2f1969b247c060fab2a28a148eed326dcd57f3ae";

    // An IPN call as VNPay would send it, signed by the same one-liner with the arguments
    //   SANDBOXSECRETKEY0123456789ABCDEF vnp_Amount=800000 vnp_BankCode=NCB \
    //     vnp_BankTranNo=VNP14722345 vnp_CardType=ATM \
    //     'vnp_OrderInfo=Lệ phí hồ sơ 001.00.00.H31-261203-0001' vnp_PayDate=20261203153512 \
    //     vnp_ResponseCode=00 vnp_TmnCode=MOTCUA01 vnp_TransactionNo=14722345 \
    //     vnp_TransactionStatus=00 vnp_TxnRef=H31261203000101
    // then given vnp_SecureHashType and the hash (upper case, as VNPay's samples write it).
    const IPN_SIGNED: &str = "vnp_Amount=800000&vnp_BankCode=NCB&vnp_BankTranNo=VNP14722345&vnp_CardType=ATM&vnp_OrderInfo=L%E1%BB%87+ph%C3%AD+h%E1%BB%93+s%C6%A1+001.00.00.H31-261203-0001&vnp_PayDate=20261203153512&vnp_ResponseCode=00&vnp_TmnCode=MOTCUA01&vnp_TransactionNo=14722345&vnp_TransactionStatus=00&vnp_TxnRef=H31261203000101";
    const IPN_HASH: &str = "653fba4964135bb68466fd30bf9bc3af3bd1a1bd60e1f8bc4749a2370db3f3af15601b708f8eeee2e51cb20211e00994af6cd6240d2ee36923026aab2e6a23c8";

    fn request(order_info: &str) -> PaymentRequest<'_> {
        PaymentRequest {
            pay_url: "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html",
            tmn_code: "MOTCUA01",
            txn_ref: "H31261203000101",
            amount_vnd: 8000,
            order_info,
            locale: "vn",
            return_url: RETURN_URL,
            ip_addr: "203.0.113.7",
            // 08:30 UTC is 15:30 in Hà Nội.
            created_at: Utc.with_ymd_and_hms(2026, 12, 3, 8, 30, 0).unwrap(),
            expires_at: Utc.with_ymd_and_hms(2026, 12, 3, 8, 45, 0).unwrap(),
        }
    }

    fn parse(query: &str) -> Params {
        form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect()
    }

    fn signed(params: &Params) -> Params {
        let mut params = params.clone();
        params.insert(HASH_PARAM.to_owned(), sign(SECRET, &params));
        params
    }

    #[test]
    fn ascii_vector_matches_python() {
        let params = request_params(&request(ORDER_ASCII));
        assert_eq!(encode(&params), QUERY_ASCII);
        assert_eq!(sign(SECRET, &params), HASH_ASCII);
    }

    #[test]
    fn utf8_vector_matches_python() {
        let params = request_params(&request(ORDER_UTF8));
        assert_eq!(encode(&params), QUERY_UTF8);
        assert_eq!(sign(SECRET, &params), HASH_UTF8);
    }

    #[test]
    fn ipn_vector_from_python_verifies() {
        let query = format!(
            "{IPN_SIGNED}&vnp_SecureHashType=HmacSHA512&vnp_SecureHash={}",
            IPN_HASH.to_uppercase()
        );
        let params = parse(&query);
        assert!(verify(SECRET, &params));
        assert!(succeeded(&params));
        assert_eq!(amount_vnd(&params), Some(8000));
        assert_eq!(
            params
                .get("vnp_PayDate")
                .and_then(|d| parse_vietnam_time(d)),
            Some(Utc.with_ymd_and_hms(2026, 12, 3, 8, 35, 12).unwrap())
        );
    }

    #[test]
    fn request_params_are_the_protocol_fields() {
        let params = request_params(&request(ORDER_ASCII));
        let names: Vec<&str> = params.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "vnp_Amount",
                "vnp_Command",
                "vnp_CreateDate",
                "vnp_CurrCode",
                "vnp_ExpireDate",
                "vnp_IpAddr",
                "vnp_Locale",
                "vnp_OrderInfo",
                "vnp_OrderType",
                "vnp_ReturnUrl",
                "vnp_TmnCode",
                "vnp_TxnRef",
                "vnp_Version",
            ]
        );
        assert_eq!(params["vnp_Version"], VERSION);
        assert_eq!(params["vnp_Amount"], "800000");
        assert_eq!(params["vnp_OrderType"], "other");
        assert_eq!(params["vnp_CreateDate"], "20261203153000");
        assert_eq!(params["vnp_ExpireDate"], "20261203154500");
    }

    #[test]
    fn encode_writes_star_and_tilde_as_java_does() {
        // Java: URLEncoder.encode("a*b~c d", "UTF-8") == "a*b%7Ec+d".
        let params: Params = [("vnp_OrderInfo".to_owned(), "a*b~c d".to_owned())].into();
        assert_eq!(encode(&params), "vnp_OrderInfo=a*b%7Ec+d");
    }

    #[test]
    fn encode_skips_the_hash_params() {
        let mut params = request_params(&request(ORDER_ASCII));
        params.insert(HASH_PARAM.to_owned(), "00".to_owned());
        params.insert("vnp_SecureHashType".to_owned(), "HmacSHA512".to_owned());
        assert_eq!(encode(&params), QUERY_ASCII);
        assert_eq!(sign(SECRET, &params), HASH_ASCII);
    }

    #[test]
    fn signed_query_appends_the_hash() {
        let params = request_params(&request(ORDER_ASCII));
        assert_eq!(
            signed_query(SECRET, &params),
            format!("{QUERY_ASCII}&vnp_SecureHash={HASH_ASCII}")
        );
    }

    #[test]
    fn sign_then_verify() {
        for order in [ORDER_ASCII, ORDER_UTF8] {
            assert!(verify(SECRET, &signed(&request_params(&request(order)))));
        }
    }

    #[test]
    fn verify_accepts_upper_case_hash() {
        let mut params = signed(&request_params(&request(ORDER_UTF8)));
        let upper = params[HASH_PARAM].to_uppercase();
        params.insert(HASH_PARAM.to_owned(), upper);
        assert!(verify(SECRET, &params));
    }

    #[test]
    fn verify_ignores_secure_hash_type() {
        let mut params = signed(&request_params(&request(ORDER_ASCII)));
        params.insert("vnp_SecureHashType".to_owned(), "HmacSHA512".to_owned());
        assert!(verify(SECRET, &params));
    }

    #[test]
    fn verify_rejects_each_tampered_field() {
        let params = signed(&request_params(&request(ORDER_UTF8)));
        for name in params.keys().filter(|k| *k != HASH_PARAM) {
            let mut tampered = params.clone();
            tampered.get_mut(name).unwrap().push('1');
            assert!(!verify(SECRET, &tampered), "{name} changed yet verified");
            let mut emptied = params.clone();
            emptied.insert(name.clone(), String::new());
            assert!(!verify(SECRET, &emptied), "{name} emptied yet verified");
        }
    }

    #[test]
    fn verify_rejects_removed_field() {
        let params = signed(&request_params(&request(ORDER_ASCII)));
        for name in params.keys().filter(|k| *k != HASH_PARAM) {
            let mut removed = params.clone();
            removed.remove(name);
            assert!(!verify(SECRET, &removed), "{name} removed yet verified");
        }
    }

    #[test]
    fn verify_rejects_added_vnp_field() {
        let mut params = signed(&request_params(&request(ORDER_ASCII)));
        params.insert("vnp_BankCode".to_owned(), "NCB".to_owned());
        assert!(!verify(SECRET, &params));
    }

    #[test]
    fn verify_rejects_other_secret() {
        let params = signed(&request_params(&request(ORDER_ASCII)));
        assert!(!verify("ANOTHERSECRETKEY0123456789ABCDEF", &params));
        assert!(!verify("", &params));
    }

    #[test]
    fn verify_rejects_bad_hashes() {
        let params = signed(&request_params(&request(ORDER_ASCII)));
        let good = params[HASH_PARAM].clone();
        let flipped = {
            let mut h = good.clone().into_bytes();
            h[10] = if h[10] == b'0' { b'1' } else { b'0' };
            String::from_utf8(h).unwrap()
        };
        let bad = [
            flipped,
            good[..good.len() - 2].to_owned(),
            good[..good.len() - 1].to_owned(),
            format!("{good}00"),
            format!("{}zz", &good[..good.len() - 2]),
            "not hex at all".to_owned(),
            String::new(),
        ];
        for hash in bad {
            let mut p = params.clone();
            p.insert(HASH_PARAM.to_owned(), hash.clone());
            assert!(!verify(SECRET, &p), "{hash:?} verified");
        }
        let mut missing = params.clone();
        missing.remove(HASH_PARAM);
        assert!(!verify(SECRET, &missing));
    }

    #[test]
    fn verify_ignores_non_vnp_params() {
        let mut params = signed(&request_params(&request(ORDER_ASCII)));
        params.insert("ho_so".to_owned(), "001.00.00.H31-261203-0001".to_owned());
        params.insert("utm_source".to_owned(), "email".to_owned());
        assert!(verify(SECRET, &params));
    }

    #[test]
    fn payment_url_round_trips() {
        let req = request(ORDER_UTF8);
        let url = payment_url(SECRET, &req);
        let (base, query) = url.split_once('?').unwrap();
        assert_eq!(base, req.pay_url);
        let params = parse(query);
        assert_eq!(params["vnp_Amount"], "800000");
        assert_eq!(amount_vnd(&params), Some(req.amount_vnd));
        assert_eq!(params["vnp_CreateDate"], "20261203153000");
        assert_eq!(params["vnp_OrderInfo"], ORDER_UTF8);
        assert_eq!(params["vnp_ReturnUrl"], RETURN_URL);
        assert_eq!(params[HASH_PARAM], HASH_UTF8);
        assert!(verify(SECRET, &params));
        assert_eq!(
            url,
            format!("{base}?{QUERY_UTF8}&vnp_SecureHash={HASH_UTF8}")
        );
    }

    #[test]
    fn vietnam_time_is_utc_plus_7() {
        let t = Utc.with_ymd_and_hms(2026, 12, 3, 8, 30, 0).unwrap();
        assert_eq!(vietnam_time(t), "20261203153000");
        // Crossing midnight and the year.
        let late = Utc.with_ymd_and_hms(2026, 12, 31, 17, 5, 9).unwrap();
        assert_eq!(vietnam_time(late), "20270101000509");
        assert_eq!(parse_vietnam_time("20270101000509"), Some(late));
        assert_eq!(parse_vietnam_time(&vietnam_time(t)), Some(t));
    }

    #[test]
    fn parse_vietnam_time_rejects_malformed() {
        for s in [
            "",
            "2026120315300",
            "202612031530000",
            "20261303153000",
            "20261232153000",
            "20261203250000",
            "2026-12-03 15:3",
            "+2026120315300",
            "２0261203153000",
        ] {
            assert_eq!(parse_vietnam_time(s), None, "{s:?}");
        }
    }

    #[test]
    fn amount_vnd_cases() {
        let with = |v: &str| -> Params { [("vnp_Amount".to_owned(), v.to_owned())].into() };
        assert_eq!(amount_vnd(&with("800000")), Some(8000));
        assert_eq!(amount_vnd(&with("0")), Some(0));
        assert_eq!(amount_vnd(&with("800050")), None);
        assert_eq!(amount_vnd(&with("80000.0")), None);
        assert_eq!(amount_vnd(&with("")), None);
        assert_eq!(amount_vnd(&with("-800000")), None);
        assert_eq!(amount_vnd(&with("+800000")), None);
        assert_eq!(amount_vnd(&with(" 800000")), None);
        assert_eq!(amount_vnd(&with("99999999999999999999900")), None);
        assert_eq!(amount_vnd(&Params::new()), None);
    }

    #[test]
    fn succeeded_needs_both_codes() {
        let with = |rsp: Option<&str>, status: Option<&str>| -> Params {
            let mut p = Params::new();
            if let Some(r) = rsp {
                p.insert("vnp_ResponseCode".to_owned(), r.to_owned());
            }
            if let Some(s) = status {
                p.insert("vnp_TransactionStatus".to_owned(), s.to_owned());
            }
            p
        };
        assert!(succeeded(&with(Some("00"), Some("00"))));
        // 24: the payer cancelled; 02: the transaction failed.
        assert!(!succeeded(&with(Some("24"), Some("02"))));
        assert!(!succeeded(&with(Some("00"), Some("02"))));
        assert!(!succeeded(&with(Some("07"), Some("00"))));
        assert!(!succeeded(&with(Some("00"), None)));
        assert!(!succeeded(&with(None, Some("00"))));
        assert!(!succeeded(&with(Some("0"), Some("00"))));
    }

    #[test]
    fn ipn_answers() {
        assert_eq!(
            IpnCode::Success.answer(),
            serde_json::json!({"RspCode": "00", "Message": "Confirm Success"})
        );
        let cases = [
            (IpnCode::Success, "00", "Confirm Success"),
            (IpnCode::OrderNotFound, "01", "Order not found"),
            (IpnCode::AlreadyConfirmed, "02", "Order already confirmed"),
            (IpnCode::InvalidAmount, "04", "Invalid amount"),
            (IpnCode::InvalidSignature, "97", "Invalid signature"),
            (IpnCode::Other, "99", "Unknown error"),
        ];
        for (code, rsp, message) in cases {
            assert_eq!(code.code(), rsp);
            assert_eq!(code.message(), message);
            assert_eq!(
                code.answer(),
                serde_json::json!({"RspCode": rsp, "Message": message})
            );
        }
    }
}
