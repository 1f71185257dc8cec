#!/usr/bin/env bash
# Renders the report of a fixture ledger of 1,000 changes in headless Chromium
# and saves a screenshot to look at. Not run by CI. Usage:
#   scripts/report-screenshot.sh [output folder, default /tmp/hubfix-report]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/hubfix-report}
mkdir -p "$out"
node --no-warnings --import tsx scripts/report-fixture.ts "$out/report.html"
node --no-warnings --import tsx scripts/report-fixture.ts "$out/report.md" md
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
  echo "skipped the screenshot: no chromium (Debian: apt-get install -y chromium)"
  exit 0
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# The flags keep Chromium off the network (the page needs none: its CSP allows nothing).
shoot() {
  "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --hide-scrollbars --window-size="${WIDTH:-1100},${HEIGHT:-2600}" \
    --screenshot="$2" "file://$1" 2>/dev/null
  echo "screenshot: $2"
}
shoot "$out/report.html" "$out/report.png"
# The end of a long page: the same page with its first sections hidden.
sed 's#</head>#<style>.tiles,\#controls,\#timeline,\#slowest,\#failed{display:none}</style></head>#' \
  "$out/report.html" >"$out/report-end.html"
shoot "$out/report-end.html" "$out/report-end.png"
