# Helpers shared by the benchmark scripts (bench/*.ps1). Dot-source it: . "$PSScriptRoot/common.ps1"
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if ([Console]::IsOutputRedirected) { $PSStyle.OutputRendering = 'PlainText' }

$RepoRoot = Split-Path -Parent $PSScriptRoot
$ResultsFolder = Join-Path $PSScriptRoot 'results'
$PgBin = if ($env:DEVDB_PG_BIN) { $env:DEVDB_PG_BIN } else { '/usr/lib/postgresql/15/bin' }
$ServerUser = if ($env:DEVDB_SERVER_USER) { $env:DEVDB_SERVER_USER } else { 'postgres' }
$IsRoot = (& id -u) -eq '0'
$Invariant = [cultureinfo]::InvariantCulture

function Write-Step([string] $Text) { Write-Host "`n== $Text" -ForegroundColor Cyan }

function Format-Seconds([double] $Seconds) { $Seconds.ToString('0.000', $Invariant) }

function Format-Ratio([double] $Ratio) { $Ratio.ToString('0.00', $Invariant) }

function Get-Median([double[]] $Values) {
    $sorted = [double[]] ($Values | Sort-Object)
    $middle = [math]::Floor($sorted.Count / 2)
    if ($sorted.Count % 2) { $sorted[$middle] } else { ($sorted[$middle - 1] + $sorted[$middle]) / 2 }
}

# The contenders in the order of one run: shifted by the run number, so that drift (page cache,
# other work on the machine) hits every contender alike.
function Get-RotatedOrder([string[]] $Contenders, [int] $Run) {
    $shift = (($Run % $Contenders.Count) + $Contenders.Count) % $Contenders.Count
    @($Contenders[$shift..($Contenders.Count - 1)]) + @(if ($shift) { $Contenders[0..($shift - 1)] })
}

# Median, min, max per contender of timings (objects with Contender and Seconds), and every
# contender's median divided by the reference contender's.
function Get-TimingSummary([object[]] $Timings, [string[]] $Contenders, [string] $Reference, [string] $RatioName) {
    $referenceMedian = Get-Median ($Timings | Where-Object Contender -EQ $Reference | ForEach-Object Seconds)
    foreach ($contender in $Contenders) {
        $values = [double[]] ($Timings | Where-Object Contender -EQ $contender | ForEach-Object Seconds)
        if (-not $values) { continue }
        $median = Get-Median $values
        [pscustomobject]@{
            Contender     = $contender
            Runs          = $values.Count
            MedianSeconds = Format-Seconds $median
            MinSeconds    = Format-Seconds ($values | Measure-Object -Minimum).Minimum
            MaxSeconds    = Format-Seconds ($values | Measure-Object -Maximum).Maximum
            $RatioName    = Format-Ratio ($median / $referenceMedian)
        }
    }
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

function Assert-PostgresTools([string[]] $Tools) {
    foreach ($tool in $Tools) {
        if (-not (Test-Path -LiteralPath (Join-Path $PgBin $tool))) { throw "$tool is missing from ${PgBin}: install postgresql-15 and postgresql-client-15, or set DEVDB_PG_BIN." }
    }
}

# A contender's closing query: it proves the database answers with data (a positive count).
function Assert-QueryAnswers([string[]] $ConnectionArguments, [string] $Query) {
    $count = Invoke-Tool psql (@('-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1') + $ConnectionArguments + @('-c', $Query))
    if (-not ("$count".Trim() -match '^\d+$' -and [long] "$count".Trim() -gt 0)) { throw "'$Query' answered '$count', not a positive count." }
}

# A private temp folder for one bench run, reachable by the server user.
# The "template" contender: CREATE DATABASE ... TEMPLATE ... STRATEGY FILE_COPY on a scratch server until
# a query answers; returns the seconds (the drop afterwards is not timed).
function Measure-TemplateClone([string[]] $Server, [string] $Template, [string] $Name, [string] $Query) {
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $null = Invoke-Tool psql ($Server + @('-X', '-v', 'ON_ERROR_STOP=1', '-d', 'postgres', '-c', "CREATE DATABASE $Name TEMPLATE $Template STRATEGY FILE_COPY"))
    Assert-QueryAnswers ($Server + @('-d', $Name)) $Query
    $seconds = $watch.Elapsed.TotalSeconds
    $null = Invoke-Tool dropdb ($Server + $Name)
    $seconds
}

function New-BenchFolder([string] $Parent) {
    if (-not (Test-Path -LiteralPath $Parent -PathType Container)) { throw "The work folder '$Parent' does not exist." }
    $folder = Join-Path (Resolve-Path -LiteralPath $Parent).Path ("devdb-bench-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
    $null = New-Item -ItemType Directory -Path $folder
    & chmod 755 $folder
    $folder
}

# A scratch server such as users run themselves: default settings, Unix socket only. Returns the
# psql arguments that reach it.
function Start-ScratchServer([string] $Folder, [string] $Log) {
    $data = Join-Path $Folder 'data'
    $socket = Join-Path $Folder 'run'
    $null = New-Item -ItemType Directory -Path $socket -Force
    if ($IsRoot) { & chown -R "${ServerUser}:" $Folder }
    $null = Invoke-Tool initdb @('-D', $data, '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--auth=trust', '--no-sync') -AsServerUser
    $null = Invoke-Tool pg_ctl @('-D', $data, '-l', $Log, '-w', '-o', "-k $socket -c listen_addresses=''", 'start') -AsServerUser
    @('-h', $socket, '-U', 'postgres')
}

function Stop-ScratchServer([string] $Folder) {
    $data = Join-Path $Folder 'data'
    if (Test-Path -LiteralPath (Join-Path $data 'postmaster.pid')) {
        try { $null = Invoke-Tool pg_ctl @('-D', $data, '-m', 'immediate', '-w', 'stop') -AsServerUser }
        catch { Write-Warning "Stopping the scratch server in $Folder failed: $_" }
    }
}

# Last resort at the end of a bench: a server of ours that survived cleanup (its command line names our folder).
function Stop-LeftoverServers([string] $Folder) {
    Get-Process -Name postgres -ErrorAction Ignore |
        Where-Object { $_.CommandLine -and $_.CommandLine.Contains($Folder) } |
        ForEach-Object { Write-Warning "Stopping leftover server process $($_.Id)"; Stop-Process -Id $_.Id -Force -ErrorAction Ignore }
}

# Facts about the machine printed before the runs: other work on it shows up in the times.
function Write-MachineFacts([System.Collections.Specialized.OrderedDictionary] $More) {
    $facts = [ordered]@{
        'UTC time'                  = [datetime]::UtcNow.ToString('yyyy-MM-dd HH:mm:ss')
        'CPUs (nproc)'              = "$(& nproc)"
        'Memory'                    = "$(((Get-Content /proc/meminfo -TotalCount 1) -split '\s+')[1]) kB"
        'Load average (1/5/15 min)' = ((Get-Content /proc/loadavg) -split ' ')[0..2] -join ' '
        'PostgreSQL'                = "$(Invoke-Tool postgres @('--version'))"
    }
    foreach ($key in $More.Keys) { $facts[$key] = $More[$key] }
    $facts.GetEnumerator() | ForEach-Object { '{0,-27} {1}' -f $_.Key, $_.Value } | Out-Host
}

# Prints a table whole: redirected output is otherwise cut at 80 columns.
function Show-Table([object[]] $Rows) { $Rows | Format-Table -AutoSize | Out-String -Width 250 | Write-Host }

function Save-BenchCsv([object[]] $Rows, [string] $Name) {
    $null = New-Item -ItemType Directory -Path $ResultsFolder -Force
    $path = Join-Path $ResultsFolder "$Name.csv"
    $Rows | Export-Csv -LiteralPath $path -NoTypeInformation
    $path
}

# DevDb runs in a PowerShell instance of its own so that its progress records can be timestamped
# (events carry the time they were raised); the cost of that is well below a millisecond per call.
function Open-DevDbSession {
    $script:DevDb = [powershell]::Create()
    $null = Register-ObjectEvent -InputObject $script:DevDb.Streams.Progress -EventName DataAdded -SourceIdentifier DevDbBenchProgress
    $null = Invoke-DevDb Import-Module @{ Name = (Join-Path $RepoRoot 'artifacts/module/DevDb') }
}

function Close-DevDbSession {
    Unregister-Event -SourceIdentifier DevDbBenchProgress -ErrorAction Ignore
    Clear-ProgressEvents
    if ($script:DevDb) { $script:DevDb.Dispose() }
}

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

# Where the time of one DevDb call went, from its progress records' timestamps. -Rename maps a
# status to a phase name, so runs share names (e.g. port numbers out).
function Get-DevDbPhases([datetime] $Started, [datetime] $Returned, [datetime] $Answered, [string] $FirstPhase, [scriptblock] $Rename = { $args[0] }) {
    $marks = @(Get-Event -SourceIdentifier DevDbBenchProgress -ErrorAction Ignore | ForEach-Object {
            $record = $script:DevDb.Streams.Progress[$_.SourceEventArgs.Index]
            if ($record.RecordType -ne 'Completed') {
                [pscustomobject]@{ Time = $_.TimeGenerated; Phase = (& $Rename $record.StatusDescription) }
            }
        })
    $marks = @([pscustomobject]@{ Time = $Started; Phase = $FirstPhase }) + $marks
    if ($Answered -gt $Returned) { $marks += [pscustomobject]@{ Time = $Returned; Phase = 'query (psql, TCP, password)' } }
    for ($i = 0; $i -lt $marks.Count; $i++) {
        $end = if ($i + 1 -lt $marks.Count) { $marks[$i + 1].Time } else { $Answered }
        [pscustomobject]@{ Phase = $marks[$i].Phase; Seconds = ($end - $marks[$i].Time).TotalSeconds }
    }
}

# Median seconds per phase over many calls (phases as Get-DevDbPhases returns them, tagged with
# the call they belong to in a Call property): a phase's seconds are summed within one call first.
function Get-PhaseSummary([object[]] $Phases) {
    $perCall = $Phases | Group-Object Call, Phase | ForEach-Object {
        [pscustomobject]@{ Phase = $_.Group[0].Phase; Seconds = ($_.Group | Measure-Object Seconds -Sum).Sum }
    }
    foreach ($phase in @($Phases | ForEach-Object Phase | Select-Object -Unique)) {
        $values = [double[]] ($perCall | Where-Object Phase -EQ $phase | ForEach-Object Seconds)
        [pscustomobject]@{ Phase = $phase; MedianSeconds = Format-Seconds (Get-Median $values); Calls = $values.Count }
    }
}
