//! The verification page (issue #17) in a real browser: Debian's headless Chromium, driven over
//! the W3C WebDriver protocol through Debian's chromedriver on a loopback port chosen at run time,
//! against `tekser serve` on another loopback port. The WebDriver client is the few JSON calls
//! below over ureq (already a dev-dependency), not a crate: the protocol steps the test needs are
//! eight endpoints.
//!
//! No Chromium is a failure, not a skip: `.ci/run` installs `chromium` and `chromium-driver`.
//! Screenshots of each state go to `target/tmp/page-screenshots/`; with
//! `TEKSER_UPDATE_SCREENSHOTS=1` also to `docs/screenshots/` (the committed ones).

mod support;

use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

/// The WebDriver element reference key (W3C WebDriver §12.1).
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in names {
        for dir in std::env::split_paths(&path).chain([PathBuf::from("/usr/bin")]) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// chromedriver running on a free loopback port; killed on drop.
struct Driver {
    child: Child,
    base: String,
}

impl Driver {
    fn start() -> Self {
        let exe = find_program(&["chromedriver"]).unwrap_or_else(|| {
            panic!(
                "chromedriver is not installed: `apt-get install chromium chromium-driver` \
                 (.ci/run does); the page tests run in a real browser and do not skip"
            )
        });
        // Pick a port the OS says is free, then hand it to chromedriver (it has no port-0 mode).
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let child = Command::new(exe)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = ureq::get(&format!("{base}/status")).call() {
                let v: Value = r.into_json().expect("status json");
                if v["value"]["ready"] == true {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Self { child, base }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser session.
struct Browser {
    url: String,
}

impl Browser {
    fn new(driver: &Driver, accept_language: &str, extra_args: &[String]) -> Self {
        let chromium = find_program(&["chromium", "chromium-browser"]).unwrap_or_else(|| {
            panic!("chromium is not installed: `apt-get install chromium chromium-driver`")
        });
        let mut args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1280,1000",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
        ]
        .iter()
        .map(|a| (*a).to_owned())
        .collect();
        args.extend_from_slice(extra_args);
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": args,
                // What navigator.languages reports: the page picks its language from it.
                "prefs": {
                    "intl.accept_languages": accept_language,
                    // "Download" saves here, without asking.
                    "download.default_directory": download_dir(),
                    "download.prompt_for_download": false
                }
            }
        }}});
        let r = post(&format!("{}/session", driver.base), &caps);
        let id = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"))
            .to_owned();
        Self {
            url: format!("{}/session/{id}", driver.base),
        }
    }

    /// Loads the page and waits for its script to have run.
    fn open(&self, server: &TestServer) {
        self.goto(&format!("{}/", server.base));
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.exec("return document.body.dataset.ready || null;") != "1" {
            assert!(Instant::now() < deadline, "the page's script did not run");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn cmd(&self, path: &str, body: &Value) -> Value {
        post(&format!("{}{path}", self.url), body)["value"].clone()
    }

    fn goto(&self, url: &str) {
        self.cmd("/url", &json!({ "url": url }));
    }

    fn find(&self, css: &str) -> String {
        let v = self.cmd("/element", &json!({"using": "css selector", "value": css}));
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_owned()
    }

    fn send_keys(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.cmd(&format!("/element/{e}/value"), &json!({ "text": text }));
    }

    fn click(&self, css: &str) {
        let e = self.find(css);
        self.cmd(&format!("/element/{e}/click"), &json!({}));
    }

    fn exec(&self, script: &str) -> Value {
        self.cmd("/execute/sync", &json!({"script": script, "args": []}))
    }

    fn text(&self, css: &str) -> String {
        let q = serde_json::to_string(css).expect("css");
        self.exec(&format!(
            "const e = document.querySelector({q}); return e ? e.innerText : null;"
        ))
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Waits (up to 30 s: the machine may be busy) until the page shows a verdict or an error
    /// for the request just made, and returns the status word.
    fn wait_verdict(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let v = self.exec(
                "const w = document.getElementById('status-word').textContent;
                 const busy = !document.getElementById('busy').hidden;
                 const err = document.getElementById('error');
                 return busy ? null : (w || (err.hidden ? null : 'ERROR: ' + err.textContent));",
            );
            if let Some(s) = v.as_str() {
                assert!(!s.starts_with("ERROR"), "the page shows an error: {s}");
                return s.to_owned();
            }
            assert!(Instant::now() < deadline, "no verdict shown within 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Clears the last verdict's status word so that `wait_verdict` sees the next one.
    fn forget_verdict(&self) {
        self.exec(
            "document.getElementById('status-word').textContent = '';
             for (const id of ['file', 'image', 'payloads']) document.getElementById(id).value = '';",
        );
    }

    /// A screenshot of the whole page (the window grown to the document's height).
    fn screenshot(&self, name: &str) {
        let h = self
            .exec("return document.documentElement.scrollHeight;")
            .as_u64()
            .unwrap_or(1000)
            .clamp(600, 4000);
        self.cmd("/window/rect", &json!({"width": 1280, "height": h + 120}));
        // The page scrolls the answer into view; the picture starts at the top.
        self.exec("window.scrollTo(0, 0);");
        let png = get(&format!("{}/screenshot", self.url))["value"]
            .as_str()
            .map(|b| {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD
                    .decode(b)
                    .expect("screenshot base64")
            })
            .expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        let mut dirs = vec![PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("page-screenshots")];
        if std::env::var_os("TEKSER_UPDATE_SCREENSHOTS").is_some() {
            dirs.push(root().join("docs").join("screenshots"));
        }
        for d in dirs {
            std::fs::create_dir_all(&d).expect("screenshot folder");
            std::fs::write(d.join(name), &png).expect("screenshot written");
        }
        self.cmd("/window/rect", &json!({"width": 1280, "height": 1000}));
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = ureq::delete(&self.url).call();
    }
}

/// Where the browser saves downloads (emptied by the test that reads it).
fn download_dir() -> String {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("page-downloads");
    std::fs::create_dir_all(&d).expect("download folder");
    s(&d).to_owned()
}

fn post(url: &str, body: &Value) -> Value {
    match ureq::post(url).send_json(body.clone()) {
        Ok(r) => r.into_json().expect("webdriver json"),
        Err(ureq::Error::Status(code, r)) => {
            panic!(
                "webdriver {url}: {code} {}",
                r.into_string().unwrap_or_default()
            )
        }
        Err(e) => panic!("webdriver {url}: {e}"),
    }
}

fn get(url: &str) -> Value {
    ureq::get(url)
        .call()
        .unwrap_or_else(|e| panic!("webdriver {url}: {e}"))
        .into_json()
        .expect("webdriver json")
}

fn abs(rel: &str) -> String {
    let p = fixture(rel);
    assert!(Path::new(&p).is_file(), "fixture {rel}");
    s(&p).to_owned()
}

/// The served page carries the strict policy: only this origin, no inline script or style.
#[test]
fn the_page_is_served_with_a_strict_content_security_policy() {
    let server = TestServer::start(|_| {});
    let r = ureq::get(&format!("{}/", server.base))
        .call()
        .expect("GET /");
    assert_eq!(r.status(), 200);
    assert!(r.content_type().starts_with("text/html"));
    let csp = r
        .header("content-security-policy")
        .expect("CSP header")
        .to_owned();
    for must in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(must), "{must} missing from {csp}");
    }
    assert!(!csp.contains("unsafe") && !csp.contains("http"), "{csp}");
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    let body = r.into_string().expect("html");
    assert!(body.contains("/page/app.js"));
    for asset in [
        "/page/app.js",
        "/page/i18n.js",
        "/page/app.css",
        "/page/jsQR.js",
    ] {
        let r = ureq::get(&format!("{}{asset}", server.base))
            .call()
            .expect(asset);
        assert_eq!(r.status(), 200, "{asset}");
        assert!(r.header("content-security-policy").is_some(), "{asset}");
    }
    // HEAD answers with the same headers (and no body).
    let r = ureq::head(&format!("{}/", server.base))
        .call()
        .expect("HEAD /");
    assert_eq!(r.status(), 200);
    assert_eq!(r.header("content-security-policy"), Some(csp.as_str()));
    // The page is read-only: a POST to it is refused, not served.
    let r = server.call("POST", "/", Some("text/plain"), b"x");
    assert_eq!(r.status, 405);
}

/// A person's path through the page, in Chromium: the language from the browser, a signed PDF,
/// an altered one, a shuffled barcode set, a photo of the printed page, the raw verdict, and a
/// language switch. Each state is photographed.
#[test]
fn a_person_verifies_documents_in_the_browser() {
    let server = TestServer::start(|raw| raw.revocation = Some("off".into()));
    let driver = Driver::start();
    let b = Browser::new(&driver, "ru-RU,ru,en", &[]);
    b.open(&server);
    // Any CSP violation from here on (an inline style, a foreign origin) is recorded.
    b.exec(
        "window.cspViolations = [];
         document.addEventListener('securitypolicyviolation',
           e => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));",
    );

    // Every word the page shows exists in all three languages.
    assert_eq!(
        b.exec(
            "const I = window.TEKSER_I18N;
             return ['ru', 'kk'].flatMap(l => Object.keys(I.en)
               .filter(k => !(k in I[l])).map(k => l + ':' + k));"
        ),
        json!([]),
        "translations missing"
    );
    // The language comes from navigator.languages (Russian first here).
    assert_eq!(b.exec("return document.documentElement.lang;"), "ru");
    assert_eq!(b.text("#title"), "Проверка подписанного документа");
    // Switched to English with the labelled select.
    b.click("#lang option[value=en]");
    assert_eq!(b.text("#title"), "Verify a signed document");
    assert_eq!(b.exec("return document.documentElement.lang;"), "en");
    assert_eq!(
        b.exec("return document.querySelector('label[for=lang]').textContent;"),
        "Language"
    );

    // A PDF signed by pyHanko (fixtures/pdf/generate.py): valid, with the signer's name.
    b.send_keys("#file", &abs("pdf/signed.pdf"));
    assert_eq!(b.wait_verdict(), "Valid");
    let sigs = b.text("#signatures");
    assert!(sigs.contains("RSA Signer"), "{sigs}");
    assert!(sigs.contains("Covers revision"), "{sigs}");
    assert!(sigs.contains("Trusted root"), "{sigs}");
    assert_eq!(
        b.exec("return document.querySelectorAll('.chain .bar .range.ok').length;"),
        3,
        "root, CA and signer each valid at the signing time"
    );
    b.screenshot("pdf-valid.png");

    // Two signatures in two revisions: each with the revision it covers and what came after.
    b.forget_verdict();
    b.send_keys("#file", &abs("pdf/two-signatures.pdf"));
    assert_eq!(b.wait_verdict(), "Valid");
    assert_eq!(
        b.exec("return document.querySelectorAll('#signatures section.signature').length;"),
        2
    );
    let first = b.text("#signatures section.signature:nth-child(1)");
    assert!(
        first.contains("Covers revision 2 of 3") && first.contains("allowed: signature added"),
        "{first}"
    );
    let second = b.text("#signatures section.signature:nth-child(2)");
    assert!(
        second.contains("RSA Second Signer")
            && second.contains("Covers revision 3 of 3")
            && second.contains("It covers the whole document as it is now."),
        "{second}"
    );

    // The same PDF with a font object changed in a later revision: not valid, and why.
    b.forget_verdict();
    b.send_keys("#file", &abs("pdf/attack-font.pdf"));
    assert_eq!(b.wait_verdict(), "Not valid");
    let why = b.text("#status-why");
    assert!(
        why.contains("The document was changed after it was signed") && why.contains("object 5"),
        "{why}"
    );
    assert!(b.text("#signatures").contains("not allowed: object 5"));
    b.screenshot("pdf-altered.png");

    // An egov e-certificate's five QR payloads pasted in shuffled order: the document fields.
    b.forget_verdict();
    let payloads: Vec<String> = [3, 5, 1, 4, 2]
        .iter()
        .map(|n| {
            std::fs::read_to_string(fixture(&format!("barcode/egov-rsa/part-{n}.txt")))
                .expect("part")
                .trim()
                .to_owned()
        })
        .collect();
    b.send_keys("#payloads", &payloads.join("\n"));
    b.click("#verify-text");
    assert_eq!(b.wait_verdict(), "Valid");
    let doc = b.text("#document");
    for field in [
        "Declarant's IIN",
        "870101300123",
        "Request number",
        "E2025052000000001",
        "Справка о наличии либо отсутствии судимости",
    ] {
        assert!(doc.contains(field), "{field} missing from {doc}");
    }
    // The envelope values no signature covers are set apart, labelled so.
    assert_eq!(
        b.exec("return document.querySelector('#document .unsigned-h').textContent;"),
        "Not covered by the signature (shown only for reference)"
    );
    let unsigned = b.text("#document table.unsigned");
    assert!(unsigned.contains("FavorID") && unsigned.contains("E2025052000000001"));
    b.screenshot("egov-barcodes.png");

    // The same parts saved one per file and chosen together, in another order.
    b.forget_verdict();
    let files: Vec<String> = [2, 4, 1, 5, 3]
        .iter()
        .map(|n| abs(&format!("barcode/egov-rsa/part-{n}.txt")))
        .collect();
    b.send_keys("#file", &files.join("\n"));
    assert_eq!(b.wait_verdict(), "Valid");
    assert!(b.text("#document").contains("E2025052000000001"));

    // A PNG of the printed e-certificate page through the image input: read and verified.
    b.forget_verdict();
    b.send_keys("#image", &abs("barcode/egov-rsa/page.png"));
    assert_eq!(b.wait_verdict(), "Valid");
    assert!(b.text("#document").contains("870101300123"));
    b.screenshot("egov-image.png");

    // A detached CMS signature without its content: cannot be confirmed, and what is missing.
    b.forget_verdict();
    b.send_keys("#file", &abs("cms/rsa-detached.p7s"));
    assert_eq!(b.wait_verdict(), "Cannot be confirmed");
    assert!(b
        .text("#status-why")
        .contains("The signed content is missing"));
    // The same signature chosen together with its content (sent as multipart): valid.
    b.forget_verdict();
    b.send_keys(
        "#file",
        &format!(
            "{}\n{}",
            abs("cms/content.txt"),
            abs("cms/rsa-detached.p7s")
        ),
    );
    assert_eq!(b.wait_verdict(), "Valid");
    assert!(b.text("#signatures").contains("RSA Signer"));

    // The image input again for the Show JSON and language steps below.
    b.forget_verdict();
    b.send_keys("#image", &abs("barcode/egov-rsa/page.png"));
    assert_eq!(b.wait_verdict(), "Valid");

    // "Show JSON" by keyboard (Enter on the focused button) reveals the raw verdict.
    b.send_keys("#show-json", "\u{E007}");
    let raw = b.text("#json");
    let v: Value = serde_json::from_str(&raw).expect("the revealed JSON parses");
    assert_eq!(v["indication"], "TOTAL_PASSED");
    assert_eq!(v["format"], "egov-barcode");
    assert_eq!(b.text("#show-json"), "Hide JSON");

    // "Download" saves the same verdict as a JSON file.
    let saved = PathBuf::from(download_dir()).join("verdict.json");
    let _ = std::fs::remove_file(&saved);
    b.click("#download");
    let deadline = Instant::now() + Duration::from_secs(20);
    let file = loop {
        if let Ok(t) = std::fs::read_to_string(&saved) {
            if let Ok(v) = serde_json::from_str::<Value>(&t) {
                break v;
            }
        }
        assert!(Instant::now() < deadline, "no verdict.json downloaded");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(file, v, "the downloaded verdict is the one shown");

    // Kazakh: the verdict already shown is re-rendered in it.
    b.click("#lang option[value=kk]");
    assert_eq!(b.text("#status-word"), "Жарамды");
    assert_eq!(b.text("#title"), "Қол қойылған құжатты тексеру");
    b.screenshot("language-kk.png");

    let violations = b.exec("return window.cspViolations;");
    assert_eq!(violations, json!([]), "the page broke its own policy");
}

/// A Y4M video (what Chromium's fake camera plays, in a loop) showing the five QR codes of the
/// egov fixture one after another, in shuffled order, each for one second, centred on white.
fn qr_video(path: &Path) {
    const W: usize = 640;
    const H: usize = 560;
    const FPS: usize = 4;
    let mut out = format!("YUV4MPEG2 W{W} H{H} F{FPS}:1 Ip A1:1 C420jpeg\n").into_bytes();
    for n in [3, 1, 5, 2, 4] {
        let file = std::fs::File::open(fixture(&format!("barcode/egov-rsa/part-{n}.png")))
            .expect("part png");
        let mut dec = png::Decoder::new(file);
        dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = dec.read_info().expect("png header");
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).expect("png frame");
        let (w, h) = (info.width as usize, info.height as usize);
        let channels = info.color_type.samples();
        assert!(w <= W && h <= H, "part {n} fits the frame");
        let mut luma = vec![255u8; W * H];
        let (x0, y0) = ((W - w) / 2, (H - h) / 2);
        for y in 0..h {
            for x in 0..w {
                luma[(y0 + y) * W + x0 + x] = buf[(y * w + x) * channels];
            }
        }
        for _ in 0..FPS {
            out.extend_from_slice(b"FRAME\n");
            out.extend_from_slice(&luma);
            // No colour: both chroma planes at the neutral 128.
            out.extend(std::iter::repeat_n(128u8, W * H / 2));
        }
    }
    std::fs::write(path, out).expect("y4m written");
}

/// The camera path: Chromium's fake camera plays the five QR codes one by one; the page reads
/// them (jsQR: headless Chromium on Linux has no BarcodeDetector), shows "k of 5 parts read",
/// stops the camera when the set is complete and shows the verdict with the document fields.
#[test]
fn the_camera_reads_a_printed_e_certificate_part_by_part() {
    let server = TestServer::start(|raw| raw.revocation = Some("off".into()));
    let video = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("egov-qr-parts.y4m");
    qr_video(&video);
    let driver = Driver::start();
    let b = Browser::new(
        &driver,
        "en-US,en",
        &[
            "--use-fake-device-for-media-stream".into(),
            "--use-fake-ui-for-media-stream".into(),
            format!("--use-file-for-fake-video-capture={}", s(&video)),
        ],
    );
    b.open(&server);
    b.click("#camera");
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let p = b.text("#scan-progress");
        if !p.is_empty() && seen.last() != Some(&p) {
            seen.push(p.clone());
        }
        if !b.text("#status-word").is_empty() {
            break;
        }
        let err = b.text("#error");
        assert!(
            err.is_empty(),
            "the page shows an error: {err} (progress {seen:?})"
        );
        assert!(
            Instant::now() < deadline,
            "the camera did not read the set within 60 s (progress {seen:?})"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    println!("progress shown: {seen:?}");
    assert!(
        seen.iter()
            .any(|p| p.ends_with("of 5 parts read") && !p.starts_with("5 ")),
        "an incomplete set was shown as such: {seen:?}"
    );
    assert_eq!(b.wait_verdict(), "Valid");
    assert!(b.text("#document").contains("870101300123"));
    assert_eq!(
        b.exec("return document.getElementById('video').hidden;"),
        true
    );
    let pasted = b.exec("return document.getElementById('payloads').value.split('\\n').length;");
    assert_eq!(
        pasted, 5,
        "the five payloads read are shown in the text box"
    );
    b.screenshot("camera-scan.png");
}

/// The page is bound by the API's limits: a file over `max_body_bytes` is refused by the server
/// (413), and the page says so in plain words with the server's reason instead of a verdict.
#[test]
fn an_upload_over_the_limit_shows_the_servers_reason() {
    let server = TestServer::start(|raw| raw.server.max_body_bytes = 4096);
    assert!(
        std::fs::metadata(fixture("pdf/signed.pdf"))
            .expect("pdf")
            .len()
            > 4096
    );
    let driver = Driver::start();
    let b = Browser::new(&driver, "en-US,en", &[]);
    b.open(&server);
    b.send_keys("#file", &abs("pdf/signed.pdf"));
    let deadline = Instant::now() + Duration::from_secs(30);
    let shown = loop {
        let e = b.text("#error");
        if !e.is_empty() {
            break e;
        }
        assert!(
            Instant::now() < deadline,
            "no error shown within 30 s (status: {})",
            b.text("#status-word")
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        shown.starts_with("The file is larger than this server accepts")
            && shown.contains("exceeds the limit of 4096 bytes"),
        "{shown}"
    );
    assert_eq!(b.text("#status-word"), "", "no verdict is shown");
    assert_eq!(
        b.exec("return document.getElementById('verdict').hidden;"),
        true
    );
}
