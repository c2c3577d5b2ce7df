# azd prepackage hook of the `api` service on Windows (azure.yaml): the same steps as build-console.sh.
# Builds the console's static files into console/dist, which the deployment package carries.
$ErrorActionPreference = 'Stop'
Set-Location (Join-Path $PSScriptRoot '..' '..')

if (-not (Test-Path 'console/package.json')) {
    Write-Error "build-console: console/package.json not found, so there is no console to build"
}

Set-Location 'console'
npm ci --no-audit --no-fund
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
npm run build
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }

if (-not (Test-Path 'dist/index.html')) {
    Write-Error "build-console: 'npm run build' wrote no console/dist/index.html"
}
Write-Host "build-console: console/dist is ready"
