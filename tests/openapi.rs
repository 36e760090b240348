//! Real responses of a running server validate against docs/openapi.yaml, and every status the
//! server answered is documented for its path. The validator covers the JSON Schema subset the
//! document uses: $ref, type (with 'null'), enum, properties, required, additionalProperties,
//! items, oneOf.

mod support;

use base64::Engine;
use serde_json::Value;
use support::*;

struct Spec(Value);

impl Spec {
    fn load() -> Self {
        let text = std::fs::read_to_string(root().join("docs/openapi.yaml")).expect("openapi.yaml");
        let y: serde_yaml::Value = serde_yaml::from_str(&text).expect("valid YAML");
        Spec(serde_json::to_value(y).expect("as JSON"))
    }

    fn resolve<'a>(&'a self, s: &'a Value) -> &'a Value {
        match s.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let mut cur = &self.0;
                for part in r.trim_start_matches("#/").split('/') {
                    cur = &cur[part];
                }
                assert!(!cur.is_null(), "dangling $ref {r}");
                self.resolve(cur)
            }
            None => s,
        }
    }

    /// The schema of `status`'s JSON body for `method path`.
    fn response_schema(&self, path: &str, method: &str, status: u16, media: &str) -> &Value {
        let op = &self.0["paths"][path][method];
        assert!(!op.is_null(), "{method} {path} is not documented");
        let resp = self.resolve(&op["responses"][status.to_string()]);
        assert!(
            !resp.is_null(),
            "{method} {path} answered {status}, which the spec does not list"
        );
        let schema = &resp["content"][media]["schema"];
        assert!(
            !schema.is_null(),
            "{method} {path} {status}: no schema for {media}"
        );
        schema
    }

    fn validate(&self, schema: &Value, v: &Value, at: &str, errs: &mut Vec<String>) {
        let s = self.resolve(schema);
        if let Some(one_of) = s.get("oneOf").and_then(Value::as_array) {
            let matches = one_of
                .iter()
                .filter(|alt| {
                    let mut e = Vec::new();
                    self.validate(alt, v, at, &mut e);
                    e.is_empty()
                })
                .count();
            if matches != 1 {
                errs.push(format!("{at}: matches {matches} of oneOf"));
            }
            return;
        }
        if let Some(t) = s.get("type") {
            let types: Vec<&str> = match t {
                Value::String(x) => vec![x.as_str()],
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            let actual = match v {
                Value::Null => "null",
                Value::Bool(_) => "boolean",
                Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
                Value::Number(_) => "number",
                Value::String(_) => "string",
                Value::Array(_) => "array",
                Value::Object(_) => "object",
            };
            let ok = types.contains(&actual) || (actual == "integer" && types.contains(&"number"));
            if !ok {
                errs.push(format!("{at}: {actual} is not {types:?}"));
                return;
            }
        }
        if let Some(e) = s.get("enum").and_then(Value::as_array) {
            if !e.contains(v) {
                errs.push(format!("{at}: {v} not in enum"));
            }
        }
        if let Value::Object(o) = v {
            for r in s
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let k = r.as_str().unwrap_or_default();
                if !o.contains_key(k) {
                    errs.push(format!("{at}: missing required {k}"));
                }
            }
            let props = s.get("properties").and_then(Value::as_object);
            for (k, val) in o {
                match props.and_then(|p| p.get(k)) {
                    Some(ps) => self.validate(ps, val, &format!("{at}.{k}"), errs),
                    None if s.get("additionalProperties") == Some(&Value::Bool(false)) => {
                        errs.push(format!("{at}: undocumented property {k}"))
                    }
                    None => {}
                }
            }
        }
        if let (Value::Array(a), Some(items)) = (v, s.get("items")) {
            for (i, x) in a.iter().enumerate() {
                self.validate(items, x, &format!("{at}[{i}]"), errs);
            }
        }
    }

    fn check(&self, path: &str, method: &str, r: &Reply) {
        let media = r
            .content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_owned();
        let schema = self.response_schema(path, method, r.status, &media);
        let bodies: Vec<Value> = if media == "application/x-ndjson" {
            r.body
                .lines()
                .map(|l| serde_json::from_str(l).expect("line"))
                .collect()
        } else {
            vec![r.json()]
        };
        for b in bodies {
            let mut errs = Vec::new();
            self.validate(schema, &b, "$", &mut errs);
            assert!(
                errs.is_empty(),
                "{method} {path} {}: {errs:?}\n{b}",
                r.status
            );
        }
    }
}

#[test]
fn responses_match_the_openapi_document() {
    let spec = Spec::load();
    let s = TestServer::start(|_| {});
    let rd = |p: &str| std::fs::read(fixture(p)).expect("fixture");
    for f in [
        "cms/rsa-attached.p7s",
        "cms/rsa-expired.p7s",
        "cms/rsa-detached.p7s",
        "cms/other-root.p7s",
        "cms/content.txt",
        "cms/rsa-two-signers.p7s",
    ] {
        let r = s.call(
            "POST",
            "/v1/verify",
            Some("application/pkcs7-signature"),
            &rd(f),
        );
        spec.check("/v1/verify", "post", &r);
    }
    for (ct, f) in [
        ("application/xml", "barcode/egov-rsa/document.xml"),
        ("text/plain", "barcode/egov-rsa/all.txt"),
        ("text/plain", "barcode/ddc-rsa/all.txt"),
        ("text/plain", "cms/content.txt"),
        ("application/pdf", "pdf/two-signatures.pdf"),
        ("application/pdf", "pdf/attack-isa-content.pdf"),
    ] {
        let r = s.call("POST", "/v1/verify?revocation=off", Some(ct), &rd(f));
        assert_eq!(r.status, 200);
        spec.check("/v1/verify", "post", &r);
    }
    for (ct, body) in [
        ("application/json", b"{oops".to_vec()),
        ("application/json", b"{}".to_vec()),
        ("application/zip", b"PK".to_vec()),
    ] {
        let r = s.call("POST", "/v1/verify", Some(ct), &body);
        assert!(r.status >= 400);
        spec.check("/v1/verify", "post", &r);
    }
    let r = s.call(
        "POST",
        "/v1/verify?at=never",
        Some("application/pkcs7-signature"),
        &rd("cms/rsa-attached.p7s"),
    );
    spec.check("/v1/verify", "post", &r);

    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let batch = format!(
        "{}\n{}\nnot json\n",
        serde_json::json!({"id": 1, "cms": b64(&rd("cms/rsa-attached.p7s"))}),
        serde_json::json!({"id": "x", "cms": b64(&rd("cms/rsa-expired.p7s"))})
    );
    let r = s.call(
        "POST",
        "/v1/verify/batch",
        Some("application/x-ndjson"),
        batch.as_bytes(),
    );
    spec.check("/v1/verify/batch", "post", &r);

    let r = s.call(
        "POST",
        "/v1/certificates/inspect",
        Some("application/x-pem-file"),
        &rd("pki/ec-leaf.crt"),
    );
    spec.check("/v1/certificates/inspect", "post", &r);
    let r = s.call(
        "POST",
        "/v1/certificates/inspect",
        Some("application/x-pem-file"),
        b"nope",
    );
    spec.check("/v1/certificates/inspect", "post", &r);
    spec.check("/healthz", "get", &s.call("GET", "/healthz", None, b""));

    // The validator itself must reject what the document forbids.
    let good = s
        .call(
            "POST",
            "/v1/verify",
            Some("application/pkcs7-signature"),
            &rd("cms/rsa-attached.p7s"),
        )
        .json();
    let schema = spec
        .response_schema("/v1/verify", "post", 200, "application/json")
        .clone();
    for (mutate, why) in [
        (
            Box::new(|v: &mut Value| v["indication"] = "MAYBE".into()) as Box<dyn Fn(&mut Value)>,
            "enum",
        ),
        (
            Box::new(|v: &mut Value| v["surprise"] = 1.into()),
            "additionalProperties",
        ),
        (
            Box::new(|v: &mut Value| v["signatures"][0]["chain"][0]["trust_anchor"] = "yes".into()),
            "type",
        ),
        (
            Box::new(|v: &mut Value| {
                v["signatures"][0]
                    .as_object_mut()
                    .map(|o| o.remove("revocation"));
            }),
            "required",
        ),
    ] {
        let mut bad = good.clone();
        mutate(&mut bad);
        let mut errs = Vec::new();
        spec.validate(&schema, &bad, "$", &mut errs);
        assert!(
            !errs.is_empty(),
            "validator accepted a verdict violating {why}"
        );
    }
    spec.check("/readyz", "get", &s.call("GET", "/readyz", None, b""));
}
