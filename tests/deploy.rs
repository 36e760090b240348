//! The deployment files of issue #18 (Dockerfile, deploy/k8s/*.yaml, deploy/nginx/tekser.conf)
//! checked with real tools against the server they deploy, so that they cannot drift from it:
//! the real `nginx -t` on the example config, the real nginx in front of two real replicas
//! (one of them draining), every manifest parsed and its probes, ports, config and names
//! compared with what `tekser serve` answers and what its config loader accepts.
//!
//! Needs `nginx` and `redis-server` (Debian: `apt-get install nginx redis-server`); without them
//! these tests fail, they do not skip. All traffic stays on 127.0.0.1.

mod support;

use serde::Deserialize;
use serde_yaml::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::nginx::{nginx_cmd, render, Nginx};
use support::*;
use tekser::config::{RawConfig, ServerSettings};

// ---- helpers: files -----------------------------------------------------------------------------

fn repo(rel: &str) -> PathBuf {
    root().join(rel)
}

fn text(rel: &str) -> String {
    std::fs::read_to_string(repo(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// A fresh directory under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p =
            std::env::temp_dir().join(format!("tekser-deploy-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        Self(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("ephemeral port")
        .port()
}

// ---- helpers: nginx -----------------------------------------------------------------------------

/// One HTTP request through nginx: (status, x-request-id, body).
fn post(url: &str, ct: &str, body: &[u8], request_id: Option<&str>) -> (u16, String, String) {
    let mut req = ureq::post(url).set("Content-Type", ct);
    if let Some(id) = request_id {
        req = req.set("X-Request-Id", id);
    }
    let resp = match req.send_bytes(body) {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("POST {url}: {e}"),
    };
    let id = resp.header("x-request-id").unwrap_or("").to_owned();
    (resp.status(), id, resp.into_string().expect("body"))
}

fn get_status(url: &str) -> u16 {
    match ureq::get(url).call() {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r.status(),
        Err(e) => panic!("GET {url}: {e}"),
    }
}

/// `tekser_http_requests_total{route="/v1/verify",code=CODE}` of one replica.
fn verify_count(s: &TestServer, code: u16) -> u64 {
    let m = s.call("GET", "/metrics", None, b"").body;
    let prefix = format!("tekser_http_requests_total{{route=\"/v1/verify\",code=\"{code}\"}} ");
    m.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

// ---- helpers: the nginx file's directives -------------------------------------------------------

/// The config without comments (no `#` appears inside the file's quoted strings).
fn nginx_source() -> String {
    text("deploy/nginx/tekser.conf")
        .lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The body of the block that opens with `head {` (e.g. `location = /v1/verify`), braces
/// balanced.
fn block<'a>(src: &'a str, head: &str) -> &'a str {
    let start = src
        .find(&format!("{head} {{"))
        .unwrap_or_else(|| panic!("no block `{head}` in tekser.conf"))
        + head.len()
        + 2;
    let mut depth = 1;
    for (i, c) in src[start..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return &src[start..start + i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced block `{head}`")
}

/// The arguments of `name` at the top level of `block` (not inside nested blocks).
fn directive(block: &str, name: &str) -> Option<Vec<String>> {
    let mut depth = 0;
    let mut found = None;
    for stmt in block.split_inclusive(['{', '}', ';']) {
        let t = stmt.trim();
        if t.ends_with('{') {
            depth += 1;
            continue;
        }
        if t.ends_with('}') {
            depth -= 1;
            continue;
        }
        let mut words = t.trim_end_matches(';').split_whitespace();
        if depth == 0 && words.next() == Some(name) {
            assert!(found.is_none(), "`{name}` twice in one block");
            found = Some(words.map(str::to_owned).collect());
        }
    }
    found
}

fn one(block: &str, name: &str) -> String {
    let args = directive(block, name).unwrap_or_else(|| panic!("no `{name}`"));
    assert_eq!(args.len(), 1, "`{name}` should have one argument: {args:?}");
    args[0].clone()
}

/// nginx sizes: 96m, 16k, 1024.
fn size(s: &str) -> usize {
    let (n, mul) = match s.as_bytes().last() {
        Some(b'k' | b'K') => (&s[..s.len() - 1], 1 << 10),
        Some(b'm' | b'M') => (&s[..s.len() - 1], 1 << 20),
        Some(b'g' | b'G') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    n.parse::<usize>().expect("size") * mul
}

/// nginx times: 65s, 2s, 500ms, 1m.
fn millis(s: &str) -> u64 {
    if let Some(n) = s.strip_suffix("ms") {
        n.parse().expect("ms")
    } else if let Some(n) = s.strip_suffix('s') {
        n.parse::<u64>().expect("s") * 1000
    } else if let Some(n) = s.strip_suffix('m') {
        n.parse::<u64>().expect("m") * 60_000
    } else {
        s.parse::<u64>().expect("seconds") * 1000
    }
}

// ---- helpers: the manifests ---------------------------------------------------------------------

/// Every document of every deploy/k8s/*.yaml, as (file name, document).
fn manifests() -> Vec<(String, Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo("deploy/k8s"))
        .expect("deploy/k8s")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no manifests in deploy/k8s");
    let mut docs = Vec::new();
    for f in files {
        let name = f
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_owned();
        let src = std::fs::read_to_string(&f).expect("read manifest");
        for d in serde_yaml::Deserializer::from_str(&src) {
            let v = Value::deserialize(d).unwrap_or_else(|e| panic!("{name}: {e}"));
            if v.is_null() {
                continue;
            }
            for key in ["apiVersion", "kind"] {
                assert!(
                    v[key].as_str().is_some(),
                    "{name}: a document without {key}"
                );
            }
            assert!(
                v["metadata"]["name"].as_str().is_some(),
                "{name}: a document without metadata.name"
            );
            // Namespace-free: `kubectl apply -n NS -f deploy/k8s/` puts them where asked.
            assert!(
                v["metadata"]["namespace"].is_null(),
                "{name}: manifests carry no namespace"
            );
            docs.push((name.clone(), v));
        }
    }
    docs
}

fn find<'a>(docs: &'a [(String, Value)], kind: &str, name: &str) -> &'a Value {
    let hits: Vec<&Value> = docs
        .iter()
        .map(|(_, v)| v)
        .filter(|v| {
            v["kind"].as_str() == Some(kind) && v["metadata"]["name"].as_str() == Some(name)
        })
        .collect();
    assert_eq!(hits.len(), 1, "exactly one {kind} {name} in deploy/k8s");
    hits[0]
}

fn s<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what}: not a string: {v:?}"))
}

fn int(v: &Value, what: &str) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("{what}: not a number: {v:?}"))
}

/// The tekser container of the tekser Deployment.
fn tekser_container(deployment: &Value) -> &Value {
    let cs = deployment["spec"]["template"]["spec"]["containers"]
        .as_sequence()
        .expect("containers");
    cs.iter()
        .find(|c| c["name"].as_str() == Some("tekser"))
        .expect("a container named tekser")
}

/// The port number a probe or Service names (a number, or a container port's name).
fn resolve_port(container: &Value, port: &Value) -> u64 {
    if let Some(n) = port.as_u64() {
        return n;
    }
    let name = s(port, "port");
    let ports = container["ports"].as_sequence().expect("ports");
    let hit = ports
        .iter()
        .find(|p| p["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no container port named {name}"));
    int(&hit["containerPort"], "containerPort")
}

/// `labels` (a mapping) holds every pair of `selector` (a mapping).
fn selects(selector: &Value, labels: &Value) -> bool {
    let sel = selector.as_mapping().expect("selector");
    let labels = labels.as_mapping().expect("labels");
    !sel.is_empty() && sel.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// Kubernetes CPU quantities: "2", "500m", 2.
fn cpu_millis(v: &Value) -> u64 {
    if let Some(n) = v.as_u64() {
        return n * 1000;
    }
    let t = s(v, "cpu");
    match t.strip_suffix('m') {
        Some(m) => m.parse().expect("millicores"),
        None => t.parse::<u64>().expect("cores") * 1000,
    }
}

/// The ConfigMap's tekser.toml.
fn config_toml(docs: &[(String, Value)]) -> String {
    let cm = find(docs, "ConfigMap", "tekser-config");
    s(&cm["data"]["tekser.toml"], "tekser.toml").to_owned()
}

// ---- nginx ---------------------------------------------------------------------------------------

#[test]
fn nginx_accepts_the_example_config() {
    let dir = TempDir::new("nginx-t");
    let conf = render(&dir.0, free_port(), None);
    let out = nginx_cmd(&dir.0, &conf)
        .arg("-t")
        .output()
        .expect("run nginx -t");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "nginx -t refused deploy/nginx/tekser.conf:\n{err}"
    );
    assert!(err.contains("test is successful"), "{err}");
    // No warnings either (a duplicate or ignored directive is a mistake in an example).
    assert!(!err.contains("[warn]"), "{err}");
}

#[test]
fn nginx_limits_and_timeouts_follow_the_server_defaults() {
    let d = ServerSettings::default();
    let src = nginx_source();
    let server = block(&src, "server");
    // Body limits: each route's largest tekser limit, so nginx's 413 only answers bodies tekser
    // would refuse as well.
    let route = |path: &str| {
        size(&one(
            block(&src, &format!("location = {path}")),
            "client_max_body_size",
        ))
    };
    // /v1/verify: the smaller of its two limits (deploy/nginx/tekser.conf says why).
    assert_eq!(
        route("/v1/verify"),
        d.max_body_bytes.min(d.max_text_body_bytes)
    );
    assert_eq!(route("/v1/certificates/inspect"), d.max_text_body_bytes);
    assert_eq!(route("/v1/verify/batch"), d.max_batch_bytes);
    let largest = [d.max_body_bytes, d.max_text_body_bytes, d.max_batch_bytes]
        .into_iter()
        .max()
        .unwrap_or(0);
    assert!(size(&one(server, "client_max_body_size")) <= largest);
    // Retries need the whole body in hand.
    assert_eq!(one(server, "proxy_request_buffering"), "on");
    let next = directive(server, "proxy_next_upstream").expect("proxy_next_upstream");
    for flag in ["error", "timeout", "http_502", "http_503", "non_idempotent"] {
        assert!(
            next.iter().any(|f| f == flag),
            "proxy_next_upstream lacks {flag}"
        );
    }
    let tries: usize = one(server, "proxy_next_upstream_tries")
        .parse()
        .expect("tries");
    let upstream = block(&src, "upstream tekser");
    let replicas = upstream
        .lines()
        .filter(|l| l.trim_start().starts_with("server "))
        .count();
    assert!(
        (2..=replicas).contains(&tries),
        "proxy_next_upstream_tries {tries} should be 2..={replicas} (one try per replica)"
    );
    // Timeouts against the server's.
    assert!(millis(&one(server, "proxy_read_timeout")) > d.request_deadline_ms);
    assert_eq!(
        millis(&one(server, "client_header_timeout")),
        d.header_read_timeout_ms
    );
    assert!(millis(&one(server, "client_body_timeout")) <= d.body_read_timeout_ms);
    // tekser closes idle keep-alive connections at header_read_timeout_ms: nginx must let go
    // of its idle upstream connections before that.
    assert!(millis(&one(upstream, "keepalive_timeout")) < d.header_read_timeout_ms);
    assert!(directive(upstream, "keepalive").is_some());
    let headers = directive(server, "large_client_header_buffers").expect("header buffers");
    assert_eq!(size(&headers[1]), d.max_header_bytes);
    // HTTP/1.1 with keep-alive to the replicas, and one request id per request.
    assert_eq!(one(server, "proxy_http_version"), "1.1");
    let set: Vec<Vec<String>> = server
        .split(';')
        .filter_map(|st| {
            let w: Vec<String> = st.split_whitespace().map(str::to_owned).collect();
            (w.first().map(String::as_str) == Some("proxy_set_header")).then(|| w[1..].to_vec())
        })
        .collect();
    assert!(
        set.iter().any(|w| w[0] == "Connection" && w[1] == "\"\""),
        "{set:?}"
    );
    assert!(
        set.iter()
            .any(|w| w[0].eq_ignore_ascii_case("x-request-id")),
        "{set:?}"
    );
}

/// The example config in front of two real replicas: requests spread over both; the caller's
/// request id passes through and nginx makes one otherwise; while one replica drains after
/// SIGTERM (its new verifications answered 503) and after it is gone, every request still
/// ends TOTAL_PASSED on the other (proxy_next_upstream ... http_503 non_idempotent);
/// /metrics and /admin are not proxied.
#[test]
fn nginx_spreads_and_retries_over_two_real_replicas() {
    // The draining replica's grace period outlasts the test's requests.
    let mut a = TestServer::start(|raw| raw.server.shutdown_grace_ms = 30_000);
    let b = TestServer::start(|_| {});
    let dir = TempDir::new("nginx-live");
    let port = free_port();
    let conf = render(&dir.0, port, Some(&[a.addr, b.addr]));
    let child = nginx_cmd(&dir.0, &conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nginx");
    let _nginx = Nginx(child);
    let base = format!("http://127.0.0.1:{port}");
    let t0 = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "nginx did not listen: {}",
            std::fs::read_to_string(dir.0.join("error.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let doc = std::fs::read(fixture("cms/rsa-attached.p7s")).expect("fixture");
    let ct = "application/pkcs7-signature";
    let verify = |id: Option<&str>| {
        let (status, rid, body) = post(&format!("{base}/v1/verify"), ct, &doc, id);
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("TOTAL_PASSED"), "{body}");
        rid
    };

    // Both replicas serve.
    for _ in 0..20 {
        verify(None);
    }
    let (a_before, b_before) = (verify_count(&a, 200), verify_count(&b, 200));
    println!("spread over the replicas: {a_before} + {b_before}");
    assert_eq!(a_before + b_before, 20);
    assert!(a_before > 0 && b_before > 0, "one replica got everything");

    // Request ids: the caller's passes through; otherwise nginx's $request_id (32 hex digits),
    // unique across replicas, not a replica's own counter.
    assert_eq!(verify(Some("deploy-test-7")), "deploy-test-7");
    let made = verify(None);
    assert!(
        made.len() == 32 && made.bytes().all(|c| c.is_ascii_hexdigit()),
        "request id {made:?} should be nginx's $request_id"
    );

    // Per-replica endpoints stay behind the balancer.
    assert_eq!(get_status(&format!("{base}/metrics")), 403);
    assert_eq!(get_status(&format!("{base}/admin/cache")), 403);
    assert_eq!(get_status(&format!("{base}/readyz")), 200);

    // Replica A gets SIGTERM while a request is half sent to it directly: it drains, answering
    // new verifications 503 shutting-down, until that request ends.
    let mut slow = TcpStream::connect(a.addr).expect("connect to a");
    let head = format!(
        "POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
        doc.len()
    );
    slow.write_all(head.as_bytes()).expect("head");
    slow.write_all(&doc[..100]).expect("part of the body");
    std::thread::sleep(Duration::from_millis(100));
    a.shutdown();
    let t0 = Instant::now();
    // (Idle keep-alive connections from nginx to A are closed by A's drain; nginx sees that.)
    while a.call("GET", "/readyz", None, b"").status != 503 {
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "a did not start draining"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    let a_503_before = verify_count(&a, 503);
    for _ in 0..20 {
        verify(None);
    }
    let a_503 = verify_count(&a, 503) - a_503_before;
    println!("draining replica answered {a_503} verification(s) with 503; nginx retried each");
    assert!(
        a_503 >= 1,
        "no request reached the draining replica: the retry was not exercised"
    );
    let log = std::fs::read_to_string(dir.0.join("tekser.access.log")).expect("access log");
    assert!(
        log.contains("upstream_status=503, 200"),
        "the access log shows no 503 retried to a 200:\n{log}"
    );

    // A finishes draining and is gone: connections to it are refused; still no request fails.
    drop(slow);
    a.join();
    assert!(TcpStream::connect_timeout(&a.addr, Duration::from_millis(500)).is_err());
    for _ in 0..10 {
        verify(None);
    }
}

// ---- Kubernetes ----------------------------------------------------------------------------------

#[test]
fn k8s_probes_ports_and_names_agree_with_the_server() {
    let docs = manifests();
    let dep = find(&docs, "Deployment", "tekser");
    let pod = &dep["spec"]["template"];
    let c = tekser_container(dep);

    // The ConfigMap's listen port is the container port, the probes' port and the Service's
    // targetPort.
    let toml: toml::Table = config_toml(&docs).parse().expect("tekser.toml is TOML");
    let listen: SocketAddr = toml
        .get("listen")
        .and_then(|v| v.as_str())
        .expect("listen")
        .parse()
        .expect("listen address");
    assert!(
        listen.ip().is_unspecified(),
        "the pod must listen on all interfaces: {listen}"
    );
    let ports = c["ports"].as_sequence().expect("ports");
    assert_eq!(ports.len(), 1);
    assert_eq!(
        int(&ports[0]["containerPort"], "containerPort"),
        u64::from(listen.port())
    );
    let svc = find(&docs, "Service", "tekser");
    let sp = svc["spec"]["ports"].as_sequence().expect("service ports");
    assert_eq!(sp.len(), 1);
    assert_eq!(
        resolve_port(c, &sp[0]["targetPort"]),
        u64::from(listen.port())
    );

    // Probes: paths the server answers 200 on, at that port.
    let server = TestServer::start(|_| {});
    for (probe, want) in [("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")] {
        let get = &c[probe]["httpGet"];
        let path = s(&get["path"], probe);
        assert_eq!(path, want, "{probe}");
        assert_eq!(
            resolve_port(c, &get["port"]),
            u64::from(listen.port()),
            "{probe}"
        );
        let r = server.call("GET", path, None, b"");
        assert_eq!(r.status, 200, "{probe} {path}: {}", r.body);
    }
    // Prometheus annotations name a path the server answers.
    let ann = &pod["metadata"]["annotations"];
    let mpath = s(&ann["prometheus.io/path"], "prometheus.io/path");
    assert_eq!(
        s(&ann["prometheus.io/port"], "prometheus.io/port"),
        listen.port().to_string()
    );
    let r = server.call("GET", mpath, None, b"");
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("tekser_http_requests_total"),
        "{mpath} is not the metrics"
    );

    // Labels and selectors: the Deployment owns its pods, the Service and the PDB select them.
    let labels = &pod["metadata"]["labels"];
    assert!(selects(&dep["spec"]["selector"]["matchLabels"], labels));
    assert!(selects(&svc["spec"]["selector"], labels));
    let pdb = find(&docs, "PodDisruptionBudget", "tekser");
    assert!(selects(&pdb["spec"]["selector"]["matchLabels"], labels));

    // The config file the container is told to read is the ConfigMap's key, where it is mounted.
    let args: Vec<&str> = c["args"]
        .as_sequence()
        .expect("args")
        .iter()
        .map(|a| s(a, "arg"))
        .collect();
    assert_eq!(args.first(), Some(&"serve"));
    let cfg = args
        .iter()
        .position(|a| *a == "--config")
        .and_then(|i| args.get(i + 1))
        .expect("--config FILE");
    let mount = c["volumeMounts"]
        .as_sequence()
        .expect("volumeMounts")
        .iter()
        .find(|m| cfg.starts_with(s(&m["mountPath"], "mountPath")))
        .expect("the config file's directory is mounted");
    let vol_name = s(&mount["name"], "mount name");
    let vol = pod["spec"]["volumes"]
        .as_sequence()
        .expect("volumes")
        .iter()
        .find(|v| v["name"].as_str() == Some(vol_name))
        .expect("the mounted volume");
    assert_eq!(s(&vol["configMap"]["name"], "configMap"), "tekser-config");
    let key = Path::new(cfg)
        .file_name()
        .and_then(|n| n.to_str())
        .expect("file name");
    assert_eq!(key, "tekser.toml");

    // The HPA scales this Deployment, from its replica count up, on CPU.
    let hpa = find(&docs, "HorizontalPodAutoscaler", "tekser");
    assert_eq!(s(&hpa["apiVersion"], "apiVersion"), "autoscaling/v2");
    let target = &hpa["spec"]["scaleTargetRef"];
    assert_eq!(s(&target["kind"], "kind"), "Deployment");
    assert_eq!(s(&target["name"], "name"), "tekser");
    assert_eq!(
        s(&target["apiVersion"], "apiVersion"),
        s(&dep["apiVersion"], "apiVersion")
    );
    let min = int(&hpa["spec"]["minReplicas"], "minReplicas");
    assert_eq!(min, int(&dep["spec"]["replicas"], "replicas"));
    assert!(
        min >= 2,
        "one replica leaves the Service empty during a restart"
    );
    assert!(int(&hpa["spec"]["maxReplicas"], "maxReplicas") > min);
    let metric = &hpa["spec"]["metrics"][0]["resource"];
    assert_eq!(s(&metric["name"], "metric"), "cpu");
    // Utilization is relative to the request: there must be one.
    assert!(
        c["resources"]["requests"]["cpu"].as_str().is_some()
            || c["resources"]["requests"]["cpu"].as_u64().is_some()
    );

    // Image: the Cargo version, built as the README says.
    let image = s(&c["image"], "image");
    let want = format!("tekser:{}", env!("CARGO_PKG_VERSION"));
    assert!(
        image == want || image.ends_with(&format!("/{want}")),
        "image {image} should be {want}"
    );
    let readme = text("README.md");
    assert!(
        readme.contains(&format!("docker build -t {want}")),
        "README's docker build should tag {want}"
    );
    assert!(text("Dockerfile").contains(&format!("docker build -t {want}")));
}

#[test]
fn k8s_config_is_accepted_by_tekser_and_sized_as_documented() {
    let docs = manifests();
    let toml_text = config_toml(&docs);
    let table: toml::Table = toml_text.parse().expect("tekser.toml is TOML");

    // The shared revocation cache: exactly this URL, naming a Service of these manifests.
    let cache = table
        .get("cache")
        .and_then(|c| c.as_table())
        .expect("[cache] table");
    let url = cache
        .get("redis_url")
        .and_then(|u| u.as_str())
        .expect("[cache] redis_url");
    assert_eq!(url, "redis://tekser-redis:6379");
    let hostport = url.trim_start_matches("redis://");
    let (host, port) = hostport.split_once(':').expect("host:port");
    let rsvc = find(&docs, "Service", host);
    let rport = rsvc["spec"]["ports"]
        .as_sequence()
        .expect("ports")
        .iter()
        .find(|p| p["port"].as_u64() == port.parse::<u64>().ok());
    assert!(rport.is_some(), "Service {host} has no port {port}");
    let redis = find(&docs, "Deployment", host);
    assert!(selects(
        &rsvc["spec"]["selector"],
        &redis["spec"]["template"]["metadata"]["labels"]
    ));

    // tekser's own loader takes the whole file, [cache] included, and attaches the Redis
    // cache it names (nothing is connected until a fetch).
    let dir = TempDir::new("config");
    let file = dir.0.join("tekser.toml");
    std::fs::write(&file, &toml_text).expect("write config");
    let raw = RawConfig::from_file(&file).unwrap_or_else(|e| panic!("ConfigMap tekser.toml: {e}"));
    let server = raw.server.clone();
    let config = raw
        .validate()
        .unwrap_or_else(|e| panic!("ConfigMap tekser.toml: {e}"));
    assert!(
        !config.demo_trust,
        "production manifests must not trust the demo roots"
    );
    assert_eq!(config.server.listen.port(), 8080);
    assert_eq!(
        config
            .verifier
            .revocation()
            .shared()
            .map(|s| s.cache.describe()),
        Some("redis://tekser-redis:6379/0".to_owned())
    );

    let dep = find(&docs, "Deployment", "tekser");
    let c = tekser_container(dep);
    // CPU: request = limit (Guaranteed QoS), and workers follow it.
    let req = cpu_millis(&c["resources"]["requests"]["cpu"]);
    let lim = cpu_millis(&c["resources"]["limits"]["cpu"]);
    assert_eq!(req, lim, "cpu request and limit differ");
    assert_eq!(lim % 1000, 0, "whole cores, so that workers = limit");
    let cores = usize::try_from(lim / 1000).unwrap_or(0);
    assert!(
        server.workers == 0 || server.workers == cores,
        "workers = {} with a limit of {cores} cores",
        server.workers
    );
    assert!(c["resources"]["limits"]["memory"].as_str().is_some());

    // Termination: the grace period covers the preStop sleep and tekser's drain.
    let grace = int(
        &dep["spec"]["template"]["spec"]["terminationGracePeriodSeconds"],
        "terminationGracePeriodSeconds",
    );
    let cmd: Vec<&str> = c["lifecycle"]["preStop"]["exec"]["command"]
        .as_sequence()
        .expect("preStop command")
        .iter()
        .map(|a| s(a, "preStop"))
        .collect();
    assert_eq!(cmd.first(), Some(&"sleep"));
    let pre_stop: u64 = cmd
        .get(1)
        .and_then(|n| n.parse().ok())
        .expect("sleep seconds");
    let drain_ms = server.shutdown_grace_ms;
    assert!(
        grace * 1000 > pre_stop * 1000 + drain_ms,
        "terminationGracePeriodSeconds {grace} <= preStop {pre_stop} s + drain {drain_ms} ms"
    );
}

#[test]
fn k8s_containers_run_locked_down_and_match_the_dockerfile() {
    let docs = manifests();
    let mut n = 0;
    for (file, d) in &docs {
        if d["kind"].as_str() != Some("Deployment") {
            continue;
        }
        let spec = &d["spec"]["template"]["spec"];
        assert_eq!(
            spec["securityContext"]["runAsNonRoot"].as_bool(),
            Some(true),
            "{file}"
        );
        assert_eq!(
            spec["automountServiceAccountToken"].as_bool(),
            Some(false),
            "{file}"
        );
        for c in spec["containers"].as_sequence().expect("containers") {
            n += 1;
            let sc = &c["securityContext"];
            assert_eq!(sc["readOnlyRootFilesystem"].as_bool(), Some(true), "{file}");
            assert_eq!(
                sc["allowPrivilegeEscalation"].as_bool(),
                Some(false),
                "{file}"
            );
            assert_eq!(
                sc["capabilities"]["drop"][0].as_str(),
                Some("ALL"),
                "{file}"
            );
            assert!(
                c["resources"]["limits"]["memory"].as_str().is_some(),
                "{file}: memory limit"
            );
        }
    }
    assert!(n >= 2, "the tekser and Redis containers");

    // The Dockerfile's user, port and entry point are what the Deployment assumes.
    let dockerfile = text("Dockerfile");
    let instr = |name: &str| -> Vec<String> {
        dockerfile
            .lines()
            .filter_map(|l| l.strip_prefix(&format!("{name} ")))
            .map(str::to_owned)
            .collect()
    };
    let dep = find(&docs, "Deployment", "tekser");
    let c = tekser_container(dep);
    let uid = int(
        &dep["spec"]["template"]["spec"]["securityContext"]["runAsUser"],
        "runAsUser",
    );
    let user = instr("USER");
    assert_eq!(user.len(), 1);
    assert_eq!(
        user[0].split(':').next(),
        Some(uid.to_string().as_str()),
        "Dockerfile USER"
    );
    assert!(uid != 0);
    assert_eq!(
        instr("EXPOSE"),
        vec![int(&c["ports"][0]["containerPort"], "port").to_string()]
    );
    assert_eq!(instr("ENTRYPOINT"), vec!["[\"tekser\"]".to_owned()]);
    let from: Vec<String> = instr("FROM");
    assert_eq!(from.len(), 2, "a build stage and a runtime stage");
    assert!(from[0].starts_with("rust:1-bookworm"));
    assert!(dockerfile.contains("cargo build --profile dist --locked --bin tekser"));
    // The preStop hook runs `sleep`: the runtime image must have one (Debian, not distroless).
    assert!(
        from[1].starts_with("debian:"),
        "preStop `sleep` needs a shell image"
    );
}

/// .dockerignore must not leave out what the build needs: files the binary embeds
/// (include_bytes!/include_str! outside tests) and targets Cargo.toml names.
#[test]
fn dockerignore_keeps_what_the_build_reads() {
    let ignored: Vec<String> = text(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.trim_end_matches('/').to_owned())
        .collect();
    let is_ignored = |rel: &str| {
        ignored
            .iter()
            .any(|p| !p.contains('*') && (rel == p || rel.starts_with(&format!("{p}/"))))
    };
    for needed in ["Cargo.toml", "Cargo.lock", "src", "benches"] {
        assert!(!is_ignored(needed), ".dockerignore leaves out {needed}");
    }
    assert!(
        is_ignored("target") && is_ignored(".git"),
        "target/ and .git belong out"
    );
    // Targets named in Cargo.toml are looked for when the manifest loads.
    let manifest: toml::Table = text("Cargo.toml").parse().expect("Cargo.toml");
    for (kind, dir) in [
        ("bench", "benches"),
        ("test", "tests"),
        ("example", "examples"),
    ] {
        for t in manifest
            .get(kind)
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            let name = t.get("name").and_then(|n| n.as_str()).expect("target name");
            let path = t
                .get("path")
                .and_then(|p| p.as_str())
                .map_or_else(|| format!("{dir}/{name}.rs"), str::to_owned);
            assert!(
                !is_ignored(&path),
                ".dockerignore leaves out {path} (Cargo.toml [[{kind}]])"
            );
        }
    }
    // Embedded files: the first string literal of each include_bytes!/include_str!, relative to
    // the source file, in the part of each file before its tests.
    let mut seen = BTreeMap::new();
    let mut stack = vec![repo("src")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("src dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let src = std::fs::read_to_string(&p).expect("source");
            let body = src.split("#[cfg(test)]").next().unwrap_or("");
            for part in body.split("include_").skip(1) {
                if !(part.starts_with("bytes!(") || part.starts_with("str!(")) {
                    continue;
                }
                let Some(lit) = part.split('"').nth(1) else {
                    continue;
                };
                let mut abs = p.parent().expect("dir").to_path_buf();
                for comp in Path::new(lit).components() {
                    match comp {
                        std::path::Component::ParentDir => {
                            abs.pop();
                        }
                        std::path::Component::Normal(c) => abs.push(c),
                        _ => {}
                    }
                }
                let rel = abs
                    .strip_prefix(root())
                    .expect("inside the repository")
                    .to_string_lossy()
                    .into_owned();
                seen.insert(rel, p.clone());
            }
        }
    }
    assert!(
        seen.keys().any(|k| k.starts_with("trust/")),
        "the NCA trust set is embedded: {seen:?}"
    );
    for (rel, from) in &seen {
        assert!(
            !is_ignored(rel),
            ".dockerignore leaves out {rel}, embedded by {}",
            from.display()
        );
    }
}

/// redis.yaml's command line, run by a real redis-server on loopback: Redis accepts every
/// argument (a typo would crash-loop the pod), the settings are the ones the file's comments
/// promise, and nothing lands in the working directory (the container's root is read-only and
/// /data an emptyDir).
#[test]
fn k8s_redis_arguments_run_on_a_real_redis() {
    let docs = manifests();
    let dep = find(&docs, "Deployment", "tekser-redis");
    let c = &dep["spec"]["template"]["spec"]["containers"][0];
    let args: Vec<String> = c["args"]
        .as_sequence()
        .expect("redis args")
        .iter()
        .map(|a| s(a, "arg").to_owned())
        .collect();
    assert_eq!(args.first().map(String::as_str), Some("redis-server"));
    let bin = ["/usr/bin", "/usr/local/bin", "/usr/sbin"]
        .iter()
        .map(|d| Path::new(d).join("redis-server"))
        .find(|p| p.is_file())
        .expect("redis-server not found: install it (Debian: apt-get install redis-server)");
    let dir = TempDir::new("redis");
    let port = free_port();
    // The manifest's arguments, then where this test runs it (later arguments win).
    let child = Command::new(bin)
        .args(&args[1..])
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--dir"])
        .arg(&dir.0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start redis-server");
    struct Stop(Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut redis = Stop(child);
    let t0 = Instant::now();
    let mut conn = loop {
        if let Ok(c) = TcpStream::connect(("127.0.0.1", port)) {
            break c;
        }
        if let Ok(Some(st)) = redis.0.try_wait() {
            panic!("redis-server refused redis.yaml's arguments {args:?}: {st}");
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "redis-server did not listen"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    conn.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut ask = |cmd: &str| -> String {
        use std::io::Read;
        conn.write_all(format!("{cmd}\r\n").as_bytes())
            .expect("send");
        let mut buf = vec![0u8; 4096];
        let n = conn.read(&mut buf).expect("reply");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    let get = |reply: String| -> String {
        // *2 $len name $len value: the value is the fifth line.
        reply.split("\r\n").nth(4).unwrap_or("").to_owned()
    };
    assert_eq!(get(ask("CONFIG GET maxmemory")), (512u64 << 20).to_string());
    assert_eq!(get(ask("CONFIG GET maxmemory-policy")), "allkeys-lru");
    assert_eq!(get(ask("CONFIG GET save")), "");
    assert_eq!(get(ask("CONFIG GET appendonly")), "no");
    assert_eq!(get(ask("CONFIG GET protected-mode")), "no");
    assert!(ask("SET tekser:probe 1 EX 60").starts_with("+OK"));
    // SHUTDOWN saves nothing when `save` is off (the connection closes without a reply).
    conn.write_all(b"SHUTDOWN\r\n").expect("send SHUTDOWN");
    let t0 = Instant::now();
    while redis.0.try_wait().ok().flatten().is_none() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "redis-server did not stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let left: Vec<_> = std::fs::read_dir(&dir.0).expect("dir").collect();
    assert!(
        left.is_empty(),
        "redis wrote to its working directory: {left:?}"
    );
}

#[test]
fn k8s_environment_variables_are_ones_tekser_reads() {
    // A misspelt variable would be ignored silently by the pod: each one the Deployment sets
    // must change what tekser's own loader produces.
    let docs = manifests();
    let dep = find(&docs, "Deployment", "tekser");
    let env = tekser_container(dep)["env"].as_sequence().expect("env");
    assert!(!env.is_empty());
    for e in env {
        let name = e["name"].as_str().expect("env name");
        let value = match name {
            "TEKSER_ADMIN_TOKEN" => "0123456789abcdef-token",
            "TEKSER_REDIS_URL" => "redis://:pw@redis.example:6380/1",
            other => panic!("{other}: add it to this test with a value to apply"),
        };
        let (mut before, mut after) = (RawConfig::default(), RawConfig::default());
        before.apply_env(|_| None).expect("no env");
        after
            .apply_env(|k| (k == name).then(|| value.to_owned()))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_ne!(
            format!("{before:?}"),
            format!("{after:?}"),
            "{name} changes nothing tekser reads"
        );
    }
}
