<#
.SYNOPSIS
    What isolation costs: New-DevDbDatabase time and a database server's memory, this build against a baseline build.
.DESCRIPTION
    Run through bench/isolation.sh, which builds the baseline in a temporary worktree. Each build
    gets a private DEVDB_HOME and builds the project 'bench' from samples/shop.dump once. Then for
    each run, both builds in an order that rotates from run to run: a fresh pwsh imports that
    build's module and times New-DevDbDatabase until a query answers over TCP with the returned
    credential (module import not timed; the first call's JIT is, alike for both); then, not timed,
    the proportional memory (PSS, /proc/<pid>/smaps_rollup) of that database's server processes
    after a second of idling, and its removal.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $BaselineModule,
    [string] $BaselineLabel = 'baseline',
    [ValidateRange(1, 100)] [int] $Runs = 7
)
. (Join-Path $PSScriptRoot 'common.ps1')

$DumpPath = Join-Path $RepoRoot 'samples/shop.dump'
$Builds = [ordered]@{ baseline = $BaselineModule; current = (Join-Path $RepoRoot 'artifacts/module/DevDb') }
$TempRoot = New-BenchFolder ([IO.Path]::GetTempPath())
$firstPort = Get-Random -Minimum 55000 -Maximum 63000

# One DevDb call in a pwsh of its own with that build's module; prints what the script block returns as JSON.
function Invoke-Build([string] $Build, [string] $Script) {
    $state = Join-Path $TempRoot $Build
    $offset = if ($Build -eq 'baseline') { 0 } else { 100 }
    $prelude = "`$ErrorActionPreference = 'Stop'; `$env:DEVDB_HOME = '$state'; `$env:DEVDB_PORT_RANGE = '$($firstPort + $offset)-$($firstPort + $offset + 49)'; Import-Module '$($Builds[$Build])';"
    $output = & dotnet pwsh -NoProfile -NonInteractive -Command ($prelude + $Script) 2>&1
    if ($LASTEXITCODE -ne 0) { throw "$Build failed: $($output -join "`n")" }
    ($output | Select-Object -Last 1) | ConvertFrom-Json
}

function Get-ServerMemoryKb([string] $DataFolder) {
    $total = 0
    $postmaster = [int] (Get-Content (Join-Path $DataFolder 'postmaster.pid') -TotalCount 1)
    foreach ($process in Get-Process -Name postgres -ErrorAction Ignore) {
        # A process whose parent has exited has no Parent (and strict mode refuses .Id of nothing).
        $owned = $process.Id -eq $postmaster -or ($null -ne $process.Parent -and $process.Parent.Id -eq $postmaster)
        if (-not $owned) { continue }
        $line = Get-Content "/proc/$($process.Id)/smaps_rollup" | Where-Object { $_ -like 'Pss:*' }
        $total += [long] (($line -split '\s+')[1])
    }
    $total
}

$timed = @'
$watch = [Diagnostics.Stopwatch]::StartNew()
$db = New-DevDbDatabase -Project bench -Name __DATABASE__
# Older builds carry the credential as a property; newer ones hand it out on request.
$credential = if ($db.PSObject.Methods['GetCredential']) { $db.GetCredential() } else { $db.Credential }
$env:PGPASSWORD = $credential.GetNetworkCredential().Password
$count = & /usr/lib/postgresql/15/bin/psql -X -A -t -h $db.Host -p $db.Port -U $db.Username -d $db.DatabaseName -c 'SELECT count(*) FROM orders'
if ([int] $count -le 0) { throw "The query did not answer: $count" }
@{ Seconds = $watch.Elapsed.TotalSeconds } | ConvertTo-Json -Compress
'@

try {
    Write-Step 'Machine'
    Write-MachineFacts ([ordered]@{ 'Baseline' = "$BaselineLabel ($BaselineModule)"; 'File system' = "$(& stat -f -c %T $TempRoot)"; 'Runs' = "$Runs per build" })
    foreach ($build in $Builds.Keys) {
        $null = New-Item -ItemType Directory -Path (Join-Path $TempRoot $build)
        & chmod 755 (Join-Path $TempRoot $build)
        $seconds = (Invoke-Build $build "`$w = [Diagnostics.Stopwatch]::StartNew(); `$null = New-DevDbProject -Name bench -Source '$DumpPath'; @{ Seconds = `$w.Elapsed.TotalSeconds } | ConvertTo-Json -Compress").Seconds
        Write-Host ("{0}: image build {1} s" -f $build, (Format-Seconds $seconds))
    }

    Write-Step 'Runs (seconds to a usable database; PSS of its server processes, kB)'
    $timings = [Collections.Generic.List[object]]::new()
    $memory = [Collections.Generic.List[object]]::new()
    for ($run = 0; $run -le $Runs; $run++) {
        $line = foreach ($build in (Get-RotatedOrder @($Builds.Keys) $run)) {
            $name = "iso-$run"
            $seconds = (Invoke-Build $build ($timed.Replace('__DATABASE__', $name))).Seconds
            Start-Sleep -Seconds 1
            $kb = Get-ServerMemoryKb (Join-Path $TempRoot "$build/databases/$name/data")
            $null = Invoke-Build $build "Remove-DevDbDatabase -Name $name -Force; '{}'"
            if ($run -ge 1) {
                $timings.Add([pscustomobject]@{ Run = $run; Contender = $build; Seconds = $seconds })
                $memory.Add([pscustomobject]@{ Run = $run; Contender = $build; Seconds = $kb })
            }
            '{0} {1} s {2} kB' -f $build, (Format-Seconds $seconds), $kb
        }
        Write-Host ('{0,-8} {1}' -f $(if ($run -eq 0) { 'warm-up' } else { "run $run" }), ($line -join '   '))
    }

    Write-Step 'New-DevDbDatabase (CurrentVsBaseline = median of this build / median of the baseline)'
    Show-Table @(Get-TimingSummary $timings @($Builds.Keys) 'baseline' 'VsBaseline')
    Write-Step 'Memory of one idle database server, PSS in kB (shown in the seconds columns)'
    Show-Table @(Get-TimingSummary $memory @($Builds.Keys) 'baseline' 'VsBaseline')
} finally {
    Write-Step 'Cleanup'
    foreach ($build in $Builds.Keys) {
        if (Test-Path (Join-Path $TempRoot $build)) {
            $cascade = if ($build -eq 'current') { '-IncludeDatabases' } else { '' }
            try { $null = Invoke-Build $build "Remove-DevDbProject -Name bench -Force $cascade -ErrorAction SilentlyContinue; '{}'" }
            catch { Write-Warning "Removing $build's project failed: $_" }
        }
    }
    Stop-LeftoverServers $TempRoot
    Remove-Item -LiteralPath $TempRoot -Recurse -Force -ErrorAction Continue
}
