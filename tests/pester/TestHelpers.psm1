# Shared helpers of the DevDb Pester suites. Everything runs against the built module, real Postgres and psql.

$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path

function Get-RepoRoot { $script:RepoRoot }

function Import-DevDbModule {
    $manifest = Join-Path $script:RepoRoot 'DevDb.psd1'
    if (-not (Test-Path (Join-Path $script:RepoRoot 'module/bin/DevDb.PowerShell.dll'))) {
        throw "The module is not built. Run: dotnet build DevDb.sln -c Release"
    }
    Import-Module $manifest -Force -Global -ErrorAction Stop
}

# A private DEVDB_HOME for one test file, in a temp folder the postgres OS user can reach (the servers run
# as that user when we are root). Not under $TestDrive: Pester empties that at the end of every Describe,
# while the engine's state must live across the file's Describe blocks.
function New-DevDbTestHome {
    $homePath = Join-Path ([System.IO.Path]::GetTempPath()) "devdb-pester-$([guid]::NewGuid().ToString('n'))"
    $null = New-Item -ItemType Directory -Path $homePath
    if (-not $IsWindows) {
        & chmod 755 $homePath
    }
    $env:DEVDB_HOME = $homePath
    # Other suites may run DevDb servers at the same time; a port range of our own keeps them out of our way.
    $first = Get-Random -Minimum 55000 -Maximum 64000
    $env:DEVDB_PORT_RANGE = "$first-$($first + 99)"
    $homePath
}

# Removes what a test file created: every project with its databases (so no server outlives the
# tests), then the home folder itself.
function Clear-DevDbTestHome {
    if (-not $env:DEVDB_HOME) { return }
    Get-DevDbProject -ErrorAction SilentlyContinue | Remove-DevDbProject -Force -ErrorAction Continue
    Get-DevDbDatabase -ErrorAction SilentlyContinue | Remove-DevDbDatabase -Force -ErrorAction Continue
    Remove-Item -Recurse -Force -LiteralPath $env:DEVDB_HOME -ErrorAction Continue
    Remove-Item Env:DEVDB_HOME, Env:DEVDB_PORT_RANGE -ErrorAction SilentlyContinue
}

# Command lines of the Postgres servers running out of the current DEVDB_HOME.
function Get-DevDbServerProcess {
    Get-Process -Name postgres, postmaster -ErrorAction SilentlyContinue |
        Where-Object { $_.CommandLine -and $_.CommandLine.Contains($env:DEVDB_HOME) }
}

function Get-Psql {
    $candidates = @(
        if ($env:DEVDB_PG_BIN) { Join-Path $env:DEVDB_PG_BIN 'psql' }
        (Get-Command psql -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1).Source
        Get-ChildItem '/usr/lib/postgresql/*/bin/psql' -ErrorAction SilentlyContinue | Sort-Object FullName -Descending | ForEach-Object FullName
    ) | Where-Object { $_ -and (Test-Path $_) }
    if (-not $candidates) { throw 'psql not found: install the PostgreSQL client or set DEVDB_PG_BIN.' }
    @($candidates)[0]
}

function Get-PlainPassword($Database) { $Database.Credential.GetNetworkCredential().Password }

# Runs SQL through psql with a connection string only (no PGPASSWORD): proves the string alone is enough.
function Invoke-PsqlConnectionString([string] $ConnectionString, [string] $Sql) {
    $saved = $env:PGPASSWORD
    Remove-Item Env:PGPASSWORD -ErrorAction SilentlyContinue
    try {
        $output = & (Get-Psql) -X -A -t -v ON_ERROR_STOP=1 -d $ConnectionString -c $Sql 2>&1
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = (($output | ForEach-Object { "$_" }) -join "`n").Trim() }
    }
    finally {
        if ($saved) { $env:PGPASSWORD = $saved }
    }
}

# Runs SQL through psql using a database object's fields and its credential's password.
function Invoke-DatabaseSql($Database, [string] $Sql) {
    $env:PGPASSWORD = Get-PlainPassword $Database
    try {
        $output = & (Get-Psql) -X -A -t -v ON_ERROR_STOP=1 -h $Database.Host -p $Database.Port -U $Database.Username -d $Database.DatabaseName -c $Sql 2>&1
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = (($output | ForEach-Object { "$_" }) -join "`n").Trim() }
    }
    finally {
        Remove-Item Env:PGPASSWORD -ErrorAction SilentlyContinue
    }
}

function Get-DevDbLoadContext {
    [System.Runtime.Loader.AssemblyLoadContext]::All | Where-Object Name -eq 'DevDb'
}

# Queries through the module's own Npgsql, loaded in DevDb's load context (never into the default one).
function Invoke-NpgsqlScalar([string] $ConnectionString, [string] $Sql) {
    $npgsql = (Get-DevDbLoadContext).LoadFromAssemblyName([System.Reflection.AssemblyName]::new('Npgsql'))
    $connectionType = $npgsql.GetType('Npgsql.NpgsqlConnection', $true)
    $connection = [Activator]::CreateInstance($connectionType, [object[]] @("$ConnectionString;Pooling=false"))
    try {
        $connection.Open()
        $command = $connection.CreateCommand()
        $command.CommandText = $Sql
        $command.ExecuteScalar()
    }
    finally {
        $connection.Dispose()
    }
}

Export-ModuleMember -Function *
