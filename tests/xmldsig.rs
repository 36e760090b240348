//! XMLDSig: the Kalkan-made samples (independent evidence), C14N corner cases, and the attacks a
//! verifier of enveloped signatures must refuse (signature wrapping, DTDs and entities).

mod support;

use support::*;
use tekser::pki::time::parse_rfc3339;
use tekser::verdict::{Indication, SubIndication, Verdict};
use tekser::verify::Input;
use tekser::verify::{RequestOptions, RevocationMode};

/// Inside the RSA signer's validity (2021-01-18 .. 2022-01-18).
const RSA_TIME: &str = "2021-06-01T00:00:00Z";
/// Inside the GOST signer's validity (2022-07-28 .. 2023-07-28).
const GOST_TIME: &str = "2022-10-01T00:00:00Z";

fn kz_verifier() -> tekser::verify::Verifier {
    let kz = testdata("kz");
    verifier(
        &[
            kz.join("ca/nca_rsa_test.crt"),
            kz.join("ca/nca_gost2015_test.cer"),
        ],
        &[],
        false,
    )
}

fn at(t: &str) -> RequestOptions {
    RequestOptions {
        at: Some(parse_rfc3339(t).expect("time")),
        revocation: RevocationMode::Off,
        ..Default::default()
    }
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(testdata("kz").join("xml").join(name)).expect("sample")
}

fn verify(xml: &[u8], t: &str) -> Verdict {
    kz_verifier().verify(&Input::Xml(xml), &at(t))
}

#[test]
fn kalkan_one_signer_sample_verifies() {
    let xml = sample("signed-one-signer.xml");
    let v = verify(&xml, RSA_TIME);
    assert_eq!(v.indication(), Indication::TOTAL_PASSED, "{}", v.to_json());
    let s = &v.signatures[0];
    assert_eq!(s.algorithm.as_deref(), Some("rsa-pkcs1-sha256"));
    assert_eq!(
        s.signer.as_ref().unwrap().iin.as_deref(),
        Some("123456789011")
    );
    assert_eq!(s.signed_data.as_deref(), Some("the whole document (/a)"));
    // Outside the certificate's validity, with no proof of existence, the same signature is
    // INDETERMINATE (ETSI EN 319 102-1 §5.2.6), not a forgery.
    let v = verify(&xml, GOST_TIME);
    assert_eq!(
        v.sub_indication(),
        Some(SubIndication::OUT_OF_BOUNDS_NO_POE)
    );
    assert_eq!(v.indication(), Indication::INDETERMINATE);
}

#[test]
fn kalkan_two_signer_sample_verifies_each_signer_in_its_validity() {
    let xml = sample("signed-two-signers.xml");
    for (t, passing, algorithm) in [
        (RSA_TIME, 0, "rsa-pkcs1-sha256"),
        (GOST_TIME, 1, "gost3410-2015-512"),
    ] {
        let v = verify(&xml, t);
        assert_eq!(v.signatures.len(), 2, "{}", v.to_json());
        let s = &v.signatures[passing];
        assert_eq!(s.indication(), Indication::TOTAL_PASSED, "{}", v.to_json());
        assert_eq!(s.algorithm.as_deref(), Some(algorithm));
        // The first signature was made before the second was added: its digest excludes it.
        assert_eq!(
            s.warnings
                .iter()
                .any(|w| w.contains("co-signatures added after")),
            passing == 0,
            "{}",
            v.to_json()
        );
        let other = &v.signatures[1 - passing];
        // The other signer fails on time only: its digest and signature value are fine.
        assert!(
            matches!(
                other.sub_indication(),
                Some(SubIndication::OUT_OF_BOUNDS_NO_POE)
            ),
            "{}",
            v.to_json()
        );
    }
}

#[test]
fn a_changed_text_node_or_signature_byte_fails() {
    let xml = sample("signed-one-signer.xml");
    let text = String::from_utf8(xml.clone()).unwrap();
    let altered = text.replacen("<b>test</b>", "<b>tesT</b>", 1);
    let v = verify(altered.as_bytes(), RSA_TIME);
    assert_eq!(
        v.sub_indication(),
        Some(SubIndication::HASH_FAILURE),
        "{}",
        v.to_json()
    );
    // A flipped character of the SignatureValue (still valid base64).
    let i = text.find("<ds:SignatureValue>").unwrap() + "<ds:SignatureValue>\n".len() + 10;
    let mut bytes = xml.clone();
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    let v = verify(&bytes, RSA_TIME);
    assert_eq!(
        v.sub_indication(),
        Some(SubIndication::SIG_CRYPTO_FAILURE),
        "{}",
        v.to_json()
    );
    // Re-serialising the same infoset (attribute quotes, an empty-element tag, an extra space in
    // a tag) changes no canonical byte: still valid.
    let reserialised = text.replacen("<a>", "<a >", 1);
    let v = verify(reserialised.as_bytes(), RSA_TIME);
    assert_eq!(v.indication(), Indication::TOTAL_PASSED, "{}", v.to_json());
}

#[test]
fn dtds_and_entities_are_refused_before_anything_else() {
    let xml = sample("signed-one-signer.xml");
    let text = String::from_utf8(xml).unwrap();
    let body = text.split_once("?>").unwrap().1;
    for attack in [
        format!(
            "<!DOCTYPE a [<!ENTITY x \"test\">]>{}",
            body.replacen("<b>test</b>", "<b>&x;</b>", 1)
        ),
        format!("<!DOCTYPE a SYSTEM \"http://127.0.0.1:9/evil.dtd\">{body}"),
        format!("<!DOCTYPE a [<!ENTITY a \"aaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>{body}"),
        body.replacen("<b>test</b>", "<b>&ext;</b>", 1),
    ] {
        let v = verify(attack.as_bytes(), RSA_TIME);
        assert_eq!(v.indication(), Indication::TOTAL_FAILED, "{attack}");
        assert_eq!(v.sub_indication(), Some(SubIndication::FORMAT_FAILURE));
    }
}

/// Signature wrapping: the signed element is moved away and a forged one takes its place; the
/// Id lookup must not pick whichever element the attacker wants.
#[test]
fn signature_wrapping_is_refused() {
    let v = kz_verifier();
    let opts = at(RSA_TIME);
    // The Kalkan sample re-targeted by Id: the DigestValue no longer matches the forged element.
    let xml = sample("signed-one-signer.xml");
    let text = String::from_utf8(xml).unwrap();
    // 1. Two elements with the same Id: refused, whichever the Reference would find first.
    let dup = text
        .replacen("<a>", "<a><b Id=\"x\">evil</b>", 1)
        .replacen("<b>test</b>", "<b Id=\"x\">test</b>", 1)
        .replacen("URI=\"\"", "URI=\"#x\"", 1);
    let verdict = v.verify(&Input::Xml(dup.as_bytes()), &opts);
    assert_eq!(verdict.indication(), Indication::TOTAL_FAILED);
    assert!(
        verdict.to_json().contains("more than one element"),
        "{}",
        verdict.to_json()
    );
    // 2. A Reference to an element that does not exist.
    let missing = text.replacen("URI=\"\"", "URI=\"#nowhere\"", 1);
    let verdict = v.verify(&Input::Xml(missing.as_bytes()), &opts);
    assert_eq!(verdict.indication(), Indication::TOTAL_FAILED);
    // 3. Remote and XPath-free forms are never followed.
    let remote = text.replacen("URI=\"\"", "URI=\"http://127.0.0.1:9/doc.xml\"", 1);
    let verdict = v.verify(&Input::Xml(remote.as_bytes()), &opts);
    assert_eq!(verdict.indication(), Indication::TOTAL_FAILED);
    assert!(
        verdict.to_json().contains("same-document"),
        "{}",
        verdict.to_json()
    );
    // 4. Content appended outside the signed node-set is impossible with URI="": the whole
    // document is covered, so adding a sibling breaks the digest.
    let appended = text.replacen("<b>test</b>", "<b>test</b><c>unsigned</c>", 1);
    let verdict = v.verify(&Input::Xml(appended.as_bytes()), &opts);
    assert_eq!(verdict.sub_indication(), Some(SubIndication::HASH_FAILURE));
}

#[test]
fn a_document_without_signature_is_a_format_failure() {
    let v = kz_verifier();
    let verdict = v.verify(&Input::Xml(b"<a><b>test</b></a>"), &at(RSA_TIME));
    assert_eq!(verdict.indication(), Indication::TOTAL_FAILED);
    assert_eq!(
        verdict.sub_indication(),
        Some(SubIndication::FORMAT_FAILURE)
    );
}

/// xmlsec1-made signatures (fixtures/xml/generate.sh) for what the Kalkan samples do not cover.
fn fixture_verify(name: &str, text: &str) -> Verdict {
    let root = if name.starts_with("id-") {
        "pki/ec-root.crt"
    } else {
        "pki/rsa-root.crt"
    };
    verifier(&[fixture(root)], &[], false)
        .verify(&Input::Xml(text.as_bytes()), &at("2025-06-01T00:00:00Z"))
}

fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixture(&format!("xml/{name}"))).expect("fixture")
}

#[test]
fn exclusive_c14n_with_inclusive_namespaces() {
    let name = "exc-c14n-rsa.xml";
    let text = fixture_text(name);
    let v = fixture_verify(name, &text);
    assert_eq!(v.indication(), Indication::TOTAL_PASSED, "{}", v.to_json());
    // Exclusive C14N ignores a namespace nobody uses and nobody listed...
    let extra = text.replacen("<doc:Envelope ", "<doc:Envelope xmlns:other=\"urn:x\" ", 1);
    assert_eq!(
        fixture_verify(name, &extra).indication(),
        Indication::TOTAL_PASSED
    );
    // ...but not one named in the InclusiveNamespaces PrefixList.
    let listed = text.replacen("urn:tekser:unused", "urn:tekser:changed", 1);
    assert_eq!(
        fixture_verify(name, &listed).sub_indication(),
        Some(SubIndication::HASH_FAILURE)
    );
    let body = text.replacen("Exclusive &amp; canonical", "Exclusive &amp; changed", 1);
    assert_eq!(
        fixture_verify(name, &body).sub_indication(),
        Some(SubIndication::HASH_FAILURE)
    );
}

#[test]
fn id_references_cover_exactly_their_elements() {
    let name = "id-ref-ecdsa.xml";
    let text = fixture_text(name);
    let v = fixture_verify(name, &text);
    assert_eq!(v.indication(), Indication::TOTAL_PASSED, "{}", v.to_json());
    let s = &v.signatures[0];
    assert_eq!(s.algorithm.as_deref(), Some("ecdsa-p256-sha256-fixed"));
    assert_eq!(s.signed_data.as_deref(), Some("element /root/item"));
    // Outside the referenced elements: not signed, still valid.
    let outside = text.replacen(
        "<unsigned>anything</unsigned>",
        "<unsigned>else</unsigned>",
        1,
    );
    assert_eq!(
        fixture_verify(name, &outside).indication(),
        Indication::TOTAL_PASSED
    );
    // A bare-name reference drops comments (XMLDSig 4.3.3.3): a changed comment is not signed.
    let comment = text.replacen("<!-- signed comment -->", "<!-- another comment -->", 1);
    assert_eq!(
        fixture_verify(name, &comment).indication(),
        Indication::TOTAL_PASSED
    );
    // Inside either referenced element: HASH_FAILURE.
    for (from, to) in [
        ("<value>42</value>", "<value>43</value>"),
        ("Тақырып", "Тақырыб"),
    ] {
        let changed = text.replacen(from, to, 1);
        assert_eq!(
            fixture_verify(name, &changed).sub_indication(),
            Some(SubIndication::HASH_FAILURE),
            "{from}"
        );
    }
    // The inherited xml:lang and default namespace are part of the signed subtree's C14N.
    let lang = text.replacen("xml:lang=\"kk\"", "xml:lang=\"ru\"", 1);
    assert_eq!(
        fixture_verify(name, &lang).sub_indication(),
        Some(SubIndication::HASH_FAILURE)
    );
    // Wrapping: the original element moved into <unsigned>, a forged one with the same Id in
    // its place. Two elements carry Id="payload": refused, whichever one would be found.
    let item_start = text.find("<item Id=\"payload\"").unwrap();
    let item_end = text.find("</item>").unwrap() + "</item>".len();
    let original = &text[item_start..item_end];
    let forged = original.replacen("<value>42</value>", "<value>1000000</value>", 1);
    let wrapped = text.replacen(original, &forged, 1).replacen(
        "<unsigned>anything</unsigned>",
        &format!("<unsigned>{original}</unsigned>"),
        1,
    );
    let v = fixture_verify(name, &wrapped);
    assert_eq!(v.indication(), Indication::TOTAL_FAILED, "{}", v.to_json());
    assert!(
        v.to_json().contains("more than one element"),
        "{}",
        v.to_json()
    );
}
