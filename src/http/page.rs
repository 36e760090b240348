//! The verification page for people (issue #17): `GET /` and its few static assets, embedded in
//! the binary from `web/` so that the page works with no network and no files beside the binary.
//! The page itself only calls `POST /v1/verify`, under that route's limits; this module serves
//! bytes and the headers that keep them safe, nothing else.

use super::{full, Body};
use hyper::{header, Response, StatusCode};

/// One embedded file.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

/// Everything the page loads. jsQR (Apache-2.0, npm `jsqr` 1.4.0, `dist/jsQR.js` unmodified;
/// web/vendor/jsqr/) reads QR codes from the camera where the browser has no BarcodeDetector.
const ASSETS: &[Asset] = &[
    Asset {
        path: "/",
        content_type: "text/html; charset=utf-8",
        body: include_bytes!("../../web/index.html"),
    },
    Asset {
        path: "/page/app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../web/app.js"),
    },
    Asset {
        path: "/page/i18n.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../web/i18n.js"),
    },
    Asset {
        path: "/page/app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../web/app.css"),
    },
    Asset {
        path: "/page/jsQR.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../web/vendor/jsqr/jsQR.js"),
    },
    Asset {
        path: "/page/jsQR.LICENSE.txt",
        content_type: "text/plain; charset=utf-8",
        body: include_bytes!("../../web/vendor/jsqr/LICENSE"),
    },
];

/// Scripts, styles, images and requests from this origin only; no inline script or style
/// (the page sets positions through the CSSOM, which CSP permits), no plugins, no framing, no
/// form posts elsewhere. `blob:` for the downloaded verdict and the camera preview; `data:`
/// images are not needed and not allowed.
pub(super) const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' blob:; media-src 'self' blob: mediastream:; connect-src 'self'; \
    base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// True for a path this module serves (on GET).
pub(super) fn has(path: &str) -> bool {
    ASSETS.iter().any(|a| a.path == path)
}

/// The asset at `path` with its security headers; 404 for anything else (the router only calls
/// this after `has`).
pub(super) fn serve(path: &str) -> Response<Body> {
    let Some(a) = ASSETS.iter().find(|a| a.path == path) else {
        return Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(full(""))
            .unwrap_or_else(|_| Response::new(full("")));
    };
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, a.content_type)
        .header(header::CONTENT_SECURITY_POLICY, CSP)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::X_FRAME_OPTIONS, "DENY")
        .header(header::REFERRER_POLICY, "no-referrer")
        // The camera for QR scanning, on this origin only; none of the other powerful features.
        .header(
            "permissions-policy",
            "camera=(self), microphone=(), geolocation=(), payment=(), usb=()",
        )
        .header("cross-origin-opener-policy", "same-origin")
        .header("cross-origin-resource-policy", "same-origin")
        // The assets change only with the binary; revalidating keeps an upgrade visible at once.
        .header(header::CACHE_CONTROL, "no-cache")
        .body(full(a.body))
        .unwrap_or_else(|_| Response::new(full("")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(path: &str) -> &'static str {
        let a = ASSETS.iter().find(|a| a.path == path).expect("asset");
        std::str::from_utf8(a.body).expect("utf-8")
    }

    /// Every script and stylesheet the page names is one we serve, and it names nothing else
    /// (no CDN, no external font): the page must work with the network cable pulled.
    #[test]
    fn the_page_loads_only_embedded_assets() {
        let html = text("/");
        let mut refs = 0;
        for attr in ["src=\"", "href=\""] {
            for (i, _) in html.match_indices(attr) {
                let rest = html.get(i + attr.len()..).unwrap_or("");
                let url = rest.split('"').next().unwrap_or("");
                assert!(has(url), "the page references {url}, which is not embedded");
                refs += 1;
            }
        }
        assert_eq!(refs, 4, "three scripts and one stylesheet");
        for own in ["/", "/page/app.js", "/page/i18n.js", "/page/app.css"] {
            let t = text(own);
            assert!(
                !t.contains("http://") && !t.contains("https://") && !t.contains("//cdn"),
                "{own} names another origin"
            );
        }
    }

    /// The CSP forbids inline script and style, so the page must have none: a `<script>` with a
    /// body, a `style=` attribute, an `on…=` handler or a `javascript:` URL would be blocked
    /// (and would be a hole if the policy were ever loosened).
    #[test]
    fn the_page_has_no_inline_script_or_style() {
        let html = text("/");
        assert!(!html.contains("<style"), "inline <style>");
        assert!(!html.contains(" style="), "inline style attribute");
        assert!(!html.contains("javascript:"), "javascript: URL");
        for (i, _) in html.match_indices("<script") {
            let rest = html.get(i..).unwrap_or("");
            let tag_end = rest.find('>').expect("closed tag");
            assert!(
                rest.get(..tag_end).unwrap_or("").contains(" src="),
                "inline script"
            );
            assert!(rest
                .get(tag_end + 1..)
                .unwrap_or("")
                .starts_with("</script>"));
        }
        let lower = html.to_ascii_lowercase();
        for handler in [
            " onclick=",
            " onload=",
            " onchange=",
            " onerror=",
            " oninput=",
        ] {
            assert!(!lower.contains(handler), "inline handler {handler}");
        }
        assert!(!CSP.contains("unsafe-inline") && !CSP.contains("unsafe-eval"));
    }

    /// Verdict values (names, document fields, the verifier's messages) come from untrusted
    /// documents: the page puts them in with textContent only. No HTML-parsing sink and no
    /// string evaluation may appear in its own scripts (the CSP would block an injected
    /// script, but markup injection would still deface the answer a person trusts).
    #[test]
    fn the_page_script_has_no_html_or_eval_sinks() {
        for own in ["/page/app.js", "/page/i18n.js"] {
            let js = text(own);
            for sink in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
                "eval(",
                "new Function",
                "setTimeout(\"",
                "DOMParser",
            ] {
                assert!(!js.contains(sink), "{own} uses {sink}");
            }
        }
    }

    #[test]
    fn every_asset_carries_the_policy_and_a_type() {
        for a in ASSETS {
            let r = serve(a.path);
            assert_eq!(r.status(), StatusCode::OK);
            assert_eq!(r.headers()[header::CONTENT_SECURITY_POLICY], CSP);
            assert_eq!(r.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            assert_eq!(r.headers()[header::CONTENT_TYPE], a.content_type);
        }
        assert!(!has("/page/../Cargo.toml") && !has("/page/") && !has("/index.htm"));
        assert_eq!(serve("/nope").status(), StatusCode::NOT_FOUND);
    }
}
