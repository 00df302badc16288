<#
.SYNOPSIS
    DevDb at scale: clone time against pg_restore, CREATE DATABASE ... TEMPLATE and the physical
    floor; image build time against plain pg_restore -j1; memory of an idle database.
.DESCRIPTION
    Run through bench/scale.sh, which installs and builds first. Makes its data sets on the spot
    (pgbench -i at each -Scales, plus a schema-heavy set of -SchemaTables tables), dumps each with
    pg_dump -Fc, then for each file system (the work folder's, plus XFS with reflinks on a loop
    device with -Xfs) and data set:
      image build  New-DevDbProject from the dump, against createdb + plain pg_restore -j1 of it on a
                   scratch server with default settings (-BuildRuns each, rotated; first file
                   system only, elsewhere one untimed build)
      clone        -Runs of each, in an order that rotates from run to run, every clock stopping
                   when a query answers with a positive count:
                   devdb       New-DevDbDatabase + the query over TCP with the returned credential
                   pg_restore  createdb + pg_restore --no-owner --no-acl -j <nproc> + the query
                   template    CREATE DATABASE ... TEMPLATE <restored once> STRATEGY FILE_COPY + the query
                   floor       cp -a of DevDb's stopped image folder + starting postgres on it + the query
      density      (first file system, first data set) -DensityDatabases idle DevDb databases at
                   once; the PSS of each one's postmaster and its children after -IdleSeconds idle
    Before each timed step: sync (and with -ColdCache, dropping the page cache), not timed; removing
    what a run made is not timed either. Prints tables and the issue's targets met or missed, and
    writes CSV files to bench/results/. Everything (projects, servers, the loop device, temp folders)
    is removed at the end, also on failure or Ctrl+C.
.PARAMETER Scales
    pgbench scale factors (default 10, 50, 200: about 150 MB, 750 MB and 3 GB of data).
.PARAMETER SchemaTables
    Tables of the schema-heavy data set (default 500; 0 leaves the set out). Each has 2000 rows,
    a primary key, two more indexes and a foreign key; a tenth as many views and functions.
.PARAMETER Runs
    Timed clone runs per contender (default 5).
.PARAMETER BuildRuns
    Timed image builds per contender on the first file system (default 3).
.PARAMETER Xfs
    Also measure on XFS with reflinks, made on a loop device for the run (needs root and xfsprogs).
.PARAMETER XfsSizeGB
    Size of the (sparse) XFS loop file (default 40).
.PARAMETER SkipWorkFolder
    Measure on XFS only (with -Xfs).
.PARAMETER ColdCache
    Drop the page cache before each timed step (needs root). Default: warm cache.
.PARAMETER DensityDatabases
    Idle DevDb databases measured at once for memory (default 3; 0 skips it).
.PARAMETER IdleSeconds
    How long the databases idle before their memory is read (default 5).
.PARAMETER WorkFolder
    Where the temp folder goes (default the system temp folder); its file system is the first measured.
#>
[CmdletBinding()]
param(
    # Strings, split at commas: 'pwsh -File' (and so bench/scale.sh) passes '-Scales 10,50' as one string.
    [string[]] $Scales = @('10', '50', '200'),
    [ValidateRange(0, 100000)] [int] $SchemaTables = 500,
    [ValidateRange(1, 1000)] [int] $Runs = 5,
    [ValidateRange(1, 100)] [int] $BuildRuns = 3,
    [switch] $Xfs,
    [ValidateRange(4, 10000)] [int] $XfsSizeGB = 40,
    [switch] $SkipWorkFolder,
    [switch] $ColdCache,
    [ValidateRange(0, 50)] [int] $DensityDatabases = 3,
    [ValidateRange(0, 3600)] [int] $IdleSeconds = 5,
    [string] $WorkFolder = [IO.Path]::GetTempPath()
)
. (Join-Path $PSScriptRoot 'common.ps1')
$ScaleFactors = [int[]] @($Scales -split ',' | Where-Object { $_ } | ForEach-Object { [int] $_ })
if (-not $ScaleFactors -or ($ScaleFactors | Where-Object { $_ -lt 1 })) { throw 'Give -Scales as positive pgbench scale factors, e.g. -Scales 10,50,200.' }

$ProjectName = 'scale'
$TemplateName = 'scale_template'
$CloneContenders = 'devdb', 'pg_restore', 'template', 'floor'
$BuildContenders = 'devdb', 'pg_restore_j1'
$Jobs = [Environment]::ProcessorCount
$MachineMemoryMB = 24 * 1024

if ($SkipWorkFolder -and -not $Xfs) { throw '-SkipWorkFolder leaves nothing to measure without -Xfs.' }
if (($Xfs -or $ColdCache) -and -not $IsRoot) { throw '-Xfs and -ColdCache need root (loop device, mount, drop_caches).' }

# sync before every timed step, so that one contender's write-back does not slow the next one.
function Clear-Cache {
    & sync
    # Through sh: Set-Content cannot open the write-only drop_caches file.
    if ($ColdCache) { & sh -c 'echo 3 > /proc/sys/vm/drop_caches'; if ($LASTEXITCODE -ne 0) { throw 'Dropping the page cache failed.' } }
}

function Get-FolderMB([string] $Folder) { [long] (((& du -sb $Folder) -split '\s+')[0]) / 1MB }

function New-DataSets([string] $Folder) {
    $generator = Join-Path $Folder 'generator'
    $null = New-Item -ItemType Directory -Path $generator
    $server = Start-ScratchServer $generator (Join-Path $generator 'server.log')
    try {
        $sets = @(foreach ($scale in $ScaleFactors) { @{ Name = "pgbench-$scale"; Query = 'SELECT count(*) FROM pgbench_branches'; Scale = $scale } })
        if ($SchemaTables -gt 0) { $sets += @{ Name = "schema-$SchemaTables"; Query = 'SELECT count(*) FROM t0001'; Scale = 0 } }
        foreach ($set in $sets) {
            $database = $set.Name -replace '\W', '_'
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $null = Invoke-Tool createdb ($server + $database)
            if ($set.Scale) {
                $null = Invoke-Tool pgbench ($server + @('-i', '-q', '-s', "$($set.Scale)", $database))
            } else {
                $script = Join-Path $Folder "$database.sql"
                Set-Content -LiteralPath $script -Value (Get-SchemaHeavySql $SchemaTables)
                $null = Invoke-Tool psql ($server + @('-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $database, '-f', $script))
                $null = Invoke-Tool psql ($server + @('-X', '-q', '-d', $database, '-c', 'VACUUM ANALYZE'))
            }
            $set.DatabaseMB = [double] (Invoke-Tool psql ($server + @('-X', '-A', '-t', '-d', $database, '-c', 'SELECT pg_database_size(current_database())'))) / 1MB
            $set.Dump = Join-Path $Folder "$($set.Name).dump"
            $null = Invoke-Tool pg_dump ($server + @('-Fc', '-f', $set.Dump, $database))
            $null = Invoke-Tool dropdb ($server + $database)
            [pscustomobject]@{
                DataSet = $set.Name; DatabaseMB = [math]::Round($set.DatabaseMB); DumpMB = [math]::Round((Get-Item $set.Dump).Length / 1MB, 1)
                MadeInSeconds = Format-Seconds $watch.Elapsed.TotalSeconds
            } | Format-Table -AutoSize | Out-String -Width 250 | Write-Host
            [pscustomobject]$set
        }
    } finally {
        Stop-ScratchServer $generator
        Remove-Item -LiteralPath $generator -Recurse -Force
    }
}

# Many small tables, each with a primary key, two more indexes and a foreign key to another
# table, plus views and plpgsql functions: a restore of it is catalog work, not data.
function Get-SchemaHeavySql([int] $Tables) {
    $name = { param($i) 't{0:D4}' -f [int] $i }
    foreach ($i in 1..$Tables) {
        $t = & $name $i
        "CREATE TABLE $t (id bigint PRIMARY KEY, parent_id bigint, code text NOT NULL, amount numeric(12,2), created_at timestamptz NOT NULL, note text);"
        "INSERT INTO $t SELECT g, CASE WHEN $i > 1 THEN g % 2000 + 1 END, 'c' || g, g * 1.5, timestamptz '2024-01-01' + g * interval '1 minute', repeat('x', 20) FROM generate_series(1, 2000) g;"
        "CREATE INDEX ON $t (parent_id); CREATE UNIQUE INDEX ON $t (code, created_at);"
    }
    foreach ($i in 2..$Tables) { "ALTER TABLE $(& $name $i) ADD FOREIGN KEY (parent_id) REFERENCES $(& $name ([math]::Floor($i / 2))) (id);" }
    foreach ($i in 1..([math]::Max(1, [math]::Floor($Tables / 10)))) {
        $t = & $name ($i * 10); $parent = & $name ($i * 5)
        "CREATE VIEW v$t AS SELECT c.id, c.code, p.amount AS parent_amount FROM $t c JOIN $parent p ON p.id = c.parent_id;"
        "CREATE FUNCTION total_$t(p_parent bigint) RETURNS numeric LANGUAGE plpgsql STABLE AS `$`$ BEGIN RETURN (SELECT sum(amount) FROM $t WHERE parent_id = p_parent); END `$`$;"
    }
}

# Renames DevDb's progress statuses to phases that runs share (ports, item names out).
$PhaseName = {
    switch -Regex -CaseSensitive ($args[0]) {
        # Fetch reports arrive late (posted to the thread pool): one phase with the cluster's creation.
        '^(Fetching|Creating an empty cluster)' { 'Fetching the dump, initdb, start, CREATE DATABASE' }
        '^(Restoring|creating|processing|launching|finished)' { 'Restoring (pg_restore)' }
        default { $args[0] -replace ':\d+', ':<port>' -replace ' r\d+', '' }
    }
}

function Invoke-DevDbTimed([string] $Command, [hashtable] $Parameters, [string] $FirstPhase, [string] $Query) {
    Clear-ProgressEvents
    $started = [datetime]::Now
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $result = @(Invoke-DevDb $Command $Parameters)[0]
    $returned = [datetime]::Now
    if ($Query) {
        $env:PGPASSWORD = $result.GetCredential().GetNetworkCredential().Password
        try { Assert-QueryAnswers @('-h', $result.Host, '-p', "$($result.Port)", '-U', $result.Username, '-d', $result.DatabaseName) $Query }
        finally { Remove-Item Env:PGPASSWORD -ErrorAction Ignore }
    }
    $seconds = $watch.Elapsed.TotalSeconds
    $answered = if ($Query) { [datetime]::Now } else { $returned }
    $phases = @(Get-DevDbPhases $started $returned $answered $FirstPhase $PhaseName)
    [pscustomobject]@{ Seconds = $seconds; Phases = $phases; Result = $result }
}

# Waits until a server's lock file says ready, as DevDb does (pg_ctl -w polls every 100 ms).
function Wait-ServerReady([string] $Data) {
    $watch = [Diagnostics.Stopwatch]::StartNew()
    while ($watch.Elapsed.TotalSeconds -lt 60) {
        $lines = try { [IO.File]::ReadAllLines((Join-Path $Data 'postmaster.pid')) } catch { $null }
        if ($lines -and $lines.Count -ge 8 -and $lines[7].Trim() -eq 'ready') { return }
        Start-Sleep -Milliseconds 5
    }
    throw "The server in $Data was not ready after 60 s."
}

# Sums Pss of a postmaster and its children (kB from /proc/<pid>/smaps_rollup), per process.
function Get-ServerMemory([string] $Data) {
    $postmaster = [int] (Get-Content -LiteralPath (Join-Path $Data 'postmaster.pid') -TotalCount 1)
    $children = @(& ps -o pid= --ppid $postmaster | ForEach-Object { [int] $_.Trim() })
    foreach ($processId in @($postmaster) + $children) {
        $pss = (Get-Content "/proc/$processId/smaps_rollup" -ErrorAction Ignore | Where-Object { $_ -match '^Pss:' }) -replace '\D', ''
        if (-not $pss) { continue }  # a short-lived worker that has gone
        $command = (Get-Content "/proc/$processId/cmdline" -Raw -ErrorAction Ignore) -replace "`0", ' '
        $role = if ($processId -eq $postmaster) { 'postmaster' } else { ($command -replace '^postgres:\s*', '').Trim() }
        [pscustomobject]@{ Process = $role; PssMB = [double] $pss / 1024 }
    }
}

$TempRoot = New-BenchFolder $WorkFolder
$DataSetFolder = Join-Path $TempRoot 'datasets'
$FloorSocket = Join-Path $TempRoot 'floor-run'
$XfsImage = Join-Path $TempRoot 'xfs.img'
$XfsMount = Join-Path $TempRoot 'xfs'
$XfsLoop = $null
$XfsMounted = $false
$FileSystemRoot = $null
$ProjectCreated = $false
$script:DevDb = $null
$savedEnvironment = @{}
foreach ($name in 'DEVDB_HOME', 'DEVDB_PORT_RANGE', 'PGPASSWORD') { $savedEnvironment[$name] = [Environment]::GetEnvironmentVariable($name) }

$dataSetRows = [Collections.Generic.List[object]]::new()
$buildTimings = [Collections.Generic.List[object]]::new()
$buildPhases = [Collections.Generic.List[object]]::new()
$cloneTimings = [Collections.Generic.List[object]]::new()
$clonePhases = [Collections.Generic.List[object]]::new()
$memory = [Collections.Generic.List[object]]::new()
$imageRows = [Collections.Generic.List[object]]::new()

try {
    Assert-PostgresTools 'initdb', 'pg_ctl', 'postgres', 'createdb', 'dropdb', 'pg_dump', 'pg_restore', 'psql', 'pgbench'
    $firstPort = Get-Random -Minimum 55000 -Maximum 64000
    # A private port range, so the bench never meets a user's or a test's databases.
    $env:DEVDB_PORT_RANGE = "$firstPort-$($firstPort + 49)"
    $floorPort = $firstPort + 50
    $null = New-Item -ItemType Directory -Path $DataSetFolder, $FloorSocket
    if ($IsRoot) { & chown "${ServerUser}:" $FloorSocket }

    $fileSystems = [Collections.Generic.List[object]]::new()
    if (-not $SkipWorkFolder) { $fileSystems.Add(@{ Name = "$(& findmnt -n -o FSTYPE -T $TempRoot)"; Root = $TempRoot }) }
    if ($Xfs) {
        if (-not (Get-Command mkfs.xfs -ErrorAction Ignore)) { throw 'mkfs.xfs is missing: apt-get install xfsprogs (bench/scale.sh -Xfs does).' }
        & truncate -s "${XfsSizeGB}G" $XfsImage
        $XfsLoop = "$(& losetup -f --show $XfsImage)".Trim()
        if ($LASTEXITCODE -ne 0 -or -not $XfsLoop) { throw "losetup of $XfsImage failed." }
        & mkfs.xfs -q -m reflink=1 $XfsLoop
        if ($LASTEXITCODE -ne 0) { throw "mkfs.xfs on $XfsLoop failed." }
        $null = New-Item -ItemType Directory -Path $XfsMount
        & mount $XfsLoop $XfsMount
        if ($LASTEXITCODE -ne 0) { throw "mounting $XfsLoop on $XfsMount failed." }
        $XfsMounted = $true
        & chmod 755 $XfsMount
        $fileSystems.Add(@{ Name = 'xfs-reflink'; Root = $XfsMount })
    }

    Write-Step 'Machine'
    Write-MachineFacts ([ordered]@{
            'File systems'  = ($fileSystems | ForEach-Object { "$($_.Name) ($($_.Root))" }) -join ', '
            'Runs'          = "clone: $Runs per contender; image build: $BuildRuns per contender (first file system)"
            'Page cache'    = if ($ColdCache) { 'cold: dropped before each timed step' } else { 'warm (sync before each timed step)' }
            'pg_restore -j' = "$Jobs for the clone baseline (nproc), 1 for the image build baseline"
        })

    Write-Step 'Data sets (made once, dumped with pg_dump -Fc)'
    $dataSets = @(New-DataSets $DataSetFolder)
    $dataSets | ForEach-Object { $dataSetRows.Add([pscustomobject]@{ DataSet = $_.Name; DatabaseMB = [math]::Round($_.DatabaseMB); DumpMB = [math]::Round((Get-Item $_.Dump).Length / 1MB, 1) }) }

    $firstFileSystem = $true
    foreach ($fileSystem in $fileSystems) {
        $FileSystemRoot = Join-Path $fileSystem.Root 'fs'
        $scratch = Join-Path $FileSystemRoot 'scratch'
        $env:DEVDB_HOME = Join-Path $FileSystemRoot 'home'
        $null = New-Item -ItemType Directory -Path $env:DEVDB_HOME, $scratch
        & chmod 755 $FileSystemRoot $env:DEVDB_HOME
        $scratchServer = Start-ScratchServer $scratch (Join-Path $scratch 'server.log')
        Open-DevDbSession  # a session per file system: DEVDB_HOME is read when the module starts its engine

        foreach ($set in $dataSets) {
            $where = "$($fileSystem.Name) / $($set.Name)"
            Write-Step "$where"
            $dump = $set.Dump

            # Image build: DevDb's restore against plain pg_restore -j1 on default settings.
            $buildRounds = if ($firstFileSystem) { $BuildRuns } else { 1 }
            for ($run = 1; $run -le $buildRounds; $run++) {
                $contenders = if ($firstFileSystem) { Get-RotatedOrder $BuildContenders $run } else { @('devdb') }
                $line = foreach ($contender in $contenders) {
                    if ($contender -eq 'devdb') {
                        if ($ProjectCreated) { $null = Invoke-DevDb Remove-DevDbProject @{ Name = $ProjectName; IncludeDatabases = $true; Force = $true }; $ProjectCreated = $false }
                        Clear-Cache
                        $ProjectCreated = $true  # set first: a build interrupted half-way is removed too
                        $timed = Invoke-DevDbTimed New-DevDbProject @{ Name = $ProjectName; Source = $dump } '(cmdlet start: validate, probe, record)'
                        $seconds = $timed.Seconds
                        $timed.Phases | ForEach-Object { $buildPhases.Add(($_ | Add-Member -PassThru -NotePropertyMembers @{ FileSystem = $fileSystem.Name; DataSet = $set.Name; Call = $run })) }
                        $ImageFolder = Join-Path $env:DEVDB_HOME "images/$ProjectName/$($timed.Result.ImageRevision)"
                    } else {
                        Invoke-Tool dropdb ($scratchServer + @('--if-exists', $TemplateName)) | Out-Null
                        Clear-Cache
                        $watch = [Diagnostics.Stopwatch]::StartNew()
                        $null = Invoke-Tool createdb ($scratchServer + $TemplateName)
                        $null = Invoke-Tool pg_restore ($scratchServer + @('--no-owner', '--no-acl', '-j', '1', '-d', $TemplateName, $dump))
                        $seconds = $watch.Elapsed.TotalSeconds
                    }
                    if ($firstFileSystem) { $buildTimings.Add([pscustomobject]@{ DataSet = $set.Name; Run = $run; Contender = $contender; Seconds = $seconds }) }
                    '{0} {1}' -f $contender, (Format-Seconds $seconds)
                }
                Write-Host ('image build {0,-3} {1}' -f $run, ($line -join '   '))
            }
            if (-not $firstFileSystem) {
                # The template database the template contender copies.
                $null = Invoke-Tool createdb ($scratchServer + $TemplateName)
                $null = Invoke-Tool pg_restore ($scratchServer + @('--no-owner', '--no-acl', '-j', "$Jobs", '-d', $TemplateName, $dump))
            }
            $imageFiles = @(Get-ChildItem -LiteralPath $ImageFolder -Recurse -File -Force).Count
            $imageRows.Add([pscustomobject]@{ FileSystem = $fileSystem.Name; DataSet = $set.Name; ImageMB = [math]::Round((Get-FolderMB $ImageFolder)); ImageFiles = $imageFiles })
            Write-Host ("image: {0} MB in {1} files" -f $imageRows[-1].ImageMB, $imageFiles)

            $cloneRuns = @{
                devdb      = {
                    param([string] $Name, [int] $Run)
                    $timed = Invoke-DevDbTimed New-DevDbDatabase @{ Project = $ProjectName; Name = ($Name -replace '_', '-') } '(cmdlet start: engine, catalog, port)' $set.Query
                    $timed.Phases | ForEach-Object { $clonePhases.Add(($_ | Add-Member -PassThru -NotePropertyMembers @{ FileSystem = $fileSystem.Name; DataSet = $set.Name; Call = $Run })) }
                    $null = Invoke-DevDb Remove-DevDbDatabase @{ Name = ($Name -replace '_', '-'); Force = $true }
                    $timed.Seconds
                }
                pg_restore = {
                    param([string] $Name)
                    $watch = [Diagnostics.Stopwatch]::StartNew()
                    $null = Invoke-Tool createdb ($scratchServer + $Name)
                    $null = Invoke-Tool pg_restore ($scratchServer + @('--no-owner', '--no-acl', '-j', "$Jobs", '-d', $Name, $dump))
                    Assert-QueryAnswers ($scratchServer + @('-d', $Name)) $set.Query
                    $seconds = $watch.Elapsed.TotalSeconds
                    $null = Invoke-Tool dropdb ($scratchServer + $Name)
                    $seconds
                }
                template   = { param([string] $Name) Measure-TemplateClone $scratchServer $TemplateName $Name $set.Query }
                floor      = {
                    param([string] $Name)
                    $data = Join-Path $FileSystemRoot $Name
                    $watch = [Diagnostics.Stopwatch]::StartNew()
                    & cp -a $ImageFolder $data
                    if ($LASTEXITCODE -ne 0) { throw "cp -a $ImageFolder $data failed (exit code $LASTEXITCODE)." }
                    $null = Invoke-Tool pg_ctl @('start', '-D', $data, '-l', (Join-Path $data 'floor.log'), '-W', '-s',
                        '-o', "-p $floorPort -k $FloorSocket -c listen_addresses=''") -AsServerUser
                    try {
                        Wait-ServerReady $data
                        Assert-QueryAnswers @('-h', $FloorSocket, '-p', "$floorPort", '-U', 'postgres', '-d', 'app') $set.Query
                        $seconds = $watch.Elapsed.TotalSeconds
                    } finally {
                        if (Test-Path -LiteralPath (Join-Path $data 'postmaster.pid')) { $null = Invoke-Tool pg_ctl @('stop', '-D', $data, '-m', 'immediate', '-w', '-s') -AsServerUser }
                        Remove-Item -LiteralPath $data -Recurse -Force
                    }
                    $seconds
                }
            }

            for ($run = 1; $run -le $Runs; $run++) {
                $line = foreach ($contender in (Get-RotatedOrder $CloneContenders $run)) {
                    Clear-Cache
                    $seconds = & $cloneRuns[$contender] "scale_$($contender -replace '\W', '')_$run" $run
                    $cloneTimings.Add([pscustomobject]@{ FileSystem = $fileSystem.Name; DataSet = $set.Name; Run = $run; Contender = $contender; Seconds = $seconds })
                    '{0} {1}' -f $contender, (Format-Seconds $seconds)
                }
                Write-Host ('clone run {0,-3} {1}' -f $run, ($line -join '   '))
            }

            if ($firstFileSystem -and $set -eq $dataSets[0] -and $DensityDatabases -gt 0) {
                $names = 1..$DensityDatabases | ForEach-Object { "scale-idle-$_" }
                try {
                    foreach ($name in $names) { $null = Invoke-DevDbTimed New-DevDbDatabase @{ Project = $ProjectName; Name = $name } '' $set.Query }
                    Start-Sleep -Seconds $IdleSeconds
                    foreach ($name in $names) {
                        Get-ServerMemory (Join-Path $env:DEVDB_HOME "databases/$name/data") |
                            ForEach-Object { $memory.Add(($_ | Add-Member -PassThru -NotePropertyMembers @{ Database = $name; DataSet = $set.Name })) }
                    }
                } finally {
                    foreach ($name in $names) { try { $null = Invoke-DevDb Remove-DevDbDatabase @{ Name = $name; Force = $true } } catch { Write-Warning "Removing $name failed: $_" } }
                }
                $perDatabase = $memory | Group-Object Database | ForEach-Object { ($_.Group | Measure-Object PssMB -Sum).Sum }
                Write-Host ("idle databases: PSS per database {0} MB" -f (($perDatabase | ForEach-Object { $_.ToString('0.0', $Invariant) }) -join ', '))
            }

            $null = Invoke-DevDb Remove-DevDbProject @{ Name = $ProjectName; IncludeDatabases = $true; Force = $true }
            $ProjectCreated = $false
            $null = Invoke-Tool dropdb ($scratchServer + $TemplateName)
        }

        Stop-ScratchServer $scratch
        Close-DevDbSession
        $script:DevDb = $null
        Remove-Item -LiteralPath $FileSystemRoot -Recurse -Force
        $FileSystemRoot = $null
        $firstFileSystem = $false
    }

    # ---- Results ----
    $stamp = [datetime]::UtcNow.ToString('yyyyMMddTHHmmssZ')
    Write-Step 'Data sets'
    Show-Table $dataSetRows
    Show-Table $imageRows

    Write-Step 'Clone: seconds until a query answers (VsDevDb = contender median / DevDb median; above 1: DevDb is faster)'
    $cloneSummary = foreach ($fileSystem in $fileSystems) {
        foreach ($set in $dataSets) {
            $group = @($cloneTimings | Where-Object { $_.FileSystem -eq $fileSystem.Name -and $_.DataSet -eq $set.Name })
            Get-TimingSummary $group $CloneContenders 'devdb' 'VsDevDb' |
                Select-Object @{ Name = 'FileSystem'; Expression = { $fileSystem.Name } }, @{ Name = 'DataSet'; Expression = { $set.Name } }, *
        }
    }
    Show-Table $cloneSummary

    Write-Step 'Where New-DevDbDatabase spends its time (median seconds per phase)'
    foreach ($fileSystem in $fileSystems) {
        foreach ($set in $dataSets) {
            Write-Host "$($fileSystem.Name) / $($set.Name)"
            Show-Table (Get-PhaseSummary @($clonePhases | Where-Object { $_.FileSystem -eq $fileSystem.Name -and $_.DataSet -eq $set.Name }))
        }
    }

    if ($buildTimings.Count) {
        Write-Step 'Image build: New-DevDbProject against createdb + pg_restore -j1 (VsDevDb above 1: DevDb is faster)'
        $buildSummary = foreach ($set in $dataSets) {
            Get-TimingSummary @($buildTimings | Where-Object DataSet -EQ $set.Name) $BuildContenders 'devdb' 'VsDevDb' |
                Select-Object @{ Name = 'DataSet'; Expression = { $set.Name } }, *
        }
        Show-Table $buildSummary
        Write-Step 'Where New-DevDbProject spends its time (median seconds per phase)'
        foreach ($set in $dataSets) {
            Write-Host $set.Name
            Show-Table (Get-PhaseSummary @($buildPhases | Where-Object { $_.FileSystem -eq $fileSystems[0].Name -and $_.DataSet -eq $set.Name }))
        }
    }

    $densityRow = $null
    if ($memory.Count) {
        Write-Step "Memory of an idle database (PSS of its postmaster and children, $DensityDatabases running, $IdleSeconds s idle)"
        $memory | Group-Object Process | ForEach-Object {
            [pscustomobject]@{ Process = $_.Name; MedianPssMB = (Get-Median ($_.Group.PssMB)).ToString('0.0', $Invariant) }
        } | Format-Table -AutoSize | Out-String -Width 250 | Write-Host
        $perDatabase = [double[]] ($memory | Group-Object Database | ForEach-Object { ($_.Group | Measure-Object PssMB -Sum).Sum })
        $pssMB = Get-Median $perDatabase
        $densityRow = [pscustomobject]@{
            DataSet = $memory[0].DataSet; Databases = $DensityDatabases; IdleSeconds = $IdleSeconds
            MedianPssMB = $pssMB.ToString('0.0', $Invariant); DatabasesPer24GB = [math]::Floor($MachineMemoryMB / $pssMB)
        }
        Show-Table $densityRow
    }

    # ---- The issue's targets ----
    $median = { param($FileSystem, $DataSet, $Contender)
        Get-Median ($cloneTimings | Where-Object { $_.FileSystem -eq $FileSystem -and $_.DataSet -eq $DataSet -and $_.Contender -eq $Contender } | ForEach-Object Seconds) }
    $targets = [Collections.Generic.List[object]]::new()
    $addTarget = { param($Target, $Measured, $Met) $targets.Add([pscustomobject]@{ Target = $Target; Measured = $Measured; Met = if ($Met) { 'yes' } else { 'NO' } }) }
    $pgbenchSets = @($dataSets | Where-Object Scale | Sort-Object Scale)
    if ($Xfs -and $pgbenchSets.Count -ge 2) {
        $small = & $median 'xfs-reflink' $pgbenchSets[0].Name 'devdb'
        $large = & $median 'xfs-reflink' $pgbenchSets[-1].Name 'devdb'
        & $addTarget "reflink: clone $($pgbenchSets[-1].Name) within 1.2x of $($pgbenchSets[0].Name)" "$(Format-Ratio ($large / $small))x" ($large / $small -le 1.2)
        & $addTarget "reflink: clone $($pgbenchSets[-1].Name) under 2 s" "$(Format-Seconds $large) s" ($large -lt 2)
    }
    if (-not $SkipWorkFolder) {
        $first = $fileSystems[0].Name
        foreach ($set in $dataSets) {
            $ratio = (& $median $first $set.Name 'devdb') / (& $median $first $set.Name 'floor')
            & $addTarget "${first}: clone $($set.Name) within 1.3x of the floor" "$(Format-Ratio $ratio)x" ($ratio -le 1.3)
        }
        foreach ($set in @($dataSets | Where-Object Scale -EQ 50)) {
            $ratio = (& $median $first $set.Name 'pg_restore') / (& $median $first $set.Name 'devdb')
            & $addTarget "${first}: clone $($set.Name) at least 3x faster than pg_restore" "$(Format-Ratio $ratio)x" ($ratio -ge 3)
        }
        foreach ($row in @($buildSummary | Where-Object Contender -EQ 'pg_restore_j1')) {
            & $addTarget "image build $($row.DataSet) at least 1.5x faster than pg_restore -j1" "$($row.VsDevDb)x" ([double] $row.VsDevDb -ge 1.5)
        }
    }
    if ($densityRow) { & $addTarget 'an idle database costs at most 40 MB (PSS)' "$($densityRow.MedianPssMB) MB" ([double] $densityRow.MedianPssMB -le 40) }
    Write-Step 'Targets (issue 5)'
    Show-Table $targets

    $secondsColumn = @{ Name = 'Seconds'; Expression = { Format-Seconds $_.Seconds } }
    Write-Host "Clone summary:      $(Save-BenchCsv $cloneSummary "scale-$stamp-clone")"
    Write-Host "Every clone run:    $(Save-BenchCsv ($cloneTimings | Select-Object FileSystem, DataSet, Run, Contender, $secondsColumn) "scale-$stamp-clone-runs")"
    if ($buildTimings.Count) {
        Write-Host "Image build:        $(Save-BenchCsv $buildSummary "scale-$stamp-build")"
        Write-Host "Every image build:  $(Save-BenchCsv ($buildTimings | Select-Object DataSet, Run, Contender, $secondsColumn) "scale-$stamp-build-runs")"
    }
    if ($densityRow) { Write-Host "Density:            $(Save-BenchCsv $densityRow "scale-$stamp-density")" }
    Write-Host "Targets:            $(Save-BenchCsv $targets "scale-$stamp-targets")"
} finally {
    Write-Step 'Cleanup'
    if ($script:DevDb -and $ProjectCreated) {
        try { $null = Invoke-DevDb Remove-DevDbProject @{ Name = $ProjectName; IncludeDatabases = $true; Force = $true } }
        catch { Write-Warning "Removing the DevDb project failed: $_" }
    }
    if ($FileSystemRoot) { Stop-ScratchServer (Join-Path $FileSystemRoot 'scratch') }
    Close-DevDbSession
    Stop-LeftoverServers $TempRoot
    if ($XfsMounted) {
        & umount $XfsMount
        if ($LASTEXITCODE -ne 0) { Start-Sleep -Seconds 1; & umount -l $XfsMount }
    }
    if ($XfsLoop) { & losetup -d $XfsLoop }
    if (Test-Path -LiteralPath $TempRoot) { Remove-Item -LiteralPath $TempRoot -Recurse -Force -ErrorAction Continue }
    foreach ($name in $savedEnvironment.Keys) { [Environment]::SetEnvironmentVariable($name, $savedEnvironment[$name]) }
    Write-Host "Removed the project, the servers, $(if ($Xfs) { 'the XFS loop device, ' })and $TempRoot."
}
