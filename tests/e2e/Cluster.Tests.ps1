# DevDb on a REAL cluster, through Connect-DevDb -Kubernetes (the cmdlets write the records; the installed API's
# reconciler does the work). Run by scripts/e2e-cluster.sh after it installed the chart; never by scripts/test.sh.
# IT HAS NEVER RUN WHERE DEVDB IS BUILT (no cluster can run there). Needs kubectl and psql on PATH.
# Environment: DEVDB_E2E_NAMESPACE, DEVDB_E2E_SOURCE, DEVDB_E2E_CONTEXT (optional), DEVDB_E2E_POSTGRES_VERSION.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../DevDb.psd1') -Force
    $namespace = $env:DEVDB_E2E_NAMESPACE
    $connect = @{ Kubernetes = $true; Namespace = $namespace }
    if ($env:DEVDB_E2E_CONTEXT) { $connect.Context = $env:DEVDB_E2E_CONTEXT }
    Connect-DevDb @connect | Out-Null
    $kubectl = @(if ($env:DEVDB_E2E_CONTEXT) { '--context', $env:DEVDB_E2E_CONTEXT }) + @('-n', $namespace)

    # A query as the database's own login, through kubectl port-forward to its Service (no router needed).
    function Invoke-DatabaseQuery([string] $Name, [string] $Sql) {
        $db = Get-DevDbDatabase $Name
        $port = Get-Random -Minimum 57000 -Maximum 57999
        $forward = Start-Process kubectl -ArgumentList ($kubectl + @('port-forward', "service/devdb-db-$Name", "${port}:5432")) -PassThru
        try {
            $env:PGPASSWORD = $db.Credential.GetNetworkCredential().Password
            $deadline = [datetime]::UtcNow.AddSeconds(30)
            do {
                $out = & psql -h 127.0.0.1 -p $port -U $db.Username -d $db.DatabaseName -X -A -t -c $Sql 2>&1
                if ($LASTEXITCODE -eq 0) { return ($out | Out-String).Trim() }
                Start-Sleep -Milliseconds 500
            } while ([datetime]::UtcNow -lt $deadline)
            throw "psql failed: $out"
        }
        finally {
            Remove-Item Env:PGPASSWORD -ErrorAction SilentlyContinue
            Stop-Process -Id $forward.Id -ErrorAction SilentlyContinue
        }
    }
}

AfterAll {
    Get-DevDbProject -ErrorAction SilentlyContinue | Remove-DevDbProject -Force -ErrorAction Continue
    Connect-DevDb -Local | Out-Null
}

Describe 'DevDb on a real cluster' {
    It 'builds an image from the source' {
        $project = New-DevDbProject -Name e2e -Source $env:DEVDB_E2E_SOURCE -PostgresVersion ([int] $env:DEVDB_E2E_POSTGRES_VERSION)
        $project.Status | Should -Be 'Ready'
        @($project.Images).Count | Should -Be 1
    }

    It 'clones a database that its login can query' {
        $db = New-DevDbDatabase -Project e2e -Name e2e-dave
        $db.Status | Should -Be 'Running'
        Invoke-DatabaseQuery e2e-dave 'SELECT 1' | Should -Be '1'
        Invoke-DatabaseQuery e2e-dave 'CREATE TABLE e2e_marker (id int); SELECT 2' | Should -Be '2'
    }

    It 'stops and starts with its data kept' {
        (Stop-DevDbDatabase e2e-dave -PassThru).Status | Should -Be 'Stopped'
        (Start-DevDbDatabase e2e-dave -PassThru).Status | Should -Be 'Running'
        Invoke-DatabaseQuery e2e-dave "SELECT count(*) FROM pg_tables WHERE tablename = 'e2e_marker'" | Should -Be '1'
    }

    It 'resets to the image with the same password' {
        $before = (Get-DevDbDatabase e2e-dave).Credential.GetNetworkCredential().Password
        (Reset-DevDbDatabase e2e-dave -Force).Status | Should -Be 'Running'
        (Get-DevDbDatabase e2e-dave).Credential.GetNetworkCredential().Password | Should -Be $before
        Invoke-DatabaseQuery e2e-dave "SELECT count(*) FROM pg_tables WHERE tablename = 'e2e_marker'" | Should -Be '0'
    }

    It 'removes the database and leaves none of its objects' {
        Remove-DevDbDatabase e2e-dave -Force
        $deadline = [datetime]::UtcNow.AddMinutes(2)
        do { $left = & kubectl @kubectl get statefulsets,services,secrets,persistentvolumeclaims -l devdb.io/database=e2e-dave -o name 2>$null; Start-Sleep 1 }
        while ($left -and [datetime]::UtcNow -lt $deadline)
        $left | Should -BeNullOrEmpty
    }
}
