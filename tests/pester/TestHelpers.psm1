# Shared helpers of the DevDb Pester suites. Everything runs against the built module, real Postgres and psql.

$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path

function Get-RepoRoot { $script:RepoRoot }

# The module as the build stages it for publishing: artifacts/module/DevDb/<version>/.
function Get-DevDbModulePath { Join-Path $script:RepoRoot 'artifacts/module/DevDb' }

function Import-DevDbModule {
    if (-not (Test-Path (Join-Path (Get-DevDbModulePath) '*/DevDb.psd1'))) {
        throw "The module is not built. Run: dotnet build DevDb.sln -c Release"
    }
    Import-Module (Get-DevDbModulePath) -Force -Global -ErrorAction Stop
}

# The suites run twice (run.ps1 -Mode): against the embedded engine, and against a real DevDb.Api
# process on 127.0.0.1 that the cmdlets reach through Connect-DevDb. The same Its run in both.
function Test-ServerMode { $env:DEVDB_TEST_MODE -eq 'Server' }

# Who owns what the tests create: the OS user locally, the token's user on the server.
function Get-TestUser { if (Test-ServerMode) { 'pester' } else { [Environment]::UserName } }

# A private DEVDB_HOME for one test file, in a temp folder the postgres OS user can reach (the servers run
# as that user when we are root), and a private DEVDB_CONFIG so no saved context of the machine's user
# is used. Not under $TestDrive: Pester empties that at the end of every Describe, while the engine's
# state must live across the file's Describe blocks. In server mode, also starts the API on that home
# and connects to it.
function New-DevDbTestHome {
    $homePath = Join-Path ([System.IO.Path]::GetTempPath()) "devdb-pester-$([guid]::NewGuid().ToString('n'))"
    $null = New-Item -ItemType Directory -Path $homePath
    if (-not $IsWindows) {
        & chmod 755 $homePath
    }
    $env:DEVDB_HOME = $homePath
    $env:DEVDB_CONFIG = Join-Path $homePath 'client'
    Remove-Item Env:DEVDB_SERVER, Env:DEVDB_TOKEN -ErrorAction SilentlyContinue
    # Other suites may run DevDb servers at the same time; a port range of our own keeps them out of our way.
    $first = Get-Random -Minimum 55000 -Maximum 64000
    $env:DEVDB_PORT_RANGE = "$first-$($first + 99)"
    if (Test-ServerMode) {
        # An expiry pass every second, so Lifetimes.Tests.ps1 sees an expired database go soon after its time.
        $script:TestApi = Start-DevDbTestApi -HomePath $homePath -Environment @{ DEVDB__EXPIRYINTERVAL = '00:00:01' }
        $null = Connect-DevDb -Server $script:TestApi.Url -Token (ConvertTo-SecureString $script:TestApi.Token -AsPlainText -Force)
    }
    $homePath
}

# Removes what a test file created: every project with its databases (so no server outlives the
# tests), the API if one was started, then the home folder itself.
function Clear-DevDbTestHome {
    if (-not $env:DEVDB_HOME) { return }
    Get-DevDbProject -ErrorAction SilentlyContinue | Remove-DevDbProject -IncludeDatabases -Force -ErrorAction Continue
    Get-DevDbDatabase -ErrorAction SilentlyContinue | Remove-DevDbDatabase -Force -ErrorAction Continue
    if ($script:TestApi) {
        Stop-DevDbTestApi $script:TestApi
        $script:TestApi = $null
    }
    Remove-Item -Recurse -Force -LiteralPath $env:DEVDB_HOME -ErrorAction Continue
    Remove-Item Env:DEVDB_HOME, Env:DEVDB_CONFIG, Env:DEVDB_PORT_RANGE -ErrorAction SilentlyContinue
}

# Removes what one Describe made, whatever state its Its left it in, so the next Describe starts clean: each
# database once its work (a -NoWait create, reset, stop or start) has ended, then each project with its
# databases. Missing ones are fine: the Its may have removed them already.
function Remove-DevDbTestItem {
    param([string[]] $Database = @(), [string[]] $Project = @())
    foreach ($name in $Database) {
        $null = Wait-DevDbDatabase -Name $name -Timeout 120 -ErrorAction SilentlyContinue
        Remove-DevDbDatabase -Name $name -Force -ErrorAction SilentlyContinue
    }
    foreach ($name in $Project) {
        $null = Wait-DevDbProject -Name $name -Timeout 300 -ErrorAction SilentlyContinue
        Remove-DevDbProject -Name $name -IncludeDatabases -Force -ErrorAction SilentlyContinue
    }
}

function Get-FreeTcpPort {
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

# Starts the built DevDb.Api as a process of its own on 127.0.0.1, with its state in -HomePath and a
# fresh token for each of -Users (user = role, in order), plus any -Environment (more settings, e.g.
# DevDb__Runtime). Returns the process, its address, the tokens by user (.Token is the first user's)
# and its log files.
function Start-DevDbTestApi {
    param(
        [Parameter(Mandatory)] [string] $HomePath,
        [System.Collections.Specialized.OrderedDictionary] $Users = [ordered]@{ pester = 'admin' },
        [hashtable] $Environment = @{}
    )
    if (-not (Test-Path $HomePath)) {
        $null = New-Item -ItemType Directory -Path $HomePath
        if (-not $IsWindows) { & chmod 755 $HomePath }
    }
    $tokens = Join-Path $HomePath 'api-tokens.json'
    $issued = [ordered]@{}
    foreach ($user in $Users.Keys) {
        $issued[$user] = "$(& dotnet (Get-DevDbApiPath) tokens add --user $user --role $Users[$user] --file $tokens 2>$null)".Trim()
        if ($LASTEXITCODE -ne 0 -or -not $issued[$user]) { throw "DevDb.Api tokens add failed (exit code $LASTEXITCODE)." }
    }
    $api = [pscustomobject]@{
        Process = $null; Url = "http://127.0.0.1:$(Get-FreeTcpPort)"; Token = @($issued.Values)[0]; Tokens = $issued
        Log = $null; TokensFile = $tokens; HomePath = $HomePath; Environment = $Environment
    }
    Start-DevDbTestApiProcess $api
    $api
}

function Get-DevDbApiPath {
    $api = Join-Path $script:RepoRoot 'src/DevDb.Api/bin/Release/net10.0/DevDb.Api.dll'
    if (-not (Test-Path $api)) { throw "The API is not built ($api). Run: dotnet build DevDb.sln -c Release" }
    $api
}

# (Re)starts the API process of a Start-DevDbTestApi result on its address, home and tokens file, and
# waits until /readyz answers. Each start logs to a file of its own (.Log).
function Start-DevDbTestApiProcess($Api) {
    $Api.Log = Join-Path $Api.HomePath "api-$([datetime]::UtcNow.ToString('HHmmssfff')).log"
    $settings = @{ DEVDB__HOME = $Api.HomePath; DEVDB__TOKENSFILE = $Api.TokensFile } + $Api.Environment
    $saved = @{}
    foreach ($name in $settings.Keys) {
        $saved[$name] = [Environment]::GetEnvironmentVariable($name)
        [Environment]::SetEnvironmentVariable($name, $settings[$name])
    }
    try {
        $Api.Process = Start-Process dotnet -ArgumentList (Get-DevDbApiPath), '--urls', $Api.Url -PassThru `
            -RedirectStandardOutput $Api.Log -RedirectStandardError "$($Api.Log).err"
    }
    finally {
        # [NullString]: PowerShell would pass $null as '', leaving an empty setting the next API cannot read.
        foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, ($null -eq $saved[$name] ? [NullString]::Value : $saved[$name])) }
    }
    $deadline = [datetime]::UtcNow.AddSeconds(60)
    while ($true) {
        try {
            $null = Invoke-RestMethod "$($Api.Url)/readyz" -TimeoutSec 2
            return
        }
        catch {
            if ($Api.Process.HasExited -or [datetime]::UtcNow -gt $deadline) {
                $output = (Get-Content -Raw $Api.Log, "$($Api.Log).err" -ErrorAction SilentlyContinue) -join "`n"
                throw "DevDb.Api did not become ready at $($Api.Url). Its output:`n$output"
            }
            Start-Sleep -Milliseconds 100
        }
    }
}

# Stops the API the way a service manager does (SIGTERM: graceful shutdown), then waits for it.
function Stop-DevDbTestApi($Api) {
    if ($Api.Process.HasExited) { return }
    if ($IsWindows) { $Api.Process.Kill() } else { & kill -TERM $Api.Process.Id }
    if (-not $Api.Process.WaitForExit(30000)) { $Api.Process.Kill($true) }
}

# Starts the Kubernetes API-server double (tests/KubeApiDouble: not a cluster; it speaks the real REST
# protocol and emulates the controllers DevDb relies on) as a process on 127.0.0.1, and writes a
# kubeconfig for it. Returns the process, its address and the kubeconfig's path.
function Start-KubeApiDouble([string] $Folder) {
    $double = Join-Path $script:RepoRoot 'tests/KubeApiDouble/bin/Release/net10.0/KubeApiDouble.dll'
    if (-not (Test-Path $double)) { throw "The API-server double is not built ($double). Run: dotnet build DevDb.sln -c Release" }
    $null = New-Item -ItemType Directory -Force -Path $Folder
    $kubeconfig = Join-Path $Folder 'kubeconfig'
    $log = Join-Path $Folder 'double.log'
    $process = Start-Process dotnet -ArgumentList $double, '--kubeconfig', $kubeconfig, '--namespace', 'devdb' -PassThru `
        -RedirectStandardOutput $log -RedirectStandardError "$log.err"
    $deadline = [datetime]::UtcNow.AddSeconds(30)
    while (-not ((Get-Content -Raw $log -ErrorAction SilentlyContinue) -match 'listening (\S+)')) {
        if ($process.HasExited -or [datetime]::UtcNow -gt $deadline) {
            throw "The API-server double did not start: $((Get-Content -Raw $log, "$log.err" -ErrorAction SilentlyContinue) -join "`n")"
        }
        Start-Sleep -Milliseconds 100
    }
    [pscustomobject]@{ Process = $process; Url = $Matches[1]; Kubeconfig = $kubeconfig }
}

function Stop-KubeApiDouble($Double) {
    if ($Double.Process.HasExited) { return }
    if ($IsWindows) { $Double.Process.Kill() } else { & kill -TERM $Double.Process.Id }
    if (-not $Double.Process.WaitForExit(10000)) { $Double.Process.Kill($true) }
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

function Get-PlainPassword($Database) { $Database.GetCredential().GetNetworkCredential().Password }

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
