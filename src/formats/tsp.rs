//! RFC 3161 time-stamp tokens: `TSTInfo` (the signed content of a token) and `TimeStampResp`.

use crate::asn1::{tag, AlgorithmId, Asn1Error, GeneralName, Oid, Tlv};

/// id-ct-TSTInfo
pub const TST_INFO: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.1.4");
/// id-aa-signatureTimeStampToken (RFC 3161 Appendix A)
pub const SIGNATURE_TIMESTAMP_TOKEN: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.14");
/// id-kp-timeStamping
pub const KP_TIME_STAMPING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.8");

/// The fields of `TSTInfo` a verifier uses (RFC 3161 §2.4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TstInfo<'a> {
    /// `policy`
    pub policy: Oid,
    /// `messageImprint.hashAlgorithm`
    pub hash_algorithm: AlgorithmId,
    /// `messageImprint.hashedMessage`
    pub hashed_message: &'a [u8],
    /// `serialNumber` contents.
    pub serial: &'a [u8],
    /// `genTime`, unix seconds.
    pub gen_time: i64,
    /// `tsa`, when it is a directoryName (Name DER).
    pub tsa_name: Option<Vec<u8>>,
}

/// Parses `TSTInfo`.
pub fn parse_tst_info(der: &[u8]) -> Result<TstInfo<'_>, Asn1Error> {
    let mut r = Tlv::parse_exact(der)?.expect(tag::SEQUENCE)?.reader();
    if r.read()?.small_uint()? != 1 {
        return Err(Asn1Error::Invalid("TSTInfo version must be 1"));
    }
    let policy = r.read()?.oid()?;
    let mut mi = r.read_tag(tag::SEQUENCE)?.reader();
    let hash_algorithm = AlgorithmId::parse(mi.read_tag(tag::SEQUENCE)?)?;
    let hashed_message = mi.read_tag(tag::OCTET_STRING)?.value;
    mi.finish()?;
    let serial = r.read_tag(tag::INTEGER)?.value;
    let gen_time = r.read_tag(tag::GENERALIZED_TIME)?.time()?;
    r.read_optional(tag::SEQUENCE)?; // accuracy
    r.read_optional(tag::BOOLEAN)?; // ordering
    r.read_optional(tag::INTEGER)?; // nonce
    let tsa_name = match r.read_optional(tag::context_constructed(0))? {
        Some(t) => match GeneralName::parse(Tlv::parse_exact(t.value)?)? {
            GeneralName::Directory(d) => Some(d),
            _ => None,
        },
        None => None,
    };
    r.read_optional(tag::context_constructed(1))?; // extensions
    r.finish()?;
    Ok(TstInfo {
        policy,
        hash_algorithm,
        hashed_message,
        serial,
        gen_time,
        tsa_name,
    })
}

/// `TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken TimeStampToken OPTIONAL }`:
/// the token when the status is granted (0) or grantedWithMods (1).
pub fn token_from_response(der: &[u8]) -> Result<&[u8], Asn1Error> {
    let mut r = Tlv::parse_exact(der)?.expect(tag::SEQUENCE)?.reader();
    let mut status = r.read_tag(tag::SEQUENCE)?.reader();
    let code = status.read()?.small_uint()?;
    if code > 1 {
        return Err(Asn1Error::Invalid("time-stamp request was rejected"));
    }
    let token = r.read_tag(tag::SEQUENCE)?;
    r.finish()?;
    Ok(token.raw)
}
