#!/bin/sh
# azd prepackage hook of the `api` service (azure.yaml): builds the console's static files into
# console/dist, which the deployment package carries (.funcignore ships console/dist and leaves the
# console's sources and node_modules out). Needs Node.js and npm; `npm ci` installs the console's
# locked dependencies from the npm registry.
set -eu
cd "$(dirname "$0")/../.."

if [ ! -f console/package.json ]; then
  echo "build-console: console/package.json not found, so there is no console to build" >&2
  exit 1
fi

cd console
npm ci --no-audit --no-fund
npm run build

if [ ! -f dist/index.html ]; then
  echo "build-console: 'npm run build' wrote no console/dist/index.html" >&2
  exit 1
fi
echo "build-console: console/dist is ready"
