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
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if ([Console]::IsOutputRedirected) { $PSStyle.OutputRendering = 'PlainText' }

$RepoRoot = Split-Path -Parent $PSScriptRoot
$DumpPath = Join-Path $RepoRoot 'samples/shop.dump'
$ResultsFolder = Join-Path $PSScriptRoot 'results'
$PgBin = if ($env:DEVDB_PG_BIN) { $env:DEVDB_PG_BIN } else { '/usr/lib/postgresql/15/bin' }
$ServerUser = if ($env:DEVDB_SERVER_USER) { $env:DEVDB_SERVER_USER } else { 'postgres' }
$IsRoot = (& id -u) -eq '0'
$ProjectName = 'bench'
$TemplateName = 'bench_template'
$Query = 'SELECT count(*) FROM orders'
$Invariant = [cultureinfo]::InvariantCulture
# cp_image is a reference, not a way to get a database: cp -a of the image folder, the plain copy that
# DevDb's clone falls back to on file systems without reflinks (ext4).
$Contenders = 'devdb', 'pg_restore', 'template', 'cp_image'

function Write-Step([string] $Text) { Write-Host "`n== $Text" -ForegroundColor Cyan }

function Format-Seconds([double] $Seconds) { $Seconds.ToString('0.000', $Invariant) }

function Get-Median([double[]] $Values) {
    $sorted = [double[]] ($Values | Sort-Object)
    $middle = [math]::Floor($sorted.Count / 2)
    if ($sorted.Count % 2) { $sorted[$middle] } else { ($sorted[$middle - 1] + $sorted[$middle]) / 2 }
}

# Runs a Postgres tool and throws with its output when it fails. -AsServerUser: as the OS user that
# runs servers when we are root (initdb, pg_ctl and postgres refuse root).
function Invoke-Tool {
    param([string] $Tool, [string[]] $Arguments, [switch] $AsServerUser)
    $path = Join-Path $PgBin $Tool
    $output = if ($AsServerUser -and $IsRoot) { & runuser -u $ServerUser -- $path @Arguments 2>&1 } else { & $path @Arguments 2>&1 }
    if ($LASTEXITCODE -ne 0) {
        throw "$Tool $($Arguments -join ' ') failed (exit code $LASTEXITCODE): $(($output | ForEach-Object { "$_" }) -join "`n")"
    }
    $output | ForEach-Object { "$_" }
}

# The contenders' query: it proves the database answers with the sample's data.
function Assert-QueryAnswers([string[]] $ConnectionArguments) {
    $count = Invoke-Tool psql (@('-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1') + $ConnectionArguments + @('-c', $Query))
    if (-not ("$count".Trim() -match '^\d+$' -and [long] "$count".Trim() -gt 0)) { throw "'$Query' answered '$count', not a positive count." }
}

# DevDb runs in a PowerShell instance of its own so that its progress records can be timestamped
# (events carry the time they were raised); the cost of that is well below a millisecond per call.
function Invoke-DevDb([string] $Command, [hashtable] $Parameters = @{}) {
    $script:DevDb.Commands.Clear()
    $script:DevDb.Streams.ClearStreams()
    $null = $script:DevDb.AddCommand($Command).AddParameters($Parameters).AddParameter('ErrorAction', 'Stop')
    try {
        $script:DevDb.Invoke()
    } catch {
        $inner = $_.Exception
        while ($inner.InnerException) { $inner = $inner.InnerException }
        throw "$Command failed: $($inner.Message)"
    }
}

function Clear-ProgressEvents { Get-Event -SourceIdentifier DevDbBenchProgress -ErrorAction Ignore | Remove-Event }

# Where the time of one New-DevDbDatabase call went, from its progress records' timestamps.
function Get-DevDbPhases([datetime] $Started, [datetime] $Returned, [datetime] $Answered) {
    $marks = @(Get-Event -SourceIdentifier DevDbBenchProgress -ErrorAction Ignore | ForEach-Object {
            $record = $script:DevDb.Streams.Progress[$_.SourceEventArgs.Index]
            if ($record.RecordType -ne 'Completed') {
                # Database-specific parts (port, revision) out, so runs share phase names.
                [pscustomobject]@{ Time = $_.TimeGenerated; Phase = ($record.StatusDescription -replace ':\d+', ':<port>') }
            }
        })
    $marks = @([pscustomobject]@{ Time = $Started; Phase = '(cmdlet start: engine, catalog, port)' }) + $marks +
        @([pscustomobject]@{ Time = $Returned; Phase = 'query (psql, TCP, password)' })
    for ($i = 0; $i -lt $marks.Count; $i++) {
        $end = if ($i + 1 -lt $marks.Count) { $marks[$i + 1].Time } else { $Answered }
        [pscustomobject]@{ Phase = $marks[$i].Phase; Seconds = ($end - $marks[$i].Time).TotalSeconds }
    }
}

if (-not (Test-Path -LiteralPath $WorkFolder -PathType Container)) { throw "The work folder '$WorkFolder' does not exist." }
$TempRoot = Join-Path (Resolve-Path -LiteralPath $WorkFolder).Path ("devdb-bench-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
$ScratchData = Join-Path $TempRoot 'scratch/data'
$ScratchSocket = Join-Path $TempRoot 'scratch/run'
$ScratchStarted = $false
$ProjectCreated = $false
$script:DevDb = $null
$savedEnvironment = @{}
foreach ($name in 'DEVDB_HOME', 'DEVDB_PORT_RANGE', 'PGPASSWORD') { $savedEnvironment[$name] = [Environment]::GetEnvironmentVariable($name) }

try {
    if (-not (Test-Path -LiteralPath $DumpPath -PathType Leaf)) { throw "The sample dump $DumpPath is missing: run samples/make-shop-dump.sh." }
    foreach ($tool in 'initdb', 'pg_ctl', 'createdb', 'dropdb', 'pg_restore', 'psql') {
        if (-not (Test-Path -LiteralPath (Join-Path $PgBin $tool))) { throw "$tool is missing from ${PgBin}: install postgresql-15 and postgresql-client-15, or set DEVDB_PG_BIN." }
    }

    # A private state folder and port range, so the bench never meets a user's or a test's databases.
    $null = New-Item -ItemType Directory -Path $TempRoot, (Join-Path $TempRoot 'home'), (Join-Path $TempRoot 'scratch')
    & chmod 755 $TempRoot (Join-Path $TempRoot 'home')
    $env:DEVDB_HOME = Join-Path $TempRoot 'home'
    $firstPort = Get-Random -Minimum 55000 -Maximum 64000
    $env:DEVDB_PORT_RANGE = "$firstPort-$($firstPort + 49)"

    Write-Step 'Machine'
    $facts = [ordered]@{
        'UTC time'                 = [datetime]::UtcNow.ToString('yyyy-MM-dd HH:mm:ss')
        'CPUs (nproc)'             = "$(& nproc)"
        'Memory'                   = "$(((Get-Content /proc/meminfo -TotalCount 1) -split '\s+')[1]) kB"
        'Load average (1/5/15 min)' = ((Get-Content /proc/loadavg) -split ' ')[0..2] -join ' '
        'File system of DEVDB_HOME' = "$(& stat -f -c %T $env:DEVDB_HOME) ($env:DEVDB_HOME)"
        'File system of scratch'   = "$(& stat -f -c %T (Join-Path $TempRoot 'scratch'))"
        'PostgreSQL'               = "$(Invoke-Tool postgres @('--version'))"
        'Dump'                     = "samples/shop.dump, $((Get-Item $DumpPath).Length) bytes"
        'Runs'                     = "$Runs timed (+ $WarmupRuns warm-up) per contender"
    }
    $facts.GetEnumerator() | ForEach-Object { '{0,-27} {1}' -f $_.Key, $_.Value } | Out-Host

    Write-Step 'Setup'
    $script:DevDb = [powershell]::Create()
    $null = Register-ObjectEvent -InputObject $script:DevDb.Streams.Progress -EventName DataAdded -SourceIdentifier DevDbBenchProgress
    $null = Invoke-DevDb Import-Module @{ Name = (Join-Path $RepoRoot 'DevDb.psd1') }

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

    # The scratch server users would run themselves: default settings, unix socket only.
    $watch.Restart()
    $null = New-Item -ItemType Directory -Path $ScratchSocket
    if ($IsRoot) { & chown -R "${ServerUser}:" (Join-Path $TempRoot 'scratch') }
    $null = Invoke-Tool initdb @('-D', $ScratchData, '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--auth=trust', '--no-sync') -AsServerUser
    $ScratchStarted = $true
    $null = Invoke-Tool pg_ctl @('-D', $ScratchData, '-l', (Join-Path $TempRoot 'scratch/server.log'), '-w',
        '-o', "-k $ScratchSocket -c listen_addresses=''", 'start') -AsServerUser
    $scratch = @('-h', $ScratchSocket, '-U', 'postgres')
    Write-Host ("Scratch server (initdb + start): {0} s" -f (Format-Seconds $watch.Elapsed.TotalSeconds))

    $watch.Restart()
    $null = Invoke-Tool createdb ($scratch + $TemplateName)
    $null = Invoke-Tool pg_restore ($scratch + @('--no-owner', '--no-acl', '-j', '2', '-d', $TemplateName, $DumpPath))
    Write-Host ("Template database restored once: {0} s" -f (Format-Seconds $watch.Elapsed.TotalSeconds))

    $contenderRuns = @{
        devdb      = {
            param([string] $Name)
            Clear-ProgressEvents
            $started = [datetime]::Now
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $database = @(Invoke-DevDb New-DevDbDatabase @{ Project = $ProjectName; Name = $Name })[0]
            $returned = [datetime]::Now
            $env:PGPASSWORD = $database.Credential.GetNetworkCredential().Password
            try { Assert-QueryAnswers @('-h', $database.Host, '-p', "$($database.Port)", '-U', $database.Username, '-d', $database.DatabaseName) }
            finally { Remove-Item Env:PGPASSWORD -ErrorAction Ignore }
            $seconds = $watch.Elapsed.TotalSeconds
            $script:LastPhases = @(Get-DevDbPhases $started $returned ([datetime]::Now))
            $null = Invoke-DevDb Remove-DevDbDatabase @{ Name = $Name; Force = $true }
            $seconds
        }
        pg_restore = {
            param([string] $Name)
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $null = Invoke-Tool createdb ($scratch + $Name)
            $null = Invoke-Tool pg_restore ($scratch + @('--no-owner', '--no-acl', '-j', '2', '-d', $Name, $DumpPath))
            Assert-QueryAnswers ($scratch + @('-d', $Name))
            $seconds = $watch.Elapsed.TotalSeconds
            $null = Invoke-Tool dropdb ($scratch + $Name)
            $seconds
        }
        template   = {
            param([string] $Name)
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $null = Invoke-Tool psql ($scratch + @('-X', '-v', 'ON_ERROR_STOP=1', '-d', 'postgres', '-c', "CREATE DATABASE $Name TEMPLATE $TemplateName STRATEGY FILE_COPY"))
            Assert-QueryAnswers ($scratch + @('-d', $Name))
            $seconds = $watch.Elapsed.TotalSeconds
            $null = Invoke-Tool dropdb ($scratch + $Name)
            $seconds
        }
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
        $shift = ($run + $WarmupRuns) % $Contenders.Count
        $order = @($Contenders[$shift..($Contenders.Count - 1)]) + @(if ($shift) { $Contenders[0..($shift - 1)] })
        $line = foreach ($contender in $order) {
            $index = $run + $WarmupRuns
            $name = if ($contender -eq 'devdb') { "bench-$index" } else { "bench_$($contender -replace '\W', '')_$index" }
            $seconds = & $contenderRuns[$contender] $name
            if ($run -ge 1) {
                $timings.Add([pscustomobject]@{ Run = $run; Contender = $contender; Seconds = $seconds })
                if ($contender -eq 'devdb') { $script:LastPhases | ForEach-Object { $phases.Add($_) } }
            }
            '{0} {1}' -f $contender, (Format-Seconds $seconds)
        }
        Write-Host ('{0,-10} {1}' -f $label, ($line -join '   '))
    }

    $devdbMedian = Get-Median ($timings | Where-Object Contender -EQ 'devdb' | ForEach-Object Seconds)
    $summary = foreach ($contender in $Contenders) {
        $values = [double[]] ($timings | Where-Object Contender -EQ $contender | ForEach-Object Seconds)
        $median = Get-Median $values
        [pscustomobject]@{
            Contender       = $contender
            Runs            = $values.Count
            MedianSeconds   = Format-Seconds $median
            MinSeconds      = Format-Seconds ($values | Measure-Object -Minimum).Minimum
            MaxSeconds      = Format-Seconds ($values | Measure-Object -Maximum).Maximum
            MedianVsDevDb   = ($median / $devdbMedian).ToString('0.00', $Invariant)
        }
    }
    Write-Step 'Results (MedianVsDevDb = contender median / DevDb median; above 1: DevDb is faster)'
    $summary | Format-Table -AutoSize | Out-Host

    Write-Step 'Where New-DevDbDatabase spends its time (median of the timed runs, from its progress records)'
    $phaseOrder = @($phases | ForEach-Object Phase | Select-Object -Unique)
    $phaseTable = foreach ($phase in $phaseOrder) {
        $values = [double[]] ($phases | Where-Object Phase -EQ $phase | ForEach-Object Seconds)
        [pscustomobject]@{ Phase = $phase; MedianSeconds = Format-Seconds (Get-Median $values); Runs = $values.Count }
    }
    $phaseTable | Format-Table -AutoSize | Out-Host

    $stamp = [datetime]::UtcNow.ToString('yyyyMMddTHHmmssZ')
    $null = New-Item -ItemType Directory -Path $ResultsFolder -Force
    $csv = Join-Path $ResultsFolder "new-database-$stamp.csv"
    $summary | Export-Csv -LiteralPath $csv -NoTypeInformation
    $runsCsv = Join-Path $ResultsFolder "new-database-$stamp-runs.csv"
    $timings | Select-Object Run, Contender, @{ Name = 'Seconds'; Expression = { Format-Seconds $_.Seconds } } |
        Export-Csv -LiteralPath $runsCsv -NoTypeInformation
    Write-Host "Summary: $csv"
    Write-Host "Every run: $runsCsv"
} finally {
    Write-Step 'Cleanup'
    if ($script:DevDb -and $ProjectCreated) {
        try { $null = Invoke-DevDb Remove-DevDbProject @{ Name = $ProjectName; Force = $true } }
        catch { Write-Warning "Removing the DevDb project failed: $_" }
    }
    if ($ScratchStarted -and (Test-Path -LiteralPath (Join-Path $ScratchData 'postmaster.pid'))) {
        try { $null = Invoke-Tool pg_ctl @('-D', $ScratchData, '-m', 'immediate', '-w', 'stop') -AsServerUser }
        catch { Write-Warning "Stopping the scratch server failed: $_" }
    }
    Unregister-Event -SourceIdentifier DevDbBenchProgress -ErrorAction Ignore
    Clear-ProgressEvents
    if ($script:DevDb) { $script:DevDb.Dispose() }
    # Last resort: a server of ours that survived the steps above (its command line names our temp folder).
    Get-Process -Name postgres -ErrorAction Ignore |
        Where-Object { $_.CommandLine -and $_.CommandLine.Contains($TempRoot) } |
        ForEach-Object { Write-Warning "Stopping leftover server process $($_.Id)"; Stop-Process -Id $_.Id -Force -ErrorAction Ignore }
    if (Test-Path -LiteralPath $TempRoot) { Remove-Item -LiteralPath $TempRoot -Recurse -Force -ErrorAction Continue }
    foreach ($name in $savedEnvironment.Keys) { [Environment]::SetEnvironmentVariable($name, $savedEnvironment[$name]) }
    Write-Host "Removed the project, the scratch server and $TempRoot."
}
