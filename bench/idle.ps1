<#
.SYNOPSIS
    The cost of one idle-detection pass with many running databases (local runtime), against an
    expiry-only pass in the same run; and the memory of that many idle servers.
.DESCRIPTION
    Run through bench/idle.sh, which installs and builds first. Loads the embedded engine
    (DevDb.Core from the API's build output) into this process with a private DEVDB_HOME and port
    range, builds the project 'bench' from samples/shop.dump, and creates -Databases real databases
    (clones, each its own running postmaster) with an idle timeout of a day, so every pass samples all
    of them and stops none. At each of the -Checkpoints counts (and at -Databases) it times -Runs
    passes of each contender, in an order that rotates from run to run:
      expiry   ExpireDatabasesAsync(): the expiry pass alone, what every pass did before idle stop
               (reads every record; nothing expires)
      idle     StopIdleDatabasesAsync(): the idle pass alone (per database: one connection through
               the server's socket as DevDb's admin, one query on pg_stat_activity and
               pg_stat_database, a catalog write when the session counter moved)
      full     both, as the start of every changing command and the API's background pass run them
    The per-database cost is (median idle) / databases. While the databases are created, each New
    also runs a full pass over the ones made before it (not timed). Then it sums the PSS of every
    postmaster and its children (/proc/<pid>/smaps_rollup) after -IdleSeconds idle. Everything
    (databases, project, folders) is removed at the end, also on failure or Ctrl+C.
#>
[CmdletBinding()]
param(
    [ValidateRange(1, 900)] [int] $Databases = 200,
    [string[]] $Checkpoints = @('50', '100'),
    [ValidateRange(1, 1000)] [int] $Runs = 7,
    [ValidateRange(0, 600)] [int] $IdleSeconds = 10,
    [string] $WorkFolder = '/tmp'
)
. "$PSScriptRoot/common.ps1"

$ApiBin = Join-Path $RepoRoot 'src/DevDb.Api/bin/Release/net10.0'
$DumpPath = Join-Path $RepoRoot 'samples/shop.dump'
$counts = @(@($Checkpoints -split ',' | Where-Object { $_ } | ForEach-Object { [int] $_ } | Where-Object { $_ -lt $Databases }) + $Databases | Sort-Object -Unique)

if (-not (Test-Path -LiteralPath (Join-Path $ApiBin 'DevDb.Core.dll'))) { throw "DevDb is not built: $ApiBin has no DevDb.Core.dll (run bench/idle.sh)." }
# The engine and its dependencies in a load context of their own: pwsh carries other versions of some
# of them (Microsoft.Extensions.*). An assembly loaded into a context is found there by name first.
$Context = [Runtime.Loader.AssemblyLoadContext]::new('devdb-bench', $false)
# Microsoft.Extensions.* come with the ASP.NET Core shared framework the API runs on.
$AspNet = Get-ChildItem -Directory (Join-Path ([IO.Path]::GetDirectoryName((Get-Item (Get-Command dotnet).Source).ResolvedTarget ?? (Get-Command dotnet).Source)) 'shared/Microsoft.AspNetCore.App') | Sort-Object { [version] $_.Name } | Select-Object -Last 1
$dlls = @(Get-ChildItem -LiteralPath $ApiBin -Filter '*.dll') + @(Get-ChildItem -LiteralPath $AspNet.FullName -Filter 'Microsoft.Extensions.*.dll')
foreach ($dll in $dlls) {
    try { $null = $Context.LoadFromAssemblyPath($dll.FullName) } catch { Write-Verbose "Not loaded: $($dll.Name): $_" }
}
$Core = $Context.Assemblies | Where-Object { $_.GetName().Name -eq 'DevDb.Core' }
function CoreType([string] $Name) { $Core.GetType($Name, $true) }

function Wait-Task($Task) { $Task.GetAwaiter().GetResult() }

# A Core request or options record: init-only properties are set through reflection.
function New-Record([type] $Type, [hashtable] $Values) {
    $record = [Activator]::CreateInstance($Type)
    foreach ($key in $Values.Keys) { $Type.GetProperty($key).SetValue($record, $Values[$key]) }
    $record
}

function Measure-Pass([string] $Contender) {
    $watch = [Diagnostics.Stopwatch]::StartNew()
    switch ($Contender) {
        'expiry' { $null = Wait-Task ($script:Engine.ExpireDatabasesAsync([Threading.CancellationToken]::None)) }
        'idle' { $stopped = @(Wait-Task ($script:Engine.StopIdleDatabasesAsync([Threading.CancellationToken]::None))) }
        'full' {
            $null = Wait-Task ($script:Engine.ExpireDatabasesAsync([Threading.CancellationToken]::None))
            $stopped = @(Wait-Task ($script:Engine.StopIdleDatabasesAsync([Threading.CancellationToken]::None)))
        }
    }
    $seconds = $watch.Elapsed.TotalSeconds
    if ($Contender -ne 'expiry' -and $stopped.Count) { throw "The idle pass stopped $($stopped.Count) database(s); none was meant to be idle." }
    $seconds
}

function Get-ServerMemory([string] $StateHome) {
    foreach ($pidFile in Get-ChildItem -LiteralPath (Join-Path $StateHome 'databases') -Recurse -Filter postmaster.pid -ErrorAction Ignore) {
        $postmaster = [int] (Get-Content -LiteralPath $pidFile.FullName -TotalCount 1)
        $children = @(& ps -o pid= --ppid $postmaster | ForEach-Object { [int] $_.Trim() })
        $kB = 0
        foreach ($processId in @($postmaster) + $children) {
            $pss = (Get-Content "/proc/$processId/smaps_rollup" -ErrorAction Ignore | Where-Object { $_ -match '^Pss:' }) -replace '\D', ''
            if ($pss) { $kB += [long] $pss }
        }
        [pscustomobject]@{ Data = $pidFile.DirectoryName; Processes = 1 + $children.Count; PssMB = $kB / 1024 }
    }
}

$TempRoot = New-BenchFolder $WorkFolder
$BenchHome = Join-Path $TempRoot 'home'
$env:DEVDB_PORT_RANGE = if ($env:DEVDB_PORT_RANGE) { $env:DEVDB_PORT_RANGE } else { '47000-47999' }
$Engine = $null
try {
    Write-Step 'Machine'
    Write-MachineFacts ([ordered]@{ 'DEVDB_HOME' = $BenchHome; 'Databases' = "$Databases (counts measured: $($counts -join ', '))"; 'Port range' = $env:DEVDB_PORT_RANGE })

    $options = New-Record (CoreType 'DevDb.Core.Engine.LocalEngineOptions') @{ Home = $BenchHome }
    $Engine = (CoreType 'DevDb.Core.Engine.DevDbEngine').GetMethod('OpenLocal').Invoke($null, @($options))

    Write-Step "Project 'bench' from samples/shop.dump"
    $project = New-Record (CoreType 'DevDb.Core.Client.NewProjectRequest') @{ Name = 'bench'; Source = $DumpPath }
    $null = Wait-Task ($Engine.NewProjectAsync($project, $null, [Threading.CancellationToken]::None))

    $timings = [Collections.Generic.List[object]]::new()
    $contenders = @('expiry', 'idle', 'full')
    $made = 0
    $createWatch = [Diagnostics.Stopwatch]::new()
    foreach ($count in $counts) {
        Write-Step "Creating databases $($made + 1)..$count (each New runs a full pass over those before it; not timed)"
        $createWatch.Start()
        while ($made -lt $count) {
            $made++
            $request = New-Record (CoreType 'DevDb.Core.Client.NewDatabaseRequest') @{ Project = 'bench'; Name = ('idle-{0:d3}' -f $made); IdleTimeout = [Nullable[TimeSpan]] [TimeSpan]::FromDays(1) }
            $null = Wait-Task ($Engine.NewDatabaseAsync($request, $null, [Threading.CancellationToken]::None))
            if ($made % 25 -eq 0) { Write-Host "  $made databases, $([math]::Round($createWatch.Elapsed.TotalSeconds)) s" }
        }
        $createWatch.Stop()
        Write-Step "Timing passes with $count running databases ($Runs runs of each, 1 untimed warm-up)"
        foreach ($contender in $contenders) { $null = Measure-Pass $contender }
        for ($run = 0; $run -lt $Runs; $run++) {
            foreach ($contender in Get-RotatedOrder $contenders $run) {
                $timings.Add([pscustomobject]@{ Databases = $count; Run = $run + 1; Contender = $contender; Seconds = (Measure-Pass $contender) })
            }
        }
    }

    Write-Step 'Results: seconds per pass'
    $rows = foreach ($count in $counts) {
        $at = @($timings | Where-Object Databases -EQ $count)
        $median = @{}
        foreach ($contender in $contenders) { $median[$contender] = Get-Median ([double[]] ($at | Where-Object Contender -EQ $contender | ForEach-Object Seconds)) }
        foreach ($contender in $contenders) {
            $values = [double[]] ($at | Where-Object Contender -EQ $contender | ForEach-Object Seconds)
            [pscustomobject]@{
                Databases        = $count
                Contender        = $contender
                Runs             = $values.Count
                MedianSeconds    = Format-Seconds $median[$contender]
                MinSeconds       = Format-Seconds ($values | Measure-Object -Minimum).Minimum
                MaxSeconds       = Format-Seconds ($values | Measure-Object -Maximum).Maximum
                MsPerDatabase    = ($median[$contender] * 1000 / $count).ToString('0.00', $Invariant)
                FullOverExpiry   = Format-Ratio ($median[$contender] / $median['expiry'])
            }
        }
    }
    Show-Table $rows
    $stamp = [datetime]::UtcNow.ToString('yyyyMMdd-HHmmss')
    Write-Host "Written: $(Save-BenchCsv $rows "idle-$stamp")"
    Write-Host "Written: $(Save-BenchCsv $timings "idle-$stamp-runs")"

    if ($IdleSeconds -gt 0) {
        Write-Step "Memory of $made idle servers after $IdleSeconds s (PSS of each postmaster and its children)"
        Start-Sleep -Seconds $IdleSeconds
        $memory = @(Get-ServerMemory $BenchHome)
        $perServer = [double[]] ($memory | ForEach-Object PssMB)
        Show-Table @([pscustomobject]@{
                Servers          = $memory.Count
                Processes        = ($memory | Measure-Object Processes -Sum).Sum
                TotalPssMB       = (($perServer | Measure-Object -Sum).Sum).ToString('0', $Invariant)
                MedianPssMBEach  = (Get-Median $perServer).ToString('0.0', $Invariant)
                MaxPssMBEach     = (($perServer | Measure-Object -Maximum).Maximum).ToString('0.0', $Invariant)
                LoadAverage1m    = ((Get-Content /proc/loadavg) -split ' ')[0]
            })
    }
} finally {
    Write-Step 'Cleaning up'
    if ($Engine) {
        try { Wait-Task ($Engine.RemoveProjectAsync('bench', $true, [Threading.CancellationToken]::None)) } catch { Write-Warning "Removing the project failed: $_" }
        $Engine.Dispose()
    }
    Stop-LeftoverServers $TempRoot
    Remove-Item -LiteralPath $TempRoot -Recurse -Force -ErrorAction Ignore
}
