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
    assert_eq!(
        raw.cache,
        tekser::config::CacheSettings::default(),
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

/// Writes `text` to a scratch TOML file and loads it.
fn load_toml(name: &str, text: &str) -> Result<RawConfig, ConfigError> {
    let dir = std::env::temp_dir().join(format!("tekser-cfg-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let p = dir.join("tekser.toml");
    std::fs::write(&p, text).expect("write");
    let r = RawConfig::from_file(&p);
    let _ = std::fs::remove_dir_all(&dir);
    r
}

#[test]
fn config_errors_name_what_the_user_wrote() {
    let msg = |r: Result<RawConfig, ConfigError>| match r {
        Err(ConfigError::Invalid(m)) => m,
        other => panic!("expected an invalid-config error, got {other:?}"),
    };
    let m = msg(load_toml("rev", "[revocation]\nocsp_nonce = true\n"));
    assert!(
        m.contains("[revocation]") && m.contains("did you mean [revocation_options]"),
        "{m}"
    );
    assert!(m.contains("tekser.toml"), "names the file: {m}");
    let m = msg(load_toml(
        "http",
        "[http]\ncors_origins = [\"https://a.kz\"]\n",
    ));
    assert!(m.contains("[http]") && m.contains("[server]"), "{m}");
    let m = msg(load_toml("typo", "[sever]\nworkers = 2\n"));
    assert!(m.contains("did you mean `server`"), "{m}");
    // The top-level mode string is still fine.
    assert!(load_toml("mode", "revocation = \"off\"\n").is_ok());

    // A bad fetch_allow in the file is the file's, not a flag's.
    let m = msg(load_toml(
        "allow",
        "[revocation_options]\nfetch_allow = [\"10.0.0.0/99\"]\n",
    ));
    assert!(
        m.contains("[revocation_options] fetch_allow") && m.contains("10.0.0.0/99"),
        "{m}"
    );
    assert!(!m.contains("--fetch-allow"), "{m}");

    // Out of range is refused, not clamped.
    for (text, key) in [
        (
            "[revocation_options]\nfailure_ttl_secs = 120\n",
            "failure_ttl_secs",
        ),
        (
            "[revocation_options]\nread_timeout_ms = 0\n",
            "read_timeout_ms",
        ),
        (
            "[server]\nheader_read_timeout_ms = 0\n",
            "header_read_timeout_ms",
        ),
        ("[server]\nmax_body_bytes = 0\n", "max_body_bytes"),
        ("[cache]\nredis_url = \"rediss://r:6380\"\n", "redis_url"),
        ("[cache]\nredis_url = \"redis://r:0\"\n", "redis_url"),
        (
            "[cache]\nredis_url = \"redis://r\"\nlock_wait_ms = 0\n",
            "lock_wait_ms",
        ),
    ] {
        let raw = load_toml(key, text).expect("parses");
        match raw.validate() {
            Err(ConfigError::Invalid(m)) => assert!(m.contains(key), "{key}: {m}"),
            other => panic!("{key}: {other:?}"),
        }
    }

    // `[redis]` is a guess with a pointer; a bad URL from the environment is refused, its
    // password kept out of the message.
    let m = msg(load_toml("redis", "[redis]\nurl = \"redis://r\"\n"));
    assert!(m.contains("[cache] redis_url"), "{m}");
    for url in [
        "redis://:hunter2@r:notaport",
        // The host forgotten: the password is where the port would be.
        "redis://default:hunter2",
        "redis://:hunter2@r/notadb",
    ] {
        let mut raw = RawConfig::default();
        match raw.apply_env(|k| (k == "TEKSER_REDIS_URL").then(|| url.to_owned())) {
            Err(ConfigError::Invalid(m)) => {
                assert!(
                    m.contains("TEKSER_REDIS_URL") && !m.contains("hunter2"),
                    "{m}"
                )
            }
            other => panic!("{url}: {other:?}"),
        }
    }

    // Environment variables are named in their errors.
    for (var, value) in [
        ("TEKSER_LISTEN", "localhost"),
        ("TEKSER_REVOCATION", "sometimes"),
        ("TEKSER_LOG_FORMAT", "xml"),
        ("TEKSER_ADMIN_TOKEN", "short"),
        ("TEKSER_QUEUE_CAPACITY", "lots"),
    ] {
        let mut raw = RawConfig::default();
        match raw.apply_env(|k| (k == var).then(|| value.to_owned())) {
            Err(ConfigError::Invalid(m)) => assert!(m.contains(var), "{var}: {m}"),
            other => panic!("{var}={value}: {other:?}"),
        }
    }
}
