//! nginx for the tests that put it in front of replicas (tests/deploy.rs, tests/scale_out.rs):
//! the repository's example configuration made runnable on loopback by any user.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The nginx binary: on PATH, or where Debian puts it (/usr/sbin is not on every user's PATH).
/// A missing nginx fails the test: these checks are the point of the file.
pub fn nginx() -> PathBuf {
    for dir in std::env::var("PATH").unwrap_or_default().split(':').chain([
        "/usr/sbin",
        "/usr/local/sbin",
        "/usr/local/nginx/sbin",
    ]) {
        let p = Path::new(dir).join("nginx");
        if p.is_file() {
            return p;
        }
    }
    panic!("nginx not found: install it (Debian: apt-get install nginx); tests/deploy.rs needs it")
}

/// deploy/nginx/tekser.conf made runnable as any user in `dir`: `listen` on a loopback port,
/// logs in `dir`, and (when given) the upstream's servers replaced by `replicas`. Everything
/// else is the file as shipped. Each rewrite must match exactly as often as expected, so a
/// change of the file's shape fails here instead of silently testing something else.
pub fn render(dir: &Path, port: u16, replicas: Option<&[SocketAddr]>) -> PathBuf {
    let src = std::fs::read_to_string(super::root().join("deploy/nginx/tekser.conf"))
        .expect("deploy/nginx/tekser.conf");
    let (mut listens, mut logs, mut servers) = (0, 0, 0);
    let mut out = String::new();
    for line in src.lines() {
        let t = line.trim_start();
        let indent = &line[..line.len() - t.len()];
        if t.starts_with("listen ") {
            listens += 1;
            out += &format!("{indent}listen 127.0.0.1:{port};\n");
        } else if t.starts_with("access_log /var/log/nginx/") {
            logs += 1;
            out += &line.replace("/var/log/nginx/", &format!("{}/", dir.display()));
            out.push('\n');
        } else if t.starts_with("server ") && !t.starts_with("server {") && replicas.is_some() {
            // An upstream server line: "server ADDR max_fails=... ;"
            servers += 1;
            if servers == 1 {
                let opts: Vec<&str> = t.trim_end_matches(';').split_whitespace().skip(2).collect();
                for r in replicas.unwrap_or_default() {
                    out += &format!("{indent}server {r} {};\n", opts.join(" "));
                }
            }
        } else {
            out += line;
            out.push('\n');
        }
    }
    assert_eq!(listens, 1, "tekser.conf should have one listen line");
    assert_eq!(
        logs, 1,
        "tekser.conf should have one access_log under /var/log/nginx/"
    );
    if replicas.is_some() {
        assert!(
            servers >= 2,
            "the upstream should list at least two replicas"
        );
    }
    let site = dir.join("tekser.conf");
    std::fs::write(&site, out).expect("write site");
    // The main config Debian's /etc/nginx/nginx.conf would be, minus what needs root.
    let d = dir.display();
    let main = format!(
        "daemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\nworker_processes 1;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
         fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  \
         include {};\n}}\n",
        site.display()
    );
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, main).expect("write nginx.conf");
    conf
}

pub fn nginx_cmd(dir: &Path, conf: &Path) -> Command {
    let mut c = Command::new(nginx());
    c.arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(conf)
        .arg("-e")
        .arg(dir.join("error.log"));
    c
}

/// A running nginx, stopped (SIGTERM to the master, then SIGKILL after 5 s) on drop.
pub struct Nginx(pub Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM to the master: it stops its workers and exits. (std's kill() is SIGKILL,
        // which would leave the workers running.)
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
