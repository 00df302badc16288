<#
.SYNOPSIS
    How long New-DevDbDatabase takes on the sample project, against what users do without DevDb.
.DESCRIPTION
    Run through bench/new-database.sh, which installs and builds first. Creates the DevDb project
    'bench' from samples/shop.dump (timed once: "image build"), starts one scratch Postgres server of
    its own, then for each run times, in a rotating order so drift hits all contenders equally:
      devdb        New-DevDbDatabase, then a query over TCP with the returned credential
      pg_restore   createdb + pg_restore --no-owner --no-acl -j 2 + the query, on the scratch server
      template     CREATE DATABASE ... TEMPLATE <restored once> STRATEGY FILE_COPY + the query
      cp_image     reference only: cp -a of DevDb's image folder (the plain copy a clone is on ext4)
    The query is the same everywhere: SELECT count(*) FROM orders, through psql. Removing what a run
    made is not timed. Everything (project, servers, temp folders) is removed at the end, also on
    failure or Ctrl+C.
.PARAMETER Runs
    Timed runs per contender (default 7).
.PARAMETER WorkFolder
    Where the bench's temp folder (DEVDB_HOME and the scratch server) goes; default the system temp
    folder. Point it at a file system with reflinks (XFS, Btrfs) to see DevDb's copy-on-write clones.
.PARAMETER WarmupRuns
    Untimed rounds of every contender before the timed ones (default 1): the first call in a fresh
    PowerShell session also pays for loading and JIT-compiling the module. Their times are printed.
#>
[CmdletBinding()]
param(
    [ValidateRange(1, 1000)] [int] $Runs = 7,
    [ValidateRange(0, 100)] [int] $WarmupRuns = 1,
    [string] $WorkFolder = [IO.Path]::GetTempPath()
)
. (Join-Path $PSScriptRoot 'common.ps1')

$DumpPath = Join-Path $RepoRoot 'samples/shop.dump'
$ProjectName = 'bench'
$TemplateName = 'bench_template'
$Query = 'SELECT count(*) FROM orders'
# cp_image is a reference, not a way to get a database: cp -a of the image folder, the plain copy that
# DevDb's clone falls back to on file systems without reflinks (ext4).
$Contenders = 'devdb', 'pg_restore', 'template', 'cp_image'

$TempRoot = New-BenchFolder $WorkFolder
$Scratch = Join-Path $TempRoot 'scratch'
$ProjectCreated = $false
$script:DevDb = $null
$savedEnvironment = @{}
foreach ($name in 'DEVDB_HOME', 'DEVDB_PORT_RANGE', 'PGPASSWORD') { $savedEnvironment[$name] = [Environment]::GetEnvironmentVariable($name) }

try {
    if (-not (Test-Path -LiteralPath $DumpPath -PathType Leaf)) { throw "The sample dump $DumpPath is missing: run samples/make-shop-dump.sh." }
    Assert-PostgresTools 'initdb', 'pg_ctl', 'createdb', 'dropdb', 'pg_restore', 'psql'

    # A private state folder and port range, so the bench never meets a user's or a test's databases.
    $null = New-Item -ItemType Directory -Path (Join-Path $TempRoot 'home'), $Scratch
    & chmod 755 (Join-Path $TempRoot 'home')
    $env:DEVDB_HOME = Join-Path $TempRoot 'home'
    $firstPort = Get-Random -Minimum 55000 -Maximum 64000
    $env:DEVDB_PORT_RANGE = "$firstPort-$($firstPort + 49)"

    Write-Step 'Machine'
    Write-MachineFacts ([ordered]@{
            'File system of DEVDB_HOME' = "$(& stat -f -c %T $env:DEVDB_HOME) ($env:DEVDB_HOME)"
            'File system of scratch'    = "$(& stat -f -c %T $Scratch)"
            'Dump'                      = "samples/shop.dump, $((Get-Item $DumpPath).Length) bytes"
            'Runs'                      = "$Runs timed (+ $WarmupRuns warm-up) per contender"
        })

    Write-Step 'Setup'
    Open-DevDbSession
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $ProjectCreated = $true  # set first: a build interrupted half-way is removed too
    $project = Invoke-DevDb New-DevDbProject @{ Name = $ProjectName; Source = $DumpPath }
    $imageBuildSeconds = $watch.Elapsed.TotalSeconds
    $ImageFolder = Join-Path $env:DEVDB_HOME "images/$ProjectName/$($project.ImageRevision)"
    if (-not (Test-Path -LiteralPath $ImageFolder)) { throw "The image folder $ImageFolder is missing: has DevDb's layout changed?" }
    Write-Host ("DevDb image build (New-DevDbProject, once): {0} s" -f (Format-Seconds $imageBuildSeconds))
    $imageFiles = @(Get-ChildItem -LiteralPath $ImageFolder -Recurse -File -Force).Count
    $sizes = foreach ($part in '.', 'base', 'pg_wal') {
        $bytes = [long] (((& du -sb (Join-Path $ImageFolder $part)) -split '\s+')[0])
        '{0} {1:N1} MB' -f $(if ($part -eq '.') { 'total' } else { "$part/" }), ($bytes / 1MB)
    }
    Write-Host ("Image r{0}: {1} files; {2}" -f $project.ImageRevision, $imageFiles, ($sizes -join ', '))

    $watch.Restart()
    $scratchServer = Start-ScratchServer $Scratch (Join-Path $Scratch 'server.log')
    Write-Host ("Scratch server (initdb + start): {0} s" -f (Format-Seconds $watch.Elapsed.TotalSeconds))

    $watch.Restart()
    $null = Invoke-Tool createdb ($scratchServer + $TemplateName)
    $null = Invoke-Tool pg_restore ($scratchServer + @('--no-owner', '--no-acl', '-j', '2', '-d', $TemplateName, $DumpPath))
    Write-Host ("Template database restored once: {0} s" -f (Format-Seconds $watch.Elapsed.TotalSeconds))

    $contenderRuns = @{
        devdb      = {
            param([string] $Name)
            Clear-ProgressEvents
            $started = [datetime]::Now
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $database = @(Invoke-DevDb New-DevDbDatabase @{ Project = $ProjectName; Name = $Name })[0]
            $returned = [datetime]::Now
            $env:PGPASSWORD = $database.GetCredential().GetNetworkCredential().Password
            try { Assert-QueryAnswers @('-h', $database.Host, '-p', "$($database.Port)", '-U', $database.Username, '-d', $database.DatabaseName) $Query }
            finally { Remove-Item Env:PGPASSWORD -ErrorAction Ignore }
            $seconds = $watch.Elapsed.TotalSeconds
            # Database-specific parts (port, revision) out, so runs share phase names.
            $script:LastPhases = @(Get-DevDbPhases $started $returned ([datetime]::Now) '(cmdlet start: engine, catalog, port)' { $args[0] -replace ':\d+', ':<port>' })
            $null = Invoke-DevDb Remove-DevDbDatabase @{ Name = $Name; Force = $true }
            $seconds
        }
        pg_restore = {
            param([string] $Name)
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $null = Invoke-Tool createdb ($scratchServer + $Name)
            $null = Invoke-Tool pg_restore ($scratchServer + @('--no-owner', '--no-acl', '-j', '2', '-d', $Name, $DumpPath))
            Assert-QueryAnswers ($scratchServer + @('-d', $Name)) $Query
            $seconds = $watch.Elapsed.TotalSeconds
            $null = Invoke-Tool dropdb ($scratchServer + $Name)
            $seconds
        }
        template   = { param([string] $Name) Measure-TemplateClone $scratchServer $TemplateName $Name $Query }
        cp_image   = {
            param([string] $Name)
            $target = Join-Path $TempRoot $Name
            $watch = [Diagnostics.Stopwatch]::StartNew()
            & cp -a $ImageFolder $target
            if ($LASTEXITCODE -ne 0) { throw "cp -a $ImageFolder $target failed (exit code $LASTEXITCODE)." }
            $seconds = $watch.Elapsed.TotalSeconds
            Remove-Item -LiteralPath $target -Recurse -Force
            $seconds
        }
    }

    Write-Step 'Runs (seconds; the order rotates from run to run)'
    $timings = [Collections.Generic.List[object]]::new()
    $phases = [Collections.Generic.List[object]]::new()
    for ($run = 1 - $WarmupRuns; $run -le $Runs; $run++) {
        $label = if ($run -le 0) { "warm-up $($run + $WarmupRuns)" } else { "run $run" }
        $index = $run + $WarmupRuns
        $line = foreach ($contender in (Get-RotatedOrder $Contenders $index)) {
            $name = if ($contender -eq 'devdb') { "bench-$index" } else { "bench_$($contender -replace '\W', '')_$index" }
            $seconds = & $contenderRuns[$contender] $name
            if ($run -ge 1) {
                $timings.Add([pscustomobject]@{ Run = $run; Contender = $contender; Seconds = $seconds })
                if ($contender -eq 'devdb') { $script:LastPhases | ForEach-Object { $phases.Add(($_ | Add-Member Call $run -PassThru)) } }
            }
            '{0} {1}' -f $contender, (Format-Seconds $seconds)
        }
        Write-Host ('{0,-10} {1}' -f $label, ($line -join '   '))
    }

    $summary = @(Get-TimingSummary $timings $Contenders 'devdb' 'MedianVsDevDb')
    Write-Step 'Results (MedianVsDevDb = contender median / DevDb median; above 1: DevDb is faster)'
    $summary | Format-Table -AutoSize | Out-Host

    Write-Step 'Where New-DevDbDatabase spends its time (median of the timed runs, from its progress records)'
    Get-PhaseSummary $phases | Format-Table -AutoSize | Out-Host

    $stamp = [datetime]::UtcNow.ToString('yyyyMMddTHHmmssZ')
    Write-Host "Summary: $(Save-BenchCsv $summary "new-database-$stamp")"
    $everyRun = $timings | Select-Object Run, Contender, @{ Name = 'Seconds'; Expression = { Format-Seconds $_.Seconds } }
    Write-Host "Every run: $(Save-BenchCsv $everyRun "new-database-$stamp-runs")"
} finally {
    Write-Step 'Cleanup'
    if ($script:DevDb -and $ProjectCreated) {
        try { $null = Invoke-DevDb Remove-DevDbProject @{ Name = $ProjectName; IncludeDatabases = $true; Force = $true } }
        catch { Write-Warning "Removing the DevDb project failed: $_" }
    }
    Stop-ScratchServer $Scratch
    Close-DevDbSession
    Stop-LeftoverServers $TempRoot
    if (Test-Path -LiteralPath $TempRoot) { Remove-Item -LiteralPath $TempRoot -Recurse -Force -ErrorAction Continue }
    foreach ($name in $savedEnvironment.Keys) { [Environment]::SetEnvironmentVariable($name, $savedEnvironment[$name]) }
    Write-Host "Removed the project, the scratch server and $TempRoot."
}
