<#
.SYNOPSIS
    Runs every *.Tests.ps1 under tests/pester and writes {"passed":N,"failed":N,"skipped":N,"failedTests":[{"name","message"}]}
    to -ResultFile.
.DESCRIPTION
    Run it in a child pwsh (dotnet pwsh -NoProfile -File tests/pester/run.ps1 -ResultFile ...) so the
    module's DLLs are not left loaded in the caller. Needs the built module (dotnet build DevDb.sln stages it
    in artifacts/module/DevDb)
    and Pester (dotnet restore tests/tools/tools.csproj). Exits non-zero if a test failed or none ran.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $ResultFile,

    # Local: the cmdlets run the embedded engine. Server: each test file starts a real DevDb.Api
    # process on 127.0.0.1 and connects the cmdlets to it (see TestHelpers.psm1); the same tests run.
    [ValidateSet('Local', 'Server')]
    [string] $Mode = 'Local',

    # Only these test files (names or paths, e.g. Workflow.Tests.ps1), to run what a change touches; all by
    # default. Under pwsh -File, give several as one comma-separated argument: -Path A.Tests.ps1,B.Tests.ps1
    [string[]] $Path
)
$ErrorActionPreference = 'Stop'

$packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
$pesterManifest = Join-Path $packages 'pester/5.7.1/tools/Pester.psd1'
if (-not (Test-Path $pesterManifest)) {
    throw "Pester 5.7.1 not found at $pesterManifest. Run: dotnet restore tests/tools/tools.csproj"
}
Import-Module $pesterManifest -RequiredVersion 5.7.1

$env:DEVDB_TEST_MODE = $Mode
$configuration = New-PesterConfiguration
$configuration.Run.Path = if ($Path) {
    @($Path -split ',' | Where-Object { $_ } | ForEach-Object { if (Test-Path -LiteralPath $_) { (Resolve-Path -LiteralPath $_).Path } else { Join-Path $PSScriptRoot $_ } })
} else { $PSScriptRoot }
# Connect.Tests.ps1 and Kubernetes.Tests.ps1 start API servers of their own whatever the mode, and
# Package.Tests.ps1 installs the module and uses the local engine: once is enough.
if ($Mode -eq 'Server') {
    $configuration.Run.ExcludePath = @('Connect.Tests.ps1', 'Kubernetes.Tests.ps1', 'Package.Tests.ps1' | ForEach-Object { Join-Path $PSScriptRoot $_ })
}
$configuration.Run.PassThru = $true
$configuration.Run.Exit = $false   # exit below, after the result file is written
$configuration.Output.RenderMode = 'Plaintext'
$configuration.Output.Verbosity = 'Detailed'

$result = Invoke-Pester -Configuration $configuration

$counts = [ordered]@{
    passed  = $result.PassedCount
    failed  = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
    skipped = $result.SkippedCount + $result.NotRunCount
    # Named so the closing summary can list them: CI shows only the end of the log.
    failedTests = @($result.Failed | ForEach-Object { [ordered]@{ name = $_.ExpandedPath; message = "$($_.ErrorRecord | Select-Object -First 1)" } }) +
        @($result.FailedBlocks + $result.FailedContainers | ForEach-Object { [ordered]@{ name = "$($_.Name) (set-up)"; message = "$($_.ErrorRecord | Select-Object -First 1)" } })
}
$resultPath = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($ResultFile)
$resultFolder = Split-Path -Parent $resultPath
if ($resultFolder) { $null = New-Item -ItemType Directory -Force -Path $resultFolder }
$counts | ConvertTo-Json -Compress -Depth 4 | Set-Content -LiteralPath $resultPath -Encoding utf8NoBOM

if ($counts.failed -gt 0 -or $counts.passed -eq 0 -or $counts.skipped -gt 0) {
    Write-Host "Pester ($Mode) result - passed $($counts.passed), failed $($counts.failed), skipped $($counts.skipped)"
    exit 1
}
exit 0
