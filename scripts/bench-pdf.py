#!/usr/bin/env python3
"""pyHanko's side of scripts/bench-pdf.sh: makes the benchmark PDFs (50 KB, 10 MB; pyHanko signs)
and, with `validate FILE N`, validates one N times with pyHanko and prints validations/s."""
import io, os, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "pdf"))


def make(out_dir):
    import generate as g  # fixtures/pdf/generate.py: base_pdf() and sign()
    sizes = [("50k", 50_000), ("5m", 5_000_000), ("10m", 10_000_000), ("100m", 100_000_000)]
    if os.environ.get("SKIP_100M"):
        sizes = sizes[:-1]
    for name, size in sizes:
        if os.path.exists(os.path.join(out_dir, f"signed-{name}.pdf")):
            continue
        # A page whose content stream carries `size` bytes of PDF comments (never rendered).
        pdf = g.base_pdf("Benchmark page")
        filler = b"% " + b"x" * 78 + b"\n"
        content = b"BT /F1 18 Tf 72 720 Td (Benchmark page) Tj ET\n" + filler * (size // 80)
        pdf = g.append_update(pdf, {4: g.stream(content)})
        signed = g.sign(pdf, "Signature1")
        with open(os.path.join(out_dir, f"signed-{name}.pdf"), "wb") as f:
            f.write(signed)


def validate(path, n):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext
    from asn1crypto import pem, x509
    from datetime import datetime, timezone
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "pki", "rsa-root.crt")
    trust = x509.Certificate.load(pem.unarmor(open(root, "rb").read())[2])
    data = open(path, "rb").read()
    moment = datetime(2027, 1, 1, tzinfo=timezone.utc)

    def once():
        r = PdfFileReader(io.BytesIO(data))
        vc = ValidationContext(trust_roots=[trust], allow_fetching=False, revocation_mode="soft-fail", moment=moment)
        st = validate_pdf_signature(r.embedded_signatures[0], vc)
        assert st.bottom_line, st.pretty_print_details()
    once()
    t, c = time.perf_counter(), time.process_time()
    for _ in range(n):
        once()
    secs, cpu = time.perf_counter() - t, time.process_time() - c
    # CPU time beside wall time: on a shared machine the wall rate moves with the neighbours'
    # load, the CPU-time rate much less (and `openssl speed` reports CPU time).
    print(f"{len(data)} bytes: {n / secs:.1f} validations/s ({secs * 1000 / n:.3f} ms each); "
          f"cpu_per_op_ms={cpu * 1000 / n:.3f}")


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        validate(sys.argv[2], int(sys.argv[3]))
