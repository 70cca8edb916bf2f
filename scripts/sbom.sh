#!/usr/bin/env bash
# Writes the software bill of materials of Conductor's production dependencies as CycloneDX
# JSON, from package-lock.json alone (no network, no node_modules needed): what the image ships.
# CI and the release workflow call it; the ops tests run it too.
#
#   scripts/sbom.sh [OUT]      OUT defaults to sbom.cdx.json in the working directory
set -euo pipefail

out="${1:-sbom.cdx.json}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
npm sbom --sbom-format cyclonedx --sbom-type application --omit dev --package-lock-only >"$tmp"

# Refuse an empty or malformed document rather than publish it.
node -e '
  const bom = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
  if (bom.bomFormat !== "CycloneDX" || !Array.isArray(bom.components) || bom.components.length === 0) {
    console.error("sbom.sh: npm sbom did not produce a CycloneDX document with components");
    process.exit(1);
  }
  console.error(`sbom.sh: CycloneDX ${bom.specVersion}, ${bom.components.length} components`);
' "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "$out"
