//! Barcode sets end to end: synthetic egov e-certificates (signed by xmlsec1) and SIGEX document
//! cards (signed by openssl cms) from fixtures/generate-barcodes.sh, in any order, with every
//! way a set can be broken.

mod support;

use support::*;
use tekser::formats::barcode::zip::crc32;
use tekser::pki::time::parse_rfc3339;
use tekser::verdict::{Format, Indication, SubIndication, Verdict};
use tekser::verify::Input;
use tekser::verify::{RequestOptions, RevocationMode, Verifier};

fn opts(t: &str) -> RequestOptions {
    RequestOptions {
        at: Some(parse_rfc3339(t).expect("time")),
        revocation: RevocationMode::Off,
        ..Default::default()
    }
}

const FIXTURE_TIME: &str = "2025-06-01T00:00:00Z";

fn fixture_verifier() -> Verifier {
    verifier(&[fixture("pki/rsa-root.crt")], &[], false)
}

fn parts(set: &str) -> Vec<Vec<u8>> {
    let dir = fixture(&format!("barcode/{set}"));
    let mut n = 1;
    let mut out = Vec::new();
    while let Ok(p) = std::fs::read(dir.join(format!("part-{n}.txt"))) {
        out.push(p);
        n += 1;
    }
    assert!(out.len() > 1, "{set}: the fixture set has several parts");
    out
}

fn verify(v: &Verifier, payloads: &[Vec<u8>], content: Option<&[u8]>) -> Verdict {
    let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
    v.verify(
        &Input::Barcodes {
            payloads: &refs,
            content,
        },
        &opts(FIXTURE_TIME),
    )
}

/// Every permutation of a small set, by Heap's algorithm.
fn permutations(items: &[Vec<u8>]) -> Vec<Vec<Vec<u8>>> {
    fn heap(k: usize, a: &mut Vec<Vec<u8>>, out: &mut Vec<Vec<Vec<u8>>>) {
        if k <= 1 {
            out.push(a.clone());
            return;
        }
        for i in 0..k {
            heap(k - 1, a, out);
            let j = if k % 2 == 0 { i } else { 0 };
            a.swap(j, k - 1);
        }
    }
    let mut a = items.to_vec();
    let mut out = Vec::new();
    heap(a.len(), &mut a, &mut out);
    out
}

#[test]
fn egov_set_verifies_in_every_order_with_its_fields() {
    let v = fixture_verifier();
    let set = parts("egov-rsa");
    let all = permutations(&set);
    assert_eq!(all.len(), (1..=set.len()).product::<usize>());
    for order in &all {
        let verdict = verify(&v, order, None);
        assert_eq!(
            verdict.indication(),
            Indication::TOTAL_PASSED,
            "{}",
            verdict.to_json()
        );
    }
    let verdict = verify(&v, &set, None);
    assert_eq!(verdict.format, Format::EgovBarcode);
    let doc = verdict.document.as_ref().expect("document fields");
    // The envelope is not signed: its values are reported apart (issue 12 item 3).
    assert_eq!(doc.get("favor_id"), None);
    let unsigned = verdict.unsigned.as_ref().expect("envelope values");
    assert_eq!(unsigned["favor_id"], "E2025052000000001");
    assert_eq!(unsigned["creation_date"], "2025-05-20T10:15:03.512+05:00");
    assert_eq!(doc["request_number"], "E2025052000000001");
    assert_eq!(doc["declarant_iin"], "870101300123");
    assert_eq!(doc["request_date"], "2025-05-20T10:14:58+05:00");
    assert_eq!(doc["status"]["code"], "OK");
    assert_eq!(
        doc["business_data"]["certificate"]["person"]["lastName"],
        "ТЕСТОВ"
    );
    assert_eq!(doc["parts"], set.len());
    let s = &verdict.signatures[0];
    assert_eq!(
        s.signer.as_ref().unwrap().subject,
        "C=KZ,O=tekser test,CN=RSA Signer"
    );
    assert_eq!(
        s.signed_data.as_deref(),
        Some("the whole document (/response)")
    );
}

/// Issue 12 item 3: FavorID and creationDate sit in each `<BarcodeElement>`, outside the signed
/// XML. Rewritten in every part, the set still verifies (the signature is genuine), but the
/// rewritten values never appear as document data: they are under `unsigned`, with warnings, and
/// the FavorID is checked against the signed request number.
#[test]
fn egov_envelope_values_are_reported_as_unsigned() {
    let v = fixture_verifier();
    let edited: Vec<Vec<u8>> = parts("egov-rsa")
        .iter()
        .map(|p| {
            String::from_utf8(p.clone())
                .expect("utf-8")
                .replace("E2025052000000001", "E2099123100000666")
                .replace(
                    "2025-05-20T10:15:03.512+05:00",
                    "2099-12-31T23:59:59.000+05:00",
                )
                .into_bytes()
        })
        .collect();
    assert!(edited
        .iter()
        .all(|p| String::from_utf8_lossy(p).contains("E2099123100000666")));
    let verdict = verify(&v, &edited, None);
    assert_eq!(
        verdict.indication(),
        Indication::TOTAL_PASSED,
        "{}",
        verdict.to_json()
    );
    let json = verdict.to_json();
    let doc = verdict.document.as_ref().expect("document fields");
    assert_eq!(doc["request_number"], "E2025052000000001");
    assert!(!doc.to_string().contains("E2099"), "{json}");
    assert!(!doc.to_string().contains("2099-12-31"), "{json}");
    let unsigned = verdict.unsigned.as_ref().expect("envelope values");
    assert_eq!(unsigned["favor_id"], "E2099123100000666");
    assert_eq!(unsigned["creation_date"], "2099-12-31T23:59:59.000+05:00");
    let warnings = verdict.signatures[0].warnings.join("\n");
    assert!(
        warnings.contains("not covered by the signature"),
        "{warnings}"
    );
    assert!(
        warnings.contains("E2099123100000666") && warnings.contains("E2025052000000001"),
        "the mismatch names both values: {warnings}"
    );

    // Parts that disagree on creationDate: a warning naming both.
    let mut mixed = parts("egov-rsa");
    mixed[1] = String::from_utf8(mixed[1].clone())
        .expect("utf-8")
        .replace(
            "2025-05-20T10:15:03.512+05:00",
            "2025-05-21T00:00:00.000+05:00",
        )
        .into_bytes();
    let verdict = verify(&v, &mixed, None);
    assert_eq!(
        verdict.indication(),
        Indication::TOTAL_PASSED,
        "{}",
        verdict.to_json()
    );
    let warnings = verdict.signatures[0].warnings.join("\n");
    assert!(
        warnings.contains("2025-05-21T00:00:00.000+05:00"),
        "{warnings}"
    );
    // The genuine set warns only that the envelope is unsigned (and that the fixture roots are
    // the demo roots).
    let verdict = verify(&v, &parts("egov-rsa"), None);
    assert_eq!(
        verdict.signatures[0]
            .warnings
            .iter()
            .filter(|w| !w.contains("DEMO trust anchor"))
            .count(),
        1,
        "{:?}",
        verdict.signatures[0].warnings
    );
}

#[test]
fn egov_set_signed_with_the_nca_rsa_test_key_verifies() {
    let kz = testdata("kz");
    let v = verifier(&[kz.join("ca/nca_rsa_test.crt")], &[], false);
    let set = parts("egov-nca-rsa");
    let refs: Vec<&[u8]> = set.iter().map(Vec::as_slice).collect();
    let verdict = v.verify(
        &Input::Barcodes {
            payloads: &refs,
            content: None,
        },
        &opts("2021-06-01T00:00:00Z"),
    );
    assert_eq!(
        verdict.indication(),
        Indication::TOTAL_PASSED,
        "{}",
        verdict.to_json()
    );
    let signer = verdict.signatures[0].signer.as_ref().unwrap();
    assert_eq!(signer.iin.as_deref(), Some("123456789011"));
    assert_eq!(
        verdict.document.as_ref().unwrap()["declarant_iin"],
        "123456789011"
    );
}

/// The newer real e-certificates are GOST-signed: this set carries a GOST R 34.10-2015-512
/// signature made by gostcrypto with the NCA's test key of an information system.
#[test]
fn egov_set_signed_with_the_nca_gost_test_key_verifies() {
    let kz = testdata("kz");
    let go = kz.join("ncanode-go");
    let v = verifier(
        &[go.join("root_test_gost_2022.cer")],
        &[go.join("nca_gost2022_test.cer")],
        false,
    );
    let mut set = parts("egov-nca-gost");
    set.rotate_left(1);
    let refs: Vec<&[u8]> = set.iter().map(Vec::as_slice).collect();
    let verdict = v.verify(
        &Input::Barcodes {
            payloads: &refs,
            content: None,
        },
        &opts("2026-06-01T00:00:00Z"),
    );
    assert_eq!(
        verdict.indication(),
        Indication::TOTAL_PASSED,
        "{}",
        verdict.to_json()
    );
    let s = &verdict.signatures[0];
    assert_eq!(s.algorithm.as_deref(), Some("gost3410-2015-512"));
    let signer = s.signer.as_ref().unwrap();
    assert_eq!(signer.bin.as_deref(), Some("123456789021"));
    assert!(
        signer.roles.iter().any(|r| r == "information-system"),
        "{:?}",
        signer.roles
    );
    assert_eq!(s.chain.len(), 3);
    assert_eq!(
        verdict.document.as_ref().unwrap()["declarant_iin"],
        "123456789012"
    );
}

#[test]
fn broken_sets_fail_with_a_precise_reason() {
    let v = fixture_verifier();
    let set = parts("egov-rsa");
    let n = set.len();
    let check = |payloads: Vec<Vec<u8>>, needle: &str| {
        let verdict = verify(&v, &payloads, None);
        assert_eq!(verdict.indication(), Indication::TOTAL_FAILED, "{needle}");
        assert_eq!(
            verdict.sub_indication(),
            Some(SubIndication::FORMAT_FAILURE),
            "{needle}"
        );
        assert!(
            error_text(&verdict).contains(needle),
            "{needle}: {}",
            error_text(&verdict)
        );
    };
    // Missing.
    let mut missing = set.clone();
    missing.remove(2);
    check(missing, &format!("part 3 of {n} missing"));
    // Duplicated.
    let mut dup = set.clone();
    dup.push(set[1].clone());
    check(dup, &format!("part 2 of {n} appears more than once"));
    // Mixed with another document's part (same position).
    let other = parts("egov-nca-rsa");
    let mut mixed = set.clone();
    mixed[n - 1] = other[n.min(other.len()) - 1].clone();
    check(mixed, "different documents");
    // A part of another kind.
    let mut kinds = set.clone();
    kinds[0] = parts("ddc-rsa")[0].clone();
    check(kinds, "in a set of");
    // Unrecognisable.
    check(vec![b"hello world".to_vec()], "payload 1");
    // A damaged symbol: one base64 character of the data changed (the archive no longer checks).
    let mut damaged = set.clone();
    let text = String::from_utf8(damaged[1].clone()).unwrap();
    let i = text.find("<elementData>").unwrap() + "<elementData>".len() + 100;
    let c = text.as_bytes()[i];
    damaged[1][i] = if c == b'A' { b'B' } else { b'A' };
    check(damaged, "ZIP archive");
}

/// A one-entry ZIP, stored (method 0) or DEFLATE (8), declaring `data`'s real size and CRC:
/// a minimal writer for crafting archives in tests.
fn zip_entry(name: &str, data: &[u8], method: u16) -> Vec<u8> {
    let body = if method == 8 {
        miniz_oxide::deflate::compress_to_vec(data, 10)
    } else {
        data.to_vec()
    };
    let le32 = |n: usize| u32::try_from(n).unwrap().to_le_bytes();
    let (crc, size, csize) = (
        crc32(data).to_le_bytes(),
        le32(data.len()),
        le32(body.len()),
    );
    let nlen = u16::try_from(name.len()).unwrap().to_le_bytes();
    let mut z = Vec::new();
    z.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00");
    z.extend_from_slice(&method.to_le_bytes());
    z.extend_from_slice(&[0, 0, 0, 0]); // time, date
    for part in [
        &crc[..],
        &csize,
        &size,
        &nlen,
        &[0, 0],
        name.as_bytes(),
        &body,
    ] {
        z.extend_from_slice(part);
    }
    let cd = z.len();
    z.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00\x00\x00");
    z.extend_from_slice(&method.to_le_bytes());
    z.extend_from_slice(&[0, 0, 0, 0]);
    for part in [
        &crc[..],
        &csize,
        &size,
        &nlen,
        &[0; 12],
        &le32(0),
        name.as_bytes(),
    ] {
        z.extend_from_slice(part);
    }
    let cd_size = le32(z.len() - cd);
    z.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00");
    z.extend_from_slice(&cd_size);
    z.extend_from_slice(&le32(cd));
    z.extend_from_slice(&[0, 0]);
    z
}

fn egov_parts_for(archive: &[u8], favor: &str) -> Vec<Vec<u8>> {
    use base64::Engine as _;
    let chunks: Vec<&[u8]> = archive.chunks(651).collect();
    chunks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!(
                "<BarcodeElement xmlns=\"http://barcodes.pdf.shep.nitec.kz/\"><creationDate>x</creationDate><elementData>{}</elementData><elementNumber>{}</elementNumber><elementsAmount>{}</elementsAmount><FavorID>{favor}</FavorID></BarcodeElement>",
                base64::engine::general_purpose::STANDARD.encode(c),
                i + 1,
                chunks.len()
            )
            .into_bytes()
        })
        .collect()
}

#[test]
fn an_altered_document_in_a_well_formed_archive_is_a_hash_failure() {
    let v = fixture_verifier();
    let doc = std::fs::read(fixture("barcode/egov-rsa/document.xml")).unwrap();
    // The original document re-zipped (stored) still verifies: the archive is only a container.
    let verdict = verify(
        &v,
        &egov_parts_for(&zip_entry("d.xml", &doc, 0), "F1"),
        None,
    );
    assert_eq!(
        verdict.indication(),
        Indication::TOTAL_PASSED,
        "{}",
        verdict.to_json()
    );
    // One changed digit of the declarant's IIN.
    let text = String::from_utf8(doc)
        .unwrap()
        .replacen("870101300123", "870101300124", 1);
    let verdict = verify(
        &v,
        &egov_parts_for(&zip_entry("d.xml", text.as_bytes(), 0), "F1"),
        None,
    );
    assert_eq!(verdict.indication(), Indication::TOTAL_FAILED);
    assert_eq!(verdict.sub_indication(), Some(SubIndication::HASH_FAILURE));
}

/// Issue 12 item 4: a local entry the central directory does not list, placed before the listed
/// one, is what a streaming unzip reads. The set must be refused, not verified through the
/// directory while a streaming reader shows the forgery.
#[test]
fn an_unlisted_local_entry_before_the_document_is_refused() {
    let v = fixture_verifier();
    let doc = std::fs::read(fixture("barcode/egov-rsa/document.xml")).unwrap();
    let forged =
        String::from_utf8(doc.clone())
            .unwrap()
            .replacen("870101300123", "870101300124", 1);
    // The forged entry's local header and data only (everything before its directory).
    let forged_zip = zip_entry("d.xml", forged.as_bytes(), 0);
    let cd_at = |z: &[u8]| {
        usize::try_from(u32::from_le_bytes(
            z[z.len() - 6..z.len() - 2].try_into().unwrap(),
        ))
        .unwrap()
    };
    let hidden = &forged_zip[..cd_at(&forged_zip)];
    let genuine = zip_entry("d.xml", &doc, 0);
    let shift = |bytes: &mut [u8], at: usize| {
        let n = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let moved = n + u32::try_from(hidden.len()).unwrap();
        bytes[at..at + 4].copy_from_slice(&moved.to_le_bytes());
    };
    let mut archive = hidden.to_vec();
    archive.extend_from_slice(&genuine);
    let cd = hidden.len() + cd_at(&genuine);
    shift(&mut archive, cd + 42); // the directory entry's local header offset
    let eocd = archive.len() - 22;
    shift(&mut archive, eocd + 16); // the directory's offset
                                    // A directory reader finds the genuine document here; a streaming reader the forged one.
    assert_eq!(&archive[..4], b"PK\x03\x04");
    let verdict = verify(&v, &egov_parts_for(&archive, "F1"), None);
    assert_eq!(
        verdict.indication(),
        Indication::TOTAL_FAILED,
        "{}",
        verdict.to_json()
    );
    assert_eq!(
        verdict.sub_indication(),
        Some(SubIndication::FORMAT_FAILURE)
    );
    assert!(
        error_text(&verdict).contains("does not list"),
        "{}",
        error_text(&verdict)
    );
    // The genuine archive alone verifies.
    let verdict = verify(&v, &egov_parts_for(&genuine, "F1"), None);
    assert_eq!(
        verdict.indication(),
        Indication::TOTAL_PASSED,
        "{}",
        verdict.to_json()
    );
}

#[test]
fn decompression_bombs_are_refused_before_inflating() {
    let v = fixture_verifier();
    // 16 MiB of zeros deflate to ~16 KB: the declared size is over the 8 MiB budget.
    let verdict = verify(
        &v,
        &egov_parts_for(&zip_entry("b.xml", &vec![0u8; 16 << 20], 8), "B"),
        None,
    );
    assert_eq!(
        verdict.sub_indication(),
        Some(SubIndication::FORMAT_FAILURE)
    );
    assert!(
        error_text(&verdict).contains("over the limit"),
        "{}",
        error_text(&verdict)
    );
    // 4 MiB of zeros fit the size budget but expand ~1000x: over the ratio budget.
    let verdict = verify(
        &v,
        &egov_parts_for(&zip_entry("b.xml", &vec![0u8; 4 << 20], 8), "B"),
        None,
    );
    assert!(
        error_text(&verdict).contains("ratio over"),
        "{}",
        error_text(&verdict)
    );
    // A well-formed DEFLATE archive of the real document verifies (the writer above is sound).
    let doc = std::fs::read(fixture("barcode/egov-rsa/document.xml")).unwrap();
    let verdict = verify(&v, &egov_parts_for(&zip_entry("d.xml", &doc, 8), "D"), None);
    assert_eq!(
        verdict.indication(),
        Indication::TOTAL_PASSED,
        "{}",
        verdict.to_json()
    );
}

#[test]
fn ddc_card_with_and_without_content() {
    let v = fixture_verifier();
    let set = parts("ddc-rsa");
    let content = std::fs::read(fixture("barcode/ddc-document.txt")).unwrap();
    let mut reversed = set.clone();
    reversed.reverse();
    let full = verify(&v, &reversed, Some(&content));
    assert_eq!(
        full.indication(),
        Indication::TOTAL_PASSED,
        "{}",
        full.to_json()
    );
    assert_eq!(full.format, Format::DdcBarcode);
    assert_eq!(full.document.as_ref().unwrap().get("sign_id"), None);
    assert_eq!(full.unsigned.as_ref().unwrap()["sign_id"], "1700000000001");
    // Without the document: the signature over the signed attributes is checked, the content
    // is reported missing.
    let partial = verify(&v, &set, None);
    assert_eq!(partial.indication(), Indication::INDETERMINATE);
    assert_eq!(
        partial.sub_indication(),
        Some(SubIndication::SIGNED_DATA_NOT_FOUND)
    );
    assert!(partial.signatures[0].signer.is_some());
    // The wrong document.
    let wrong = verify(&v, &set, Some(b"another document"));
    assert_eq!(wrong.sub_indication(), Some(SubIndication::HASH_FAILURE));
    // A missing part.
    let verdict = verify(&v, &set[1..], Some(&content));
    assert!(
        error_text(&verdict).contains("part 1 of"),
        "{}",
        error_text(&verdict)
    );
}

/// The DDC parts of `set` with the archive rewritten by `edit` (joined data decoded, edited,
/// re-encoded, cut into the same number of parts) and signId `sign_id`.
fn ddc_rewritten(
    set: &[Vec<u8>],
    sign_id: &str,
    edit: impl Fn(Vec<u8>) -> Vec<u8>,
) -> Vec<Vec<u8>> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut parsed: Vec<serde_json::Value> = set
        .iter()
        .map(|p| serde_json::from_slice(p).unwrap())
        .collect();
    parsed.sort_by_key(|p| p["index"].as_u64().unwrap());
    let joined: String = parsed.iter().map(|p| p["data"].as_str().unwrap()).collect();
    let archive = edit(b64.decode(joined).unwrap());
    let text = b64.encode(archive);
    let n = parsed.len();
    let chunk = text.len().div_ceil(n);
    parsed
        .iter_mut()
        .enumerate()
        .map(|(i, p)| {
            let end = ((i + 1) * chunk).min(text.len());
            p["data"] = serde_json::Value::String(text[i * chunk..end].to_owned());
            p["signId"] = serde_json::Value::String(sign_id.to_owned());
            serde_json::to_vec(p).unwrap()
        })
        .collect()
}

/// Issue 13 item 9: a SIGEX card renamed to another signId (in every part and in the archive's
/// entry name) still verifies, since the CMS does not carry the signId; it is reported under
/// `unsigned`, never as document data. A second `{signId}.cms` entry is refused.
#[test]
fn ddc_sign_id_is_unsigned_and_duplicate_entries_are_refused() {
    let v = fixture_verifier();
    let set = parts("ddc-rsa");
    let content = std::fs::read(fixture("barcode/ddc-document.txt")).unwrap();
    let rename = |mut z: Vec<u8>| {
        let name = b"1700000000001.cms";
        let at: Vec<usize> = (0..z.len() - name.len())
            .filter(|&i| &z[i..i + name.len()] == name)
            .collect();
        assert_eq!(at.len(), 2, "local header and directory");
        for i in at {
            z[i..i + 13].copy_from_slice(b"1799999999999");
        }
        z
    };
    let renamed = ddc_rewritten(&set, "1799999999999", rename);
    let verdict = verify(&v, &renamed, Some(&content));
    assert_eq!(
        verdict.indication(),
        Indication::TOTAL_PASSED,
        "{}",
        verdict.to_json()
    );
    let doc = verdict.document.as_ref().unwrap();
    assert!(!doc.to_string().contains("1799999999999"), "{doc}");
    assert_eq!(
        verdict.unsigned.as_ref().unwrap()["sign_id"],
        "1799999999999"
    );
    assert!(
        verdict.signatures[0]
            .warnings
            .iter()
            .any(|w| w.contains("signId is not covered")),
        "{:?}",
        verdict.signatures[0].warnings
    );

    // Two `{signId}.cms` entries: the archive is refused, whichever one is genuine.
    let doubled = ddc_rewritten(&set, "1700000000001", |z| {
        let cms = tekser::formats::barcode::zip::read(
            &z,
            &tekser::formats::barcode::zip::ZipLimits {
                max_entry_bytes: 1 << 20,
                max_ratio: 100,
            },
        )
        .unwrap()
        .remove(0)
        .data;
        let mut other = cms.clone();
        let last = other.len() - 1;
        other[last] ^= 1;
        let mut twice = zip_entry("1700000000001.cms", &other, 0);
        // Append a second listed entry by rebuilding: two stored entries with the same name.
        twice = two_entries(&twice, &zip_entry("1700000000001.cms", &cms, 0));
        twice
    });
    let verdict = verify(&v, &doubled, Some(&content));
    assert_eq!(
        verdict.sub_indication(),
        Some(SubIndication::FORMAT_FAILURE),
        "{}",
        verdict.to_json()
    );
    assert!(
        error_text(&verdict).contains("appears twice"),
        "{}",
        error_text(&verdict)
    );
}

/// Joins two one-entry archives from `zip_entry` into one archive listing both.
fn two_entries(a: &[u8], b: &[u8]) -> Vec<u8> {
    let cd_at = |z: &[u8]| {
        usize::try_from(u32::from_le_bytes(
            z[z.len() - 6..z.len() - 2].try_into().unwrap(),
        ))
        .unwrap()
    };
    let (la, lb) = (cd_at(a), cd_at(b));
    let mut out = a[..la].to_vec();
    out.extend_from_slice(&b[..lb]);
    let cd_start = out.len();
    out.extend_from_slice(&a[la..a.len() - 22]);
    let mut cd_b = b[lb..b.len() - 22].to_vec();
    cd_b[42..46].copy_from_slice(&u32::try_from(la).unwrap().to_le_bytes());
    out.extend_from_slice(&cd_b);
    let cd_len = out.len() - cd_start;
    out.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00\x02\x00\x02\x00");
    out.extend_from_slice(&u32::try_from(cd_len).unwrap().to_le_bytes());
    out.extend_from_slice(&u32::try_from(cd_start).unwrap().to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

#[test]
fn cli_reads_files_in_any_order_and_stdin_lines() {
    let dir = fixture("barcode/egov-rsa");
    let n = parts("egov-rsa").len();
    let mut args = vec!["verify", "barcode"];
    let files: Vec<String> = (1..=n)
        .rev()
        .map(|i| s(&dir.join(format!("part-{i}.txt"))).to_owned())
        .collect();
    args.extend(files.iter().map(String::as_str));
    let root = fixture("pki/rsa-root.crt");
    args.extend([
        "--trust",
        s(&root),
        "--at",
        FIXTURE_TIME,
        "--revocation",
        "off",
        "--json",
    ]);
    let (code, out, err) = tekser(&args);
    assert_eq!(code, 0, "{out}{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["format"], "egov-barcode");
    assert_eq!(json["document"]["declarant_iin"], "870101300123");
    // stdin: one payload per line.
    let all = std::fs::read(dir.join("all.txt")).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tekser"))
        .args([
            "verify",
            "barcode",
            "-",
            "--trust",
            s(&root),
            "--at",
            FIXTURE_TIME,
            "--revocation",
            "off",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&all).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("VALID — signed by RSA Signer"));
}

/// A card whose CMS carries a signature time-stamp (made by openssl ts): verified after the
/// signer's one-day certificate expired, the token carrying it (fixtures/tsa).
#[test]
fn ddc_card_with_an_embedded_time_stamp() {
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("tsa/meta.json")).unwrap()).unwrap();
    let gen = parse_rfc3339(meta["gen_time"].as_str().unwrap()).unwrap();
    let v = verifier(&[fixture("tsa/ca.crt")], &[], false);
    let set = parts("ddc-tsa");
    let refs: Vec<&[u8]> = set.iter().map(Vec::as_slice).collect();
    let opts = RequestOptions {
        at: Some(gen + 31 * 86_400),
        revocation: RevocationMode::Off,
        ..Default::default()
    };
    let verdict = v.verify(
        &Input::Barcodes {
            payloads: &refs,
            content: None,
        },
        &opts,
    );
    assert_eq!(verdict.format, Format::DdcBarcode);
    assert_eq!(
        verdict.indication(),
        Indication::TOTAL_PASSED,
        "{}",
        verdict.to_json()
    );
    let ts = verdict.signatures[0]
        .timestamp
        .as_ref()
        .expect("time-stamp");
    assert!(ts.valid);
}

#[test]
fn an_e_certificate_read_after_its_signer_expired_is_indeterminate_and_valid_at_its_own_date() {
    // The signer's certificate ends 2034-06-01; the document's signed responseDate is
    // 2025-05-20. Read in 2040: no proof of existence, so INDETERMINATE / OUT_OF_BOUNDS_NO_POE
    // (not a forgery), and the claimed-time check says the chain was valid at that date.
    let v = fixture_verifier();
    let set = parts("egov-rsa");
    let refs: Vec<&[u8]> = set.iter().map(Vec::as_slice).collect();
    let verdict = v.verify(
        &Input::Barcodes {
            payloads: &refs,
            content: None,
        },
        &opts("2040-06-01T00:00:00Z"),
    );
    assert_eq!(
        verdict.indication(),
        Indication::INDETERMINATE,
        "{}",
        verdict.to_json()
    );
    assert_eq!(
        verdict.sub_indication(),
        Some(SubIndication::OUT_OF_BOUNDS_NO_POE)
    );
    let c = verdict.signatures[0]
        .claimed_time
        .as_ref()
        .expect("claimed time");
    assert_eq!(c.source, "egov-response-date");
    assert_eq!(c.time, "2025-05-20T10:15:03+05:00");
    assert!(c.signed && c.chain_valid, "{c:?}");
    // Before the signer's certificate existed the claim does not hold, and says why.
    let verdict = v.verify(
        &Input::Barcodes {
            payloads: &refs,
            content: None,
        },
        &opts("2020-06-01T00:00:00Z"),
    );
    assert_eq!(
        verdict.sub_indication(),
        Some(SubIndication::OUT_OF_BOUNDS_NO_POE),
        "{}",
        verdict.to_json()
    );
}

#[test]
fn a_document_with_two_signed_business_data_elements_reports_neither() {
    // Fourth attack round (fixtures/round4): the genuine signer signed a document holding two
    // businessData elements (the second, or a first one in a foreign namespace, says "HAS
    // CRIMINAL RECORD"); which one a reader shows depends on the reader.
    let v = fixture_verifier();
    for set in [
        "bc-egov-dup-businessdata-evil-second",
        "bc-egov-ns-businessdata-evil-first",
    ] {
        let dir = fixture(&format!("round4/{set}"));
        let mut parts: Vec<Vec<u8>> = Vec::new();
        let mut n = 1;
        while let Ok(p) = std::fs::read(dir.join(format!("part-{n}.txt"))) {
            parts.push(p);
            n += 1;
        }
        assert!(parts.len() > 1, "{set}");
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        let verdict = v.verify(
            &Input::Barcodes {
                payloads: &refs,
                content: None,
            },
            &opts("2026-12-05T01:00:00Z"),
        );
        let json = verdict.to_json();
        assert!(
            !json.contains("CRIMINAL") && !json.contains("EVILOV"),
            "{set}: {json}"
        );
        assert!(
            verdict.signatures[0]
                .warnings
                .iter()
                .any(|w| w.contains("several different businessData")),
            "{set}: {json}"
        );
    }
}
