"""Check that the Snakemake HTML report holds every figure of the workflow (CI, after `snakemake --report`)."""
import re
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
report = Path(sys.argv[1] if len(sys.argv) > 1 else root / "report.html")
if not report.is_file():
    sys.exit(f"{report}: no report (run snakemake --report {report.name})")
html = report.read_text(errors="replace")
slugs = sorted({s for p in (root / "rules").glob("*.smk") for s in re.findall(r'figure_outputs\("(\w+)"', p.read_text())})
missing = [s for s in slugs if f"{s}.png" not in html]
if missing:
    sys.exit(f"{report}: figures missing from the report: {missing}")
print(f"{report.name}: all {len(slugs)} figures present ({report.stat().st_size / 2**20:.1f} MiB)")
