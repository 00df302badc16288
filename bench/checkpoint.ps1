<#
.SYNOPSIS
    Per-test rollback: restore to a checkpoint (Restore-DevDbDatabase) against what people do today,
    DROP DATABASE + CREATE DATABASE ... TEMPLATE, and a fresh pg_restore, on pgbench data sets.
.DESCRIPTION
    For each scale factor and file system (the work folder's, and XFS with reflinks on a loop device
    with -Xfs): makes a pgbench data set and its custom dump, a DevDb project from the dump and a
    database with a checkpoint 'fixtures', and a scratch server with the same data as a template
    database. Each run dirties the data (UPDATE of pgbench_accounts) and puts it back three ways, in an
    order rotated per run; every contender ends when a session gets an answer on the restored data,
    and a full scan then checks the data (timed apart: MedianCheckSeconds). Prints the medians, min,
    max and each one's median over restore-to-checkpoint's, plus how long taking the checkpoint
    interrupted the database. Results go to bench/results/checkpoint.csv.
.PARAMETER Scales
    pgbench scale factors (10 is about 160 MB, 200 about 3 GB).
.PARAMETER Runs
    Runs per contender (medians are reported).
.PARAMETER Xfs
    Also measure on an XFS file system with reflinks, made on a loop device (root).
.PARAMETER XfsOnly
    With -Xfs: measure only on XFS (the reflink target), not on the work folder's file system too.
.PARAMETER XfsSizeGB
    Size of that file system.
.PARAMETER WorkFolder
    Where the machine's own file system is measured (default: the temp folder).
#>
param(
    # Strings, split at commas: 'pwsh -File' (and so bench/checkpoint.sh) passes '-Scales 10,200' as one string.
    [string[]] $Scales = @('10'),
    [ValidateRange(1, 100)] [int] $Runs = 5,
    [switch] $Xfs,
    [switch] $XfsOnly,
    [ValidateRange(4, 10000)] [int] $XfsSizeGB = 20,
    [string] $WorkFolder = [IO.Path]::GetTempPath()
)
. "$PSScriptRoot/common.ps1"
$ScaleFactors = [int[]] @($Scales -split ',' | Where-Object { $_ } | ForEach-Object { [int] $_ })
if (-not $ScaleFactors -or ($ScaleFactors | Where-Object { $_ -lt 1 -or $_ -gt 10000 })) { throw 'Give -Scales as pgbench scale factors from 1 to 10000, e.g. -Scales 10,200.' }
if ($Xfs -and -not $IsRoot) { throw '-Xfs needs root (loop device, mount).' }
if ($XfsOnly -and -not $Xfs) { throw '-XfsOnly goes with -Xfs.' }

$TempRoot = New-BenchFolder $WorkFolder
$XfsImage = Join-Path $TempRoot 'xfs.img'
$XfsMount = Join-Path $TempRoot 'xfs'
$XfsLoop = $null
$script:DevDb = $null
$savedEnvironment = @{}
foreach ($name in 'DEVDB_HOME', 'DEVDB_PORT_RANGE', 'PGPASSWORD') { $savedEnvironment[$name] = [Environment]::GetEnvironmentVariable($name) }
$timings = [Collections.Generic.List[object]]::new()
$checkpoints = [Collections.Generic.List[object]]::new()
$Contenders = 'restore-checkpoint', 'drop+create-template', 'pg_restore'

try {
    Assert-PostgresTools 'initdb', 'pg_ctl', 'postgres', 'createdb', 'dropdb', 'pg_dump', 'pg_restore', 'psql', 'pgbench'
    $firstPort = Get-Random -Minimum 55000 -Maximum 64000
    $env:DEVDB_PORT_RANGE = "$firstPort-$($firstPort + 19)"
    $fileSystems = [Collections.Generic.List[object]]::new()
    if (-not $XfsOnly) { $fileSystems.Add(@{ Name = "$(& findmnt -n -o FSTYPE -T $TempRoot)"; Root = $TempRoot }) }
    if ($Xfs) {
        & truncate -s "${XfsSizeGB}G" $XfsImage
        $XfsLoop = "$(& losetup -f --show $XfsImage)".Trim()
        & mkfs.xfs -q -m reflink=1 $XfsLoop
        if ($LASTEXITCODE -ne 0) { throw "mkfs.xfs on $XfsLoop failed." }
        $null = New-Item -ItemType Directory -Path $XfsMount
        & mount $XfsLoop $XfsMount
        if ($LASTEXITCODE -ne 0) { throw "mounting $XfsLoop failed." }
        & chmod 755 $XfsMount
        $fileSystems.Add(@{ Name = 'xfs-reflink'; Root = $XfsMount })
    }
    Write-MachineFacts ([ordered]@{ 'Scales' = $ScaleFactors -join ', '; 'Runs' = $Runs; 'File systems' = ($fileSystems | ForEach-Object Name) -join ', ' })

    foreach ($fs in $fileSystems) {
        foreach ($scale in $ScaleFactors) {
            Write-Step "pgbench scale $scale on $($fs.Name)"
            $folder = Join-Path $fs.Root "scale-$scale"
            $null = New-Item -ItemType Directory -Path $folder
            & chmod 755 $folder
            $scratch = Join-Path $folder 'scratch'
            $null = New-Item -ItemType Directory -Path $scratch
            $server = Start-ScratchServer $scratch (Join-Path $scratch 'server.log')
            $query = 'SELECT sum(abalance) FROM pgbench_accounts'
            try {
                $null = Invoke-Tool createdb ($server + 'fixtures')
                $null = Invoke-Tool pgbench ($server + @('-i', '-q', '-s', "$scale", 'fixtures'))
                $dump = Join-Path $folder 'fixtures.dump'
                $null = Invoke-Tool pg_dump ($server + @('-Fc', '-f', $dump, 'fixtures'))
                if ($IsRoot) { & chmod 644 $dump }
                $env:DEVDB_HOME = Join-Path $folder 'devdb'
                Open-DevDbSession
                $null = Invoke-DevDb New-DevDbProject @{ Name = 'bench'; Source = $dump }
                $db = (Invoke-DevDb New-DevDbDatabase @{ Project = 'bench'; Name = 'bench-db' })[0]
                $env:PGPASSWORD = $db.GetCredential().GetNetworkCredential().Password
                $dbArgs = @('-h', $db.Host, '-p', "$($db.Port)", '-U', $db.Username, '-d', $db.DatabaseName)
                $watch = [Diagnostics.Stopwatch]::StartNew()
                $checkpoint = (Invoke-DevDb Checkpoint-DevDbDatabase @{ Name = 'bench-db'; Checkpoint = 'fixtures' })[0]
                $checkpoints.Add([pscustomobject]@{
                    FileSystem = $fs.Name; Scale = $scale; CheckpointSeconds = Format-Seconds $watch.Elapsed.TotalSeconds
                    InterruptionSeconds = Format-Seconds $checkpoint.InterruptionSeconds
                })
                $dirty = 'UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid % 10 = 0'
                $clean = "$(Invoke-Tool psql ($dbArgs + @('-X', '-A', '-t', '-c', $query)))".Trim()
                for ($run = 1; $run -le $Runs; $run++) {
                    foreach ($contender in Get-RotatedOrder $Contenders $run) {
                        $watch = [Diagnostics.Stopwatch]::StartNew()
                        # Timed: until the data is back and a session gets an answer from it. The full scan that
                        # checks the data is timed apart (CheckSeconds): after a restore its files are new to the
                        # page cache, a cost the next test pays on first read, not the restore.
                        switch ($contender) {
                            'restore-checkpoint' {
                                $null = Invoke-Tool psql ($dbArgs + @('-X', '-q', '-c', $dirty))
                                $watch.Restart()
                                $null = Invoke-DevDb Restore-DevDbDatabase @{ Name = 'bench-db'; Checkpoint = 'fixtures'; Force = $true }
                                $target = $dbArgs
                            }
                            'drop+create-template' {
                                $null = Invoke-Tool psql ($server + @('-X', '-q', '-d', 'postgres', '-c', 'DROP DATABASE IF EXISTS work WITH (FORCE)'))
                                $null = Invoke-Tool psql ($server + @('-X', '-q', '-d', 'postgres', '-c', 'CREATE DATABASE work TEMPLATE fixtures STRATEGY FILE_COPY'))
                                $target = $server + @('-d', 'work')
                            }
                            'pg_restore' {
                                $null = Invoke-Tool psql ($server + @('-X', '-q', '-d', 'postgres', '-c', 'DROP DATABASE IF EXISTS fresh WITH (FORCE)'))
                                $null = Invoke-Tool createdb ($server + 'fresh')
                                $null = Invoke-Tool pg_restore ($server + @('-j', '2', '-d', 'fresh', $dump))
                                $target = $server + @('-d', 'fresh')
                            }
                        }
                        $null = Invoke-Tool psql ($target + @('-X', '-A', '-t', '-c', 'SELECT 1'))
                        $seconds = $watch.Elapsed.TotalSeconds
                        $watch.Restart()
                        $answer = "$(Invoke-Tool psql ($target + @('-X', '-A', '-t', '-c', $query)))".Trim()
                        $checkSeconds = $watch.Elapsed.TotalSeconds
                        if ($answer -ne $clean) { throw "$contender gave $answer, not the clean data's $clean." }
                        $timings.Add([pscustomobject]@{ FileSystem = $fs.Name; Scale = $scale; Run = $run; Contender = $contender; Seconds = $seconds; CheckSeconds = $checkSeconds })
                    }
                }
            } finally {
                if ($script:DevDb) {
                    try { $null = Invoke-DevDb Remove-DevDbProject @{ Name = 'bench'; IncludeDatabases = $true; Force = $true } } catch { Write-Warning "$_" }
                    Close-DevDbSession
                    $script:DevDb = $null
                }
                Stop-ScratchServer $scratch
                Remove-Item -LiteralPath $folder -Recurse -Force -ErrorAction Continue
            }
        }
    }

    Write-Step 'Taking the checkpoint (the database does not answer for InterruptionSeconds)'
    Show-Table $checkpoints
    Write-Step "Putting the data back (median of $Runs; Ratio = median / restore-checkpoint's)"
    $rows = foreach ($group in $timings | Group-Object FileSystem, Scale) {
        $first = $group.Group[0]
        Get-TimingSummary $group.Group $Contenders 'restore-checkpoint' 'Ratio' |
            ForEach-Object {
                $contender = $_.Contender
                $check = Get-Median ([double[]] ($group.Group | Where-Object Contender -EQ $contender | ForEach-Object CheckSeconds))
                $_ | Add-Member -NotePropertyName FileSystem -NotePropertyValue $first.FileSystem -PassThru |
                    Add-Member -NotePropertyName Scale -NotePropertyValue $first.Scale -PassThru |
                    Add-Member -NotePropertyName MedianCheckSeconds -NotePropertyValue (Format-Seconds $check) -PassThru
            }
    }
    Show-Table ($rows | Select-Object FileSystem, Scale, Contender, Runs, MedianSeconds, MinSeconds, MaxSeconds, Ratio, MedianCheckSeconds)
    Write-Host "Saved $(Save-BenchCsv $rows 'checkpoint')"
} finally {
    foreach ($name in $savedEnvironment.Keys) { [Environment]::SetEnvironmentVariable($name, $savedEnvironment[$name]) }
    Stop-LeftoverServers $TempRoot
    if ($XfsLoop) {
        & umount $XfsMount 2>$null
        & losetup -d $XfsLoop 2>$null
    }
    Remove-Item -LiteralPath $TempRoot -Recurse -Force -ErrorAction Continue
}
