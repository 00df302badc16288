<#
.SYNOPSIS
    The DevDb local demo: project 'shop' from samples/shop.dump, database 'demo', a query against it.
.DESCRIPTION
    Run through scripts/demo.sh, which installs and builds first. Safe to run again: an existing
    project is reused and an existing 'demo' database is reset to the project's newest image.
    State lives in DEVDB_HOME when it is set, else in DevDb's default folder.
#>
[CmdletBinding()]
param()
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
# Plain text when the output goes to a file or a CI log (no colour escape codes).
if ([Console]::IsOutputRedirected) { $PSStyle.OutputRendering = 'PlainText' }

$ProjectName = 'shop'
$DatabaseName = 'demo'
$RepoRoot = Split-Path -Parent $PSScriptRoot
$DumpPath = Join-Path $RepoRoot 'samples/shop.dump'

# What the demo asks the sample data (see samples/shop.sql).
$TopCustomersSql = 'SELECT customer_name, email, order_count, total_spent FROM customer_order_totals ORDER BY total_spent DESC, customer_id LIMIT 5'
$OrderCountSql = "SELECT count(*) AS orders, count(*) FILTER (WHERE status = 'cancelled') AS cancelled FROM orders"

function Write-Step([string] $Text) { Write-Host "`n== $Text" -ForegroundColor Cyan }

function Find-Psql {
    $candidates = @(
        if ($env:DEVDB_PG_BIN) { Join-Path $env:DEVDB_PG_BIN 'psql' }
        '/usr/lib/postgresql/15/bin/psql'
        (Get-Command psql -CommandType Application -ErrorAction Ignore | Select-Object -First 1 -ExpandProperty Source)
    )
    $found = $candidates | Where-Object { $_ -and (Test-Path -LiteralPath $_ -PathType Leaf) } | Select-Object -First 1
    if (-not $found) { throw 'psql was not found: install postgresql-client-15 (scripts/demo.sh does), or set DEVDB_PG_BIN.' }
    $found
}

try {
    Import-Module (Join-Path $RepoRoot 'artifacts/module/DevDb') -Force
    if (-not (Test-Path -LiteralPath $DumpPath -PathType Leaf)) {
        throw "The sample dump $DumpPath is missing: run samples/make-shop-dump.sh to make it."
    }
    Write-Host ('State folder: ' + $(if ($env:DEVDB_HOME) { "$env:DEVDB_HOME (DEVDB_HOME)" } else { "DevDb's default (set DEVDB_HOME to choose another)" }))

    Write-Step "Project '$ProjectName'"
    $project = Get-DevDbProject | Where-Object Name -EQ $ProjectName
    if (-not $project) {
        Write-Host "Creating project '$ProjectName' from samples/shop.dump (restores it once into an image)..."
        $project = New-DevDbProject -Name $ProjectName -Source $DumpPath
    } elseif ("$($project.Status)" -ne 'Ready') {
        Write-Host "Project '$ProjectName' exists but is $($project.Status); building its image again..."
        $project = Update-DevDbProject -Name $ProjectName -Source $DumpPath
    } else {
        Write-Host "Reusing project '$ProjectName' (source: $($project.Source))."
    }
    $project | Format-List Name, PostgresVersion, Source, Status, DatabaseName, ImageRevision | Out-Host

    Write-Step "Database '$DatabaseName'"
    $existing = Get-DevDbDatabase | Where-Object Name -EQ $DatabaseName
    if ($existing -and $existing.Project -ne $ProjectName) {
        throw "A database named '$DatabaseName' already exists in project '$($existing.Project)': remove it (Remove-DevDbDatabase $DatabaseName) or rename yours."
    }
    $stopwatch = [Diagnostics.Stopwatch]::StartNew()
    if ($existing) {
        $database = Reset-DevDbDatabase -Name $DatabaseName -Confirm:$false
        if ("$($database.Status)" -eq 'Stopped') { $database = Start-DevDbDatabase -Name $DatabaseName -PassThru }
        $verb = 'Reset'
    } else {
        $database = New-DevDbDatabase -Project $ProjectName -Name $DatabaseName
        $verb = 'Created'
    }
    $stopwatch.Stop()
    Write-Host ("{0} database '{1}' from image revision {2} in {3:N2} s." -f $verb, $DatabaseName, $database.ImageRevision, $stopwatch.Elapsed.TotalSeconds)
    $database | Format-List | Out-Host

    # Secrets are never printed by default: show where to connect, and how to get the password.
    $password = $database.GetCredential().GetNetworkCredential().Password
    $shown = "host=$($database.Host) port=$($database.Port) dbname=$($database.DatabaseName) user=$($database.Username)"
    Write-Host "Connection (password left out): $shown"
    Write-Host "Full connection details, password included:  Get-DevDbConnectionString -Name $DatabaseName -Format Env"

    Write-Step 'A query with psql'
    $psql = Find-Psql
    # The password goes to psql through its environment, never its command line.
    $saved = @{}
    $connection = @{
        PGHOST = $database.Host; PGPORT = "$($database.Port)"; PGDATABASE = $database.DatabaseName
        PGUSER = $database.Username; PGPASSWORD = $password
    }
    foreach ($name in $connection.Keys) { $saved[$name] = [Environment]::GetEnvironmentVariable($name) }
    try {
        foreach ($name in $connection.Keys) { [Environment]::SetEnvironmentVariable($name, $connection[$name]) }
        Write-Host "Top 5 customers by order total:  $TopCustomersSql"
        & $psql -X -v ON_ERROR_STOP=1 -P pager=off -c $TopCustomersSql | Out-Host
        if ($LASTEXITCODE -ne 0) { throw "psql failed (exit code $LASTEXITCODE) running: $TopCustomersSql" }
        Write-Host "Orders:  $OrderCountSql"
        & $psql -X -v ON_ERROR_STOP=1 -P pager=off -c $OrderCountSql | Out-Host
        if ($LASTEXITCODE -ne 0) { throw "psql failed (exit code $LASTEXITCODE) running: $OrderCountSql" }
    } finally {
        foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
    }

    Write-Step 'Done'
    Write-Host "Database '$DatabaseName' keeps running after this script; run scripts/demo.sh again to reset it."
    Write-Host 'To clean up everything the demo made (the project, its image and its databases):'
    Write-Host "    dotnet pwsh -NoProfile -Command 'Import-Module ./artifacts/module/DevDb; Remove-DevDbProject $ProjectName -IncludeDatabases -Force'"
} catch {
    $record = $_
    Write-Host "`nThe demo failed: $($record.Exception.Message)" -ForegroundColor Red
    if ($record.FullyQualifiedErrorId -ne $record.Exception.Message) { Write-Host "Error id: $($record.FullyQualifiedErrorId)" }
    $action = if ($record.ErrorDetails -and $record.ErrorDetails.RecommendedAction) { $record.ErrorDetails.RecommendedAction }
              elseif ($record.Exception.PSObject.Properties['RecommendedAction']) { $record.Exception.RecommendedAction }
    if ($action) { Write-Host "What to do: $action" }
    exit 1
}
