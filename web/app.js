// The verification page: sends what the person gives it to POST /v1/verify (the same API and
// limits as every other client) and shows the verdict in plain words. Nothing is stored: no
// cookies, no localStorage; the last verdict lives in this page's memory until it is closed.
// Every value from the verdict is put in the page with textContent, never as HTML.
"use strict";

(function () {
  const I18N = window.TEKSER_I18N;
  const LANGS = ["kk", "ru", "en"];
  let lang = pickLanguage();
  let lastVerdict = null;
  let lastError = null; // [key, vars] of the last error shown, re-rendered on a language switch
  const $ = (id) => document.getElementById(id);

  // ---------- language ----------

  function pickLanguage() {
    const prefs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"];
    for (const p of prefs) {
      const code = String(p).toLowerCase().split("-")[0];
      if (code === "kz") return "kk"; // a common mislabel of Kazakh
      if (LANGS.includes(code)) return code;
    }
    return "en";
  }

  function t(key, vars) {
    const table = I18N[lang] || I18N.en;
    let s = key in table ? table[key] : key in I18N.en ? I18N.en[key] : key;
    if (vars) {
      for (const [k, v] of Object.entries(vars)) s = s.split("{" + k + "}").join(String(v));
    }
    return s;
  }

  function applyLanguage() {
    document.documentElement.lang = lang;
    $("lang").value = lang;
    document.title = "tekser — " + t("title");
    for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    $("show-json").textContent = $("json").hidden ? t("show_json") : t("hide_json");
    showProgress();
    if (lastVerdict) render(lastVerdict);
    if (lastError) showError(lastError[0], lastError[1]);
  }

  // ---------- sending ----------

  // Magic numbers first: file names and browser-guessed types are often wrong (.sig, .bin).
  function sniff(bytes, name) {
    const b = new Uint8Array(bytes);
    const text = new TextDecoder("latin1").decode(b);
    // A saved QR payload: an egov BarcodeElement (XML, but not a signed XML document) or a
    // DDC JSON part. The server reads these as barcode text.
    if (text.includes("<BarcodeElement")) return "text/plain";
    if (/^\s*\{/.test(text)) return "text/plain";
    if (text.startsWith("%PDF")) return "application/pdf";
    if (b[0] === 0x89 && text.startsWith("PNG", 1)) return "image/png";
    if (b[0] === 0xff && b[1] === 0xd8) return "image/jpeg";
    if (b[0] === 0x30) return "application/pkcs7-signature";
    if (text.startsWith("-----BEGIN")) return "application/pkcs7-signature";
    const trimmed = text.replace(/^\uFEFF|^\xEF\xBB\xBF/, "").trimStart();
    if (trimmed.startsWith("<")) return "application/xml";
    const lower = (name || "").toLowerCase();
    if (/\.(p7s|p7m|cms|sig)$/.test(lower)) return "application/pkcs7-signature";
    if (lower.endsWith(".txt")) return "text/plain";
    return "application/octet-stream";
  }

  async function post(body, contentType) {
    lastVerdict = null;
    lastError = null;
    $("verdict").hidden = true;
    $("error").hidden = true;
    $("busy").hidden = false;
    $("result").setAttribute("aria-busy", "true");
    try {
      const init = { method: "POST", body: body, credentials: "omit", cache: "no-store" };
      if (contentType) init.headers = { "Content-Type": contentType };
      const r = await fetch("/v1/verify", init);
      const text = await r.text();
      let json = null;
      try { json = JSON.parse(text); } catch (_) { json = null; }
      if (r.ok && json && json.indication) {
        lastVerdict = json;
        render(json);
        // On a phone the answer is below the inputs: bring it into view.
        $("status").scrollIntoView({ block: "start" });
      } else {
        // A problem+json answer (RFC 9457): its stable `code` in plain words where the page
        // knows it, with the server's detail either way.
        const detail = json && (json.detail || json.title) ? json.detail || json.title : "HTTP " + r.status;
        const code = json && typeof json.code === "string" ? "problem_" + json.code : null;
        if (code && code in I18N.en) showError(code, { e: detail });
        else showError("http_error", { e: detail });
      }
    } catch (e) {
      showError("network_error");
    } finally {
      $("busy").hidden = true;
      $("result").setAttribute("aria-busy", "false");
    }
  }

  function showError(key, vars) {
    lastError = [key, vars];
    $("error").textContent = t(key, vars);
    $("error").hidden = false;
  }

  async function verifyFiles(files) {
    files = Array.from(files || []);
    if (files.length === 0) return;
    const typed = [];
    for (const f of files) {
      const head = await f.slice(0, 512).arrayBuffer();
      typed.push({ file: f, type: sniff(head, f.name) });
    }
    if (typed.every((x) => x.type === "text/plain")) {
      // QR payloads saved one per file, any order: one line each, as when pasted.
      const texts = await Promise.all(typed.map((x) => x.file.text()));
      return post(texts.map((x) => x.trim()).join("\n") + "\n", "text/plain; charset=utf-8");
    }
    if (typed.length === 1) {
      const one = typed[0];
      return post(one.file, one.type);
    }
    // Two files: a detached CMS signature and the content it signs (multipart parts
    // `signature` and `content`, as the API documents).
    const sig = typed.find((x) => x.type === "application/pkcs7-signature" && /\.(p7s|p7m|cms|sig)$/i.test(x.file.name))
      || typed.find((x) => x.type === "application/pkcs7-signature");
    if (typed.length !== 2 || !sig) {
      return showError("http_error", { e: "choose one file, or a detached signature and its signed file" });
    }
    const content = typed.find((x) => x !== sig);
    const form = new FormData();
    form.append("signature", sig.file, sig.file.name);
    form.append("content", content.file, content.file.name);
    return post(form, null);
  }

  async function verifyText() {
    const lines = $("payloads").value.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
    if (lines.length === 0) return showError("nothing_pasted");
    return post(lines.join("\n") + "\n", "text/plain; charset=utf-8");
  }

  // ---------- camera ----------

  // Parts collected from the camera, by part number when the payload says it (egov:
  // elementNumber/elementsAmount; DDC JSON: index/total), else by the text itself.
  const scan = { parts: new Map(), total: null, stream: null, timer: null, detector: null };

  function partOf(text) {
    const egov = /<elementNumber>(\d+)<\/elementNumber>\s*<elementsAmount>(\d+)<\/elementsAmount>/.exec(text);
    if (egov) return { index: Number(egov[1]), total: Number(egov[2]) };
    try {
      const j = JSON.parse(text);
      if (j && Number.isInteger(j.index) && Number.isInteger(j.total)) return { index: j.index, total: j.total };
    } catch (_) { /* not JSON: a single code */ }
    return null;
  }

  function addScanned(text) {
    const p = partOf(text);
    const key = p ? "#" + p.index : text;
    if (p) scan.total = p.total;
    if (scan.parts.has(key)) return;
    scan.parts.set(key, text);
    $("payloads").value = Array.from(scan.parts.values()).join("\n");
    showProgress();
    if (scan.total && scan.parts.size >= scan.total) {
      stopCamera();
      $("scan-progress").textContent = t("scan_done");
      verifyText().then(showProgress);
    }
  }

  function showProgress() {
    if (scan.parts.size === 0) { $("scan-progress").textContent = ""; return; }
    $("scan-progress").textContent = scan.total
      ? t("parts_read", { k: scan.parts.size, n: scan.total })
      : t("codes_read", { k: scan.parts.size });
  }

  async function startCamera() {
    if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return showError("camera_secure");
    }
    scan.parts.clear();
    scan.total = null;
    showProgress();
    try {
      scan.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (e) {
      return showError("camera_error", { e: e && e.name ? e.name : String(e) });
    }
    const video = $("video");
    video.srcObject = scan.stream;
    video.hidden = false;
    await video.play().catch(() => {});
    if ("BarcodeDetector" in window) {
      try { scan.detector = new window.BarcodeDetector({ formats: ["qr_code"] }); } catch (_) { scan.detector = null; }
    }
    $("camera").hidden = true;
    $("camera-stop").hidden = false;
    $("camera-stop").focus();
    scan.timer = setInterval(scanFrame, 250);
  }

  function stopCamera() {
    if (scan.timer) clearInterval(scan.timer);
    scan.timer = null;
    if (scan.stream) for (const tr of scan.stream.getTracks()) tr.stop();
    scan.stream = null;
    $("video").hidden = true;
    $("video").srcObject = null;
    $("camera").hidden = false;
    $("camera-stop").hidden = true;
  }

  const canvas = document.createElement("canvas");
  let scanning = false;
  async function scanFrame() {
    const video = $("video");
    if (scanning || !video.videoWidth) return;
    scanning = true;
    try {
      if (scan.detector) {
        // The browser's own detector finds every code in the frame at once.
        for (const code of await scan.detector.detect(video)) addScanned(code.rawValue);
      } else if (window.jsQR) {
        // The vendored decoder reads one code a frame; the person moves from code to code.
        const w = video.videoWidth, h = video.videoHeight;
        canvas.width = w; canvas.height = h;
        const ctx = canvas.getContext("2d", { willReadFrequently: true });
        ctx.drawImage(video, 0, 0, w, h);
        const code = window.jsQR(ctx.getImageData(0, 0, w, h).data, w, h, { inversionAttempts: "dontInvert" });
        if (code && code.data) addScanned(code.data);
      }
    } catch (_) {
      /* a frame that cannot be read is skipped */
    } finally {
      scanning = false;
    }
  }

  // ---------- rendering ----------

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  // RFC 4514 string → {CN: [...], O: [...], ...} (escaped commas kept inside values).
  function parseDn(dn) {
    const out = {};
    if (!dn) return out;
    let cur = "", parts = [];
    for (let i = 0; i < dn.length; i++) {
      const c = dn[i];
      if (c === "\\" && i + 1 < dn.length) { cur += c + dn[i + 1]; i++; continue; }
      if (c === "," || c === "+") { parts.push(cur); cur = ""; continue; }
      cur += c;
    }
    parts.push(cur);
    for (const p of parts) {
      const eq = p.indexOf("=");
      if (eq < 0) continue;
      const k = p.slice(0, eq).trim().toUpperCase();
      const v = p.slice(eq + 1).replace(/\\(.)/g, "$1").trim();
      (out[k] = out[k] || []).push(v);
    }
    return out;
  }

  function personName(dn) {
    const d = parseDn(dn);
    const first = (k) => (d[k] && d[k][0]) || null;
    const cn = first("CN");
    const surname = first("SURNAME") || first("SN") || first("2.5.4.4");
    const given = first("GIVENNAME") || first("G") || first("2.5.4.42");
    if (cn && given && !cn.includes(given)) return cn + " " + given;
    return cn || [surname, given].filter(Boolean).join(" ") || dn;
  }

  function fmtTime(s) {
    if (!s) return "";
    const pdf = /^D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(.*)$/.exec(s);
    if (pdf) {
      const [, y, mo = "01", d = "01", h = "00", mi = "00", se = "00", tz] = pdf;
      const zone = tz && tz !== "Z" ? " " + tz.replace(/'/g, "") : " UTC";
      return `${y}-${mo}-${d} ${h}:${mi}:${se}${zone}`;
    }
    return s.replace("T", " ").replace(/Z$/, " UTC");
  }

  function dateOf(s) {
    const d = new Date(s);
    return isNaN(d.getTime()) ? null : d;
  }

  function dl(rows) {
    const d = el("dl", "facts");
    for (const [k, v] of rows) {
      if (v === null || v === undefined || v === "") continue;
      d.append(el("dt", null, k));
      const dd = el("dd");
      if (v instanceof Node) dd.append(v); else dd.textContent = String(v);
      d.append(dd);
    }
    return d;
  }

  function statusClass(ind) {
    return ind === "TOTAL_PASSED" ? "passed" : ind === "TOTAL_FAILED" ? "failed" : "indeterminate";
  }

  function why(v) {
    if (v.indication === "TOTAL_PASSED") return t("why_passed");
    const sub = v.sub_indication;
    if (sub && I18N.en[sub]) return t(sub);
    return v.indication === "TOTAL_FAILED" ? t("why_failed") : t("why_indeterminate");
  }

  function allErrors(v) {
    const seen = new Set();
    const out = [];
    const add = (e) => { const m = e && (e.message || e.code); if (m && !seen.has(m)) { seen.add(m); out.push(m); } };
    (v.errors || []).forEach(add);
    for (const s of v.signatures || []) (s.errors || []).forEach(add);
    return out;
  }

  function render(v) {
    $("verdict").hidden = false;
    const status = $("status");
    status.className = "status " + statusClass(v.indication);
    $("status-word").textContent = t(v.indication);
    const errs = allErrors(v);
    // "The document was changed after it was signed: object 5 … changed": the plain sentence,
    // then the verifier's own words for the first reason.
    $("status-why").textContent = why(v) + (errs.length ? " " + t("details") + ": " + errs.join("; ") : "");

    const warn = $("warnings");
    warn.replaceChildren();
    const warnings = new Set();
    for (const s of v.signatures || []) for (const w of s.warnings || []) warnings.add(w);
    for (const w of warnings) warn.append(el("li", null, w));
    warn.hidden = warnings.size === 0;

    const sigs = $("signatures");
    sigs.replaceChildren();
    (v.signatures || []).forEach((s, i) => sigs.append(renderSignature(s, i, (v.signatures || []).length)));

    const doc = $("document");
    doc.replaceChildren();
    if (v.document && typeof v.document === "object") {
      doc.append(el("h2", null, t("document_h")), table(v.document));
    }
    if (v.unsigned && typeof v.unsigned === "object") {
      doc.append(el("h3", "unsigned-h", t("unsigned_h")), table(v.unsigned, "unsigned"));
    }

    $("json").textContent = JSON.stringify(v, null, 2);
  }

  function renderSignature(s, i, count) {
    const sec = el("section", "card signature " + statusClass(s.indication));
    const h = el("h2", null, t("signature_n", { n: i + 1 }));
    if (count > 1 || s.indication !== lastVerdict.indication) {
      h.append(" ", el("span", "badge " + statusClass(s.indication), t(s.indication)));
    }
    sec.append(h);
    if (s.indication !== "TOTAL_PASSED" && s.sub_indication && count > 1) sec.append(el("p", "why", t(s.sub_indication)));

    const signer = s.signer;
    if (signer) {
      const d = parseDn(signer.subject);
      const roles = (signer.roles || []).map((r) => t("roles_" + r)).join(", ");
      sec.append(el("h3", null, t("signer")), dl([
        [t("name"), personName(signer.subject)],
        [t("iin"), signer.iin],
        [t("bin"), signer.bin],
        [t("organisation"), d.O ? d.O.join(", ") : null],
        [t("roles"), roles],
        [t("issuer"), personName(signer.issuer)],
        [t("serial"), signer.serial],
        [t("algorithm"), s.algorithm],
      ]));
    }

    sec.append(el("h3", null, t("when")), el("p", "when", whenText(s)));
    if (s.signed_data) sec.append(dl([[t("covers"), s.signed_data]]));
    if (s.pdf) sec.append(renderPdf(s.pdf));
    sec.append(renderChain(s));
    sec.append(renderRevocation(s.revocation));
    return sec;
  }

  function whenText(s) {
    if (s.timestamp) {
      return s.timestamp.valid
        ? t("time_proven", { t: fmtTime(s.timestamp.gen_time), tsa: personName(s.timestamp.tsa) })
        : t("time_stamp_bad", { t: fmtTime(s.timestamp.gen_time) });
    }
    if (s.signing_time) return t("time_claimed", { t: fmtTime(s.signing_time) });
    if (s.claimed_time && s.claimed_time.time) {
      return t(s.claimed_time.signed ? "time_claimed" : "time_claimed_unsigned", { t: fmtTime(s.claimed_time.time) });
    }
    if (s.pdf && s.pdf.claimed_signing_time) return t("time_claimed_unsigned", { t: fmtTime(s.pdf.claimed_signing_time) });
    return t("time_none");
  }

  // The time the validity bars are drawn against, and what kind of time it is: proven by a
  // valid time-stamp, claimed (by the signer or the document), or only the time of this check.
  function signingInstant(s) {
    const cands = [
      [s.timestamp && s.timestamp.valid ? s.timestamp.gen_time : null, "marker_proven"],
      [s.signing_time, "marker_claimed"],
      [s.claimed_time ? s.claimed_time.time : null, "marker_claimed"],
      [s.pdf && s.pdf.claimed_signing_time ? fmtTime(s.pdf.claimed_signing_time).replace(" ", "T").replace(" UTC", "Z") : null, "marker_claimed"],
      [lastVerdict && lastVerdict.validation_time, "marker_check"],
    ];
    for (const [c, kind] of cands) { const d = c && dateOf(c); if (d) return { at: d, kind: kind }; }
    return { at: new Date(), kind: "marker_check" };
  }

  function renderChain(s) {
    const box = el("div", "chain-box");
    box.append(el("h3", null, t("chain")));
    const chain = s.chain || [];
    if (chain.length === 0) { box.append(el("p", null, t("chain_none"))); return box; }
    const instant = signingInstant(s);
    const at = instant.at;
    const times = [];
    for (const c of chain) {
      const a = dateOf(c.not_before), b = dateOf(c.not_after);
      if (a) times.push(a.getTime());
      if (b) times.push(b.getTime());
    }
    times.push(at.getTime());
    const lo = Math.min(...times), hi = Math.max(...times);
    const span = Math.max(hi - lo, 1);
    const pct = (ms) => ((ms - lo) / span) * 100;

    const list = el("ol", "chain");
    // Root first: the picture reads from the trust anchor down to the signer.
    const ordered = chain.slice().reverse();
    ordered.forEach((c, i) => {
      const role = c.trust_anchor ? "anchor" : i === ordered.length - 1 ? "leaf" : "ca";
      const li = el("li", "node " + role);
      li.append(el("span", "role", t(role)), el("span", "cn", personName(c.subject)));
      const a = dateOf(c.not_before), b = dateOf(c.not_after);
      li.append(el("span", "range-text", t("valid_range", { a: fmtTime(c.not_before), b: fmtTime(c.not_after) })));
      if (a && b) {
        const inside = at >= a && at <= b;
        const bar = el("div", "bar");
        bar.setAttribute("role", "img");
        bar.setAttribute("aria-label", t("valid_range", { a: fmtTime(c.not_before), b: fmtTime(c.not_after) }));
        const range = el("span", "range " + (inside ? "ok" : "bad"));
        range.style.left = pct(a.getTime()) + "%";
        range.style.width = Math.max(pct(b.getTime()) - pct(a.getTime()), 0.5) + "%";
        const mark = el("span", "mark");
        mark.style.left = pct(at.getTime()) + "%";
        mark.title = t(instant.kind) + ": " + at.toISOString();
        bar.append(range, mark);
        li.append(bar);
      }
      list.append(li);
    });
    box.append(list, el("p", "legend", "▏ " + t(instant.kind) + ": " + fmtTime(at.toISOString().replace(/\.\d+Z$/, "Z"))));
    return box;
  }

  function renderRevocation(r) {
    const box = el("div", "revocation");
    box.append(el("h3", null, t("revocation")));
    if (!r) return box;
    const parts = [t("rev_" + r.status)];
    if (r.source && r.source !== "none") parts.push(t("rev_source", { s: r.source.toUpperCase() }));
    if (r.produced_at) parts.push(t("rev_produced", { t: fmtTime(r.produced_at) }));
    if (r.revoked_at) parts.push(t("rev_revoked_at", { t: fmtTime(r.revoked_at) }));
    box.append(el("p", "rev " + r.status, parts.join(" · ")));
    return box;
  }

  function renderPdf(p) {
    const box = el("div", "pdf");
    box.append(el("p", null, t("pdf_revision", { r: p.revision, n: p.revisions })));
    if (p.covers_whole_document) {
      box.append(el("p", null, t("pdf_whole")));
    } else {
      const changes = [];
      for (const c of p.allowed_changes || []) changes.push([c, "allowed"]);
      for (const c of p.disallowed_changes || []) changes.push([c, "disallowed"]);
      if (changes.length === 0) {
        box.append(el("p", null, t("pdf_no_later")));
      } else {
        box.append(el("p", null, t("pdf_later")));
        const ul = el("ul", "changes");
        for (const [c, kind] of changes) {
          const li = el("li", kind);
          li.append(el("span", "kind", t("pdf_" + kind) + ": "), document.createTextNode(c));
          ul.append(li);
        }
        box.append(ul);
      }
    }
    return box;
  }

  // Wrapper keys that say nothing to a person ("business_data › certificate › person › iin"
  // reads as "Person › IIN"); known keys get their translated names, others stay as written.
  const HIDDEN_KEYS = new Set(["business_data", "certificate"]);
  function docKey(k) {
    const key = "doc_" + k;
    return key in I18N.en ? t(key) : k;
  }

  // A nested object as rows "a › b › c" → value.
  function table(obj, cls) {
    const rows = [];
    const walk = (v, path) => {
      if (rows.length >= 500) return; // a bound for the page, far above any real document
      if (v !== null && typeof v === "object") {
        const entries = Array.isArray(v) ? v.map((x, i) => [String(i + 1), x]) : Object.entries(v);
        for (const [k, x] of entries) walk(x, path.concat(k));
      } else {
        rows.push([path.filter((k) => !HIDDEN_KEYS.has(k)).map(docKey).join(" › "), v === null ? "—" : String(v)]);
      }
    };
    walk(obj, []);
    const tb = el("table", "doc" + (cls ? " " + cls : ""));
    const head = el("tr");
    head.append(el("th", null, t("field")), el("th", null, t("value")));
    head.firstChild.scope = "col";
    head.lastChild.scope = "col";
    const thead = el("thead");
    thead.append(head);
    const tbody = el("tbody");
    for (const [k, v] of rows) {
      const tr = el("tr");
      const th = el("th", null, k);
      th.scope = "row";
      tr.append(th, el("td", null, v));
      tbody.append(tr);
    }
    tb.append(thead, tbody);
    return tb;
  }

  // ---------- wiring ----------

  function init() {
    $("lang").addEventListener("change", (e) => { lang = e.target.value; applyLanguage(); });
    $("file").addEventListener("change", (e) => { verifyFiles(e.target.files); });
    $("image").addEventListener("change", (e) => { verifyFiles(e.target.files); });
    $("verify-text").addEventListener("click", verifyText);
    $("camera").addEventListener("click", startCamera);
    $("camera-stop").addEventListener("click", stopCamera);
    const drop = $("drop");
    drop.tabIndex = 0;
    drop.setAttribute("role", "button");
    drop.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); $("file").click(); }
    });
    for (const ev of ["dragenter", "dragover"]) {
      drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add("over"); });
    }
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      verifyFiles(e.dataTransfer.files);
    });
    $("show-json").addEventListener("click", () => {
      const pre = $("json");
      pre.hidden = !pre.hidden;
      $("show-json").setAttribute("aria-expanded", String(!pre.hidden));
      $("show-json").textContent = pre.hidden ? t("show_json") : t("hide_json");
    });
    $("download").addEventListener("click", () => {
      if (!lastVerdict) return;
      const blob = new Blob([JSON.stringify(lastVerdict, null, 2)], { type: "application/json" });
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = "verdict.json";
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    });
    applyLanguage();
    document.body.dataset.ready = "1";
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
