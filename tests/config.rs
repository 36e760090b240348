//! Configuration: the example file parses and its values are the defaults; environment and
//! flags override; invalid values are refused with a reason.

mod support;

use tekser::config::{ConfigError, RawConfig, ServerSettings};
use tekser::limits::Limits;

#[test]
fn example_config_parses_and_documents_the_defaults() {
    let raw =
        RawConfig::from_file(&support::root().join("tekser.example.toml")).expect("example parses");
    assert_eq!(
        raw.server,
        ServerSettings::default(),
        "tekser.example.toml drifted from the defaults"
    );
    assert_eq!(
        raw.limits,
        Limits::default(),
        "tekser.example.toml drifted from the defaults"
    );
    assert_eq!(
        raw.revocation_options,
        tekser::config::RevocationSettings::default(),
        "tekser.example.toml drifted from the defaults"
    );
    assert_eq!(raw.trust.len(), 1);
    let cfg = raw.validate().expect("example validates");
    assert_eq!(cfg.verifier.trust().len(), 5, "the kz-nca roots");
    assert_eq!(cfg.server.listen.to_string(), "127.0.0.1:8080");
    assert!(!cfg.demo_trust);
}

#[test]
fn environment_overrides_and_validation() {
    let mut raw = RawConfig::default();
    let env = |k: &str| match k {
        "TEKSER_LISTEN" => Some("127.0.0.1:9999".to_owned()),
        "TEKSER_WORKERS" => Some("3".to_owned()),
        "TEKSER_LOG_FORMAT" => Some("json".to_owned()),
        _ => None,
    };
    raw.apply_env(env).expect("env");
    let cfg = raw.clone().validate().expect("valid");
    assert_eq!(cfg.server.listen.port(), 9999);
    assert_eq!(cfg.server.workers, 3);
    assert!(cfg.server.json_logs);
    assert!(
        !cfg.demo_trust,
        "no trust configured: the NCA production roots, never the demo ones"
    );
    assert_eq!(cfg.verifier.trust().len(), 5, "the five kz-nca roots");
    raw.demo = true;
    let demo = raw.validate().expect("valid");
    assert!(demo.demo_trust);
    assert_eq!(
        demo.verifier.trust().len(),
        2,
        "--demo alone: the two demo roots"
    );

    let mut bad = RawConfig::default();
    assert!(matches!(
        bad.apply_env(|k| (k == "TEKSER_WORKERS").then(|| "many".to_owned())),
        Err(ConfigError::Invalid(_))
    ));
    for tweak in [
        (|r: &mut RawConfig| r.listen = Some("localhost".into())) as fn(&mut RawConfig),
        |r| r.server.log_format = "xml".into(),
        |r| r.server.queue_capacity = 0,
        |r| r.server.max_header_bytes = 100,
        |r| r.server.admin_token = Some("short".into()),
        |r| r.revocation = Some("sometimes".into()),
        |r| r.server.tls_cert = Some("fixtures/pki/rsa-root.crt".into()),
        |r| {
            r.server.tls_cert = Some(support::fixture("pki/rsa-root.crt"));
            r.server.tls_key = Some(support::fixture("cms/content.txt"));
        },
    ] {
        let mut r = RawConfig::default();
        tweak(&mut r);
        assert!(matches!(r.validate(), Err(ConfigError::Invalid(_))));
    }
    let dir = std::env::temp_dir().join(format!("tekser-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let p = dir.join("bad.toml");
    std::fs::write(&p, "unknown_key = 1\n").expect("write");
    assert!(matches!(
        RawConfig::from_file(&p),
        Err(ConfigError::Invalid(_))
    ));
    assert!(matches!(
        RawConfig::from_file(&dir.join("missing.toml")),
        Err(ConfigError::Missing(_))
    ));
    let _ = std::fs::remove_dir_all(&dir);
}
