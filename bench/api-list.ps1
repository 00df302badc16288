<#
.SYNOPSIS
    Latency of GET /api/v1/databases with many databases recorded, against GET /healthz.
.DESCRIPTION
    Run through bench/api-list.sh, which installs and builds first. Starts the API as a real process
    (dotnet src/DevDb.Api/bin/Release/net10.0/DevDb.Api.dll) on 127.0.0.1 with a private DEVDB home,
    port range and tokens file (one admin, one developer), builds the project 'shop' from
    samples/shop.dump through it, and creates -Databases real databases (clones, each its own
    running server) in batches of -BatchSize; -DeveloperDatabases of them belong to the developer.
    Then it times, in a rotating order so drift hits all alike, -Requests calls of each:
      list_admin   GET /api/v1/databases as the admin (every database)
      list_dev     GET /api/v1/databases as the developer (only theirs)
      healthz      GET /healthz (the baseline: the same HTTP stack, no engine work)
    Each time covers sending the request and reading the whole body, over one keep-alive
    connection. Everything (databases, project, process, folders) is removed at the end, also on
    failure or Ctrl+C.
#>
[CmdletBinding()]
param(
    [ValidateRange(1, 1000)] [int] $Databases = 200,
    [ValidateRange(0, 1000)] [int] $DeveloperDatabases = 20,
    [ValidateRange(1, 100)] [int] $BatchSize = 10,
    [ValidateRange(10, 100000)] [int] $Requests = 500,
    [ValidateRange(0, 1000)] [int] $WarmupRequests = 30,
    [string] $WorkFolder = '/tmp'
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if ([Console]::IsOutputRedirected) { $PSStyle.OutputRendering = 'PlainText' }

$RepoRoot = Split-Path -Parent $PSScriptRoot
$ApiDll = Join-Path $RepoRoot 'src/DevDb.Api/bin/Release/net10.0/DevDb.Api.dll'
$DumpPath = Join-Path $RepoRoot 'samples/shop.dump'
$ResultsFolder = Join-Path $PSScriptRoot 'results'
$Invariant = [Globalization.CultureInfo]::InvariantCulture
$DeveloperDatabases = [Math]::Min($DeveloperDatabases, $Databases)

function Write-Step([string] $Text) { Write-Host "`n== $Text" -ForegroundColor Cyan }

function Get-Percentile([double[]] $Sorted, [double] $P) {
    # Nearest rank.
    $rank = [Math]::Max(1, [Math]::Ceiling($P / 100 * $Sorted.Count))
    $Sorted[$rank - 1]
}

function Invoke-Api([string] $Method, [string] $Path, [string] $Token, $Body) {
    $request = [Net.Http.HttpRequestMessage]::new([Net.Http.HttpMethod]::new($Method), $Path)
    if ($Token) { $request.Headers.Authorization = [Net.Http.Headers.AuthenticationHeaderValue]::new('Bearer', $Token) }
    if ($null -ne $Body) { $request.Content = [Net.Http.StringContent]::new(($Body | ConvertTo-Json -Compress), [Text.Encoding]::UTF8, 'application/json') }
    $response = $script:Http.SendAsync($request).GetAwaiter().GetResult()
    $text = $response.Content.ReadAsStringAsync().GetAwaiter().GetResult()
    if (-not $response.IsSuccessStatusCode) { throw "$Method $Path answered $([int]$response.StatusCode): $text" }
    if ($text) { $text | ConvertFrom-Json } else { $null }
}

function New-Token([string] $User, [string] $Role) {
    $token = & dotnet $ApiDll tokens add --user $User --role $Role --file $TokensFile 2>$null
    if ($LASTEXITCODE -ne 0) { throw "tokens add failed for $User." }
    "$token".Trim()
}

$TempRoot = Join-Path $WorkFolder ("devdb-bench-api-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
$DevDbHome = Join-Path $TempRoot 'home'
$TokensFile = Join-Path $TempRoot 'api-tokens.json'
$LogFile = Join-Path $TempRoot 'api.log'
$script:Http = $null
$Api = $null
$AdminToken = $null

try {
    if (-not (Test-Path -LiteralPath $ApiDll)) { throw "$ApiDll is missing: run bench/api-list.sh (it builds first)." }
    $null = New-Item -ItemType Directory -Path $TempRoot, $DevDbHome
    & chmod 755 $TempRoot $DevDbHome
    $firstPort = Get-Random -Minimum 40000 -Maximum (64000 - $Databases - 100)
    $portRange = "$firstPort-$($firstPort + $Databases + 49)"

    Write-Step 'Machine'
    [pscustomobject][ordered]@{
        'UTC time'                  = [datetime]::UtcNow.ToString('yyyy-MM-dd HH:mm:ss')
        'CPUs (nproc)'              = "$(& nproc)"
        'Load average (1/5/15 min)' = ((Get-Content /proc/loadavg) -split ' ')[0..2] -join ' '
        'DEVDB home'                = "$DevDbHome ($(& stat -f -c %T $DevDbHome))"
        'Database ports'            = $portRange
    } | Format-List

    $AdminToken = New-Token 'bench-admin' 'admin'
    $DeveloperToken = New-Token 'bench-dev' 'developer'

    Write-Step 'Starting the API process'
    $apiPort = & { $l = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0); $l.Start(); $p = $l.LocalEndpoint.Port; $l.Stop(); $p }
    $info = [Diagnostics.ProcessStartInfo]::new('bash')
    # The API's JSON log lines go to a file: the bench reads latency, not the console.
    $info.ArgumentList.Add('-c'); $info.ArgumentList.Add('exec dotnet "$0" --urls "$1" >"$2" 2>&1')
    $info.ArgumentList.Add($ApiDll); $info.ArgumentList.Add("http://127.0.0.1:$apiPort"); $info.ArgumentList.Add($LogFile)
    $info.Environment['DEVDB__HOME'] = $DevDbHome
    $info.Environment['DEVDB__TOKENSFILE'] = $TokensFile
    $info.Environment['DEVDB_PORT_RANGE'] = $portRange
    $Api = [Diagnostics.Process]::Start($info)
    $script:Http = [Net.Http.HttpClient]::new()
    $script:Http.BaseAddress = [uri]"http://127.0.0.1:$apiPort/"
    $script:Http.Timeout = [timespan]::FromMinutes(10)
    $deadline = [datetime]::UtcNow.AddSeconds(60)
    while ($true) {
        try { $null = Invoke-Api GET '/healthz'; break }
        catch { if ($Api.HasExited -or [datetime]::UtcNow -gt $deadline) { throw "The API did not start: $(Get-Content -Raw $LogFile)" }; Start-Sleep -Milliseconds 200 }
    }
    Write-Host "API: pid $($Api.Id), http://127.0.0.1:$apiPort"

    Write-Step "Project 'shop' and $Databases databases"
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $null = Invoke-Api POST 'api/v1/projects' $AdminToken @{ name = 'shop'; source = $DumpPath }
    while ((Invoke-Api GET 'api/v1/projects/shop' $AdminToken).status -eq 'Building') { Start-Sleep -Milliseconds 200 }
    if ((Invoke-Api GET 'api/v1/projects/shop' $AdminToken).status -ne 'Ready') { throw "The project did not build: $((Invoke-Api GET 'api/v1/projects/shop' $AdminToken).error)" }
    $imageSeconds = $clock.Elapsed.TotalSeconds
    $clock.Restart()
    for ($start = 0; $start -lt $Databases; $start += $BatchSize) {
        $names = @($start..([Math]::Min($start + $BatchSize, $Databases) - 1) | ForEach-Object { 'bench-{0:000}' -f $_ })
        foreach ($name in $names) {
            $token = if ([int]$name.Substring(6) -lt $DeveloperDatabases) { $DeveloperToken } else { $AdminToken }
            $null = Invoke-Api POST 'api/v1/databases' $token @{ project = 'shop'; name = $name }
        }
        while (@(Invoke-Api GET 'api/v1/databases' $AdminToken | Where-Object status -eq 'Creating').Count -gt 0) { Start-Sleep -Milliseconds 200 }
        Write-Host ("  {0} databases after {1:0.0} s" -f ($start + $names.Count), $clock.Elapsed.TotalSeconds)
    }
    $all = @(Invoke-Api GET 'api/v1/databases' $AdminToken)
    $notRunning = @($all | Where-Object status -ne 'Running')
    if ($all.Count -ne $Databases -or $notRunning.Count -gt 0) { throw "Expected $Databases running databases, have $($all.Count) ($($notRunning.Count) not running)." }
    $createSeconds = $clock.Elapsed.TotalSeconds
    Write-Host ("Image build {0:0.0} s; {1} databases created in {2:0.0} s ({3:0.00} s each, {4} at a time)" -f $imageSeconds, $Databases, $createSeconds, ($createSeconds / $Databases), $BatchSize)

    Write-Step "Timing: $WarmupRequests warm-up + $Requests requests per contender, rotating order"
    $contenders = @(
        @{ Name = 'list_admin'; Path = 'api/v1/databases'; Token = $AdminToken; Expect = $Databases }
        @{ Name = 'list_dev'; Path = 'api/v1/databases'; Token = $DeveloperToken; Expect = $DeveloperDatabases }
        @{ Name = 'healthz'; Path = 'healthz'; Token = $null; Expect = $null }
    )
    foreach ($c in $contenders | Where-Object { $null -ne $_.Expect }) {
        $count = @(Invoke-Api GET $c.Path $c.Token).Count
        if ($count -ne $c.Expect) { throw "$($c.Name) returned $count databases, expected $($c.Expect)." }
    }
    $times = @{}; foreach ($c in $contenders) { $times[$c.Name] = [Collections.Generic.List[double]]::new() }
    $watch = [Diagnostics.Stopwatch]::new()
    for ($i = 0; $i -lt $WarmupRequests + $Requests; $i++) {
        for ($k = 0; $k -lt $contenders.Count; $k++) {
            $c = $contenders[($i + $k) % $contenders.Count]
            $request = [Net.Http.HttpRequestMessage]::new([Net.Http.HttpMethod]::Get, $c.Path)
            if ($c.Token) { $request.Headers.Authorization = [Net.Http.Headers.AuthenticationHeaderValue]::new('Bearer', $c.Token) }
            $watch.Restart()
            $response = $script:Http.SendAsync($request).GetAwaiter().GetResult()
            $null = $response.Content.ReadAsByteArrayAsync().GetAwaiter().GetResult()
            $watch.Stop()
            if (-not $response.IsSuccessStatusCode) { throw "$($c.Name) answered $([int]$response.StatusCode)." }
            if ($i -ge $WarmupRequests) { $times[$c.Name].Add($watch.Elapsed.TotalMilliseconds) }
        }
    }

    Write-Step "Results (milliseconds, $Databases databases recorded)"
    $results = foreach ($c in $contenders) {
        $sorted = [double[]]($times[$c.Name] | Sort-Object)
        [pscustomobject][ordered]@{
            Contender = $c.Name
            Returned  = if ($null -ne $c.Expect) { "$($c.Expect) databases" } else { 'status' }
            Requests  = $sorted.Count
            P50       = [Math]::Round((Get-Percentile $sorted 50), 2)
            P95       = [Math]::Round((Get-Percentile $sorted 95), 2)
            P99       = [Math]::Round((Get-Percentile $sorted 99), 2)
            Mean      = [Math]::Round(($sorted | Measure-Object -Average).Average, 2)
            Min       = [Math]::Round($sorted[0], 2)
            Max       = [Math]::Round($sorted[-1], 2)
        }
    }
    $results | Format-Table -AutoSize | Out-Host
    $null = New-Item -ItemType Directory -Force -Path $ResultsFolder
    $stamp = [datetime]::UtcNow.ToString('yyyyMMdd-HHmmss')
    $csv = Join-Path $ResultsFolder "api-list-$stamp.csv"
    $results | Export-Csv -NoTypeInformation -Path $csv
    Write-Host "Saved $csv"
}
finally {
    Write-Step 'Cleaning up'
    if ($Api -and -not $Api.HasExited -and $AdminToken -and $script:Http) {
        try {
            # Removing the project with force removes every database (and its server) first.
            $request = [Net.Http.HttpRequestMessage]::new([Net.Http.HttpMethod]::Delete, 'api/v1/projects/shop?force=true')
            $request.Headers.Authorization = [Net.Http.Headers.AuthenticationHeaderValue]::new('Bearer', $AdminToken)
            $null = $script:Http.SendAsync($request).GetAwaiter().GetResult()
        }
        catch { Write-Warning "Removing the project failed: $_" }
    }
    if ($Api -and -not $Api.HasExited) {
        & kill -TERM $Api.Id
        if (-not $Api.WaitForExit(60000)) { $Api.Kill($true) }
    }
    if ($script:Http) { $script:Http.Dispose() }
    $left = @(Get-Process postgres -ErrorAction Ignore | Where-Object { (Get-Content -Raw "/proc/$($_.Id)/cmdline" -ErrorAction Ignore) -like "*$TempRoot*" })
    if ($left.Count -gt 0) { Write-Warning "$($left.Count) postgres processes of the bench are still running; stopping them."; $left | Stop-Process -Force }
    if (Test-Path -LiteralPath $TempRoot) { Remove-Item -Recurse -Force -LiteralPath $TempRoot }
}
