# Connect-DevDb -Kubernetes: the cmdlets run the engine in this process against DevDb's records in a
# namespace, with a kubeconfig, while a real DevDb.Api process (DevDb:Runtime=Kubernetes) runs the
# reconcile loop. Both talk to the Kubernetes API-server double on 127.0.0.1 (tests/KubeApiDouble): it
# speaks the real REST protocol and emulates the controllers (StatefulSets, Jobs, snapshots, a kubelet
# that marks pods Ready), but it is not a cluster: no Postgres runs, so no query is made here.
# run.ps1 runs this file once.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-DevDbModule
    $testHome = New-DevDbTestHome
    $double = Start-KubeApiDouble (Join-Path $testHome 'double')
    $api = Start-DevDbTestApi -HomePath (Join-Path $testHome 'api') -Users ([ordered]@{ boss = 'admin'; dave = 'developer' }) -Environment @{
        KUBECONFIG                                              = $double.Kubeconfig
        DevDb__Runtime                                          = 'Kubernetes'
        DevDb__Kubernetes__Namespace                            = 'devdb'
        DevDb__Kubernetes__BaseDomain                           = 'db.example.test'
        DevDb__Kubernetes__Traefik__Enabled                     = 'true'
        DevDb__Kubernetes__ResyncInterval                       = '00:00:00.5'
        DevDb__Kubernetes__LeaderElection__LeaseDuration        = '00:00:02'
        DevDb__Kubernetes__LeaderElection__RenewDeadline        = '00:00:01.5'
        DevDb__Kubernetes__LeaderElection__RetryPeriod          = '00:00:00.2'
    }
    $savedKubeconfig = $env:KUBECONFIG
    $env:KUBECONFIG = $double.Kubeconfig
    function ConvertTo-Secure([string] $Text) { ConvertTo-SecureString $Text -AsPlainText -Force }
}

AfterAll {
    # The processes stop whatever failed before (a failed connect is a terminating error).
    try {
        Connect-DevDb -Kubernetes -Namespace devdb | Out-Null
        Get-DevDbProject | Remove-DevDbProject -IncludeDatabases -Force -ErrorAction Continue
    }
    finally {
        Connect-DevDb -Local | Out-Null
        $env:KUBECONFIG = $savedKubeconfig
        Stop-DevDbTestApi $api
        Stop-KubeApiDouble $double
        Clear-DevDbTestHome
    }
}

Describe 'Connect-DevDb -Kubernetes' {
    It 'connects to the namespace with the kubeconfig and keeps no token' {
        $context = Connect-DevDb -Kubernetes -Namespace devdb

        $context.Mode | Should -Be 'Kubernetes'
        $context.Server | Should -Be '(current kubeconfig context)/devdb'
        $context.TokenStore | Should -Be 'Kubeconfig'
        (Get-DevDbContext).Name | Should -Be $context.Name
        @(Get-ChildItem (Join-Path $env:DEVDB_CONFIG 'tokens') -File -ErrorAction SilentlyContinue).Count | Should -Be 0
    }

    It 'says with -Verbose that the cmdlets go to the namespace with the kubeconfig' {
        $verbose = @(Get-DevDbProject -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        $verbose[0] | Should -Be "Using Kubernetes: kubeconfig context (current), namespace devdb, with the kubeconfig's credentials (context 'kubernetes/devdb')."
    }

    It 'names a kubeconfig context that does not exist (ContextNotFound)' {
        { Connect-DevDb -Kubernetes -Context nowhere -ErrorAction Stop } |
            Should -Throw -ErrorId 'ContextNotFound,DevDb.Commands.ConnectDevDbCommand'
    }

    It 'says when the API server cannot be reached (ServerUnreachable)' {
        $dead = Join-Path $TestDrive 'dead-kubeconfig'
        (Get-Content -Raw $double.Kubeconfig) -replace [regex]::Escape($double.Url.TrimEnd('/')), "http://127.0.0.1:$(Get-FreeTcpPort)" |
            Set-Content $dead
        $env:KUBECONFIG = $dead
        try {
            { Connect-DevDb -Kubernetes -Namespace devdb -ErrorAction Stop } |
                Should -Throw -ErrorId 'ServerUnreachable,DevDb.Commands.ConnectDevDbCommand'
        }
        finally { $env:KUBECONFIG = $double.Kubeconfig }
        (Get-DevDbContext).Mode | Should -Be 'Kubernetes'
    }
}

Describe 'A project and a database in the cluster, from PowerShell' {
    BeforeAll { Connect-DevDb -Kubernetes -Namespace devdb | Out-Null }

    It 'creates a project: the API reconciler restores it with a Job and snapshots the volume' {
        $project = New-DevDbProject -Name shop -Source 's3://dumps/shop.dump' -PostgresVersion 16

        $project.Status | Should -Be 'Ready'
        @($project.Images).Count | Should -Be 1
        $project.Images[0].Revision | Should -Be 1
        (Get-DevDbProject -Name shop).Source | Should -Be 's3://dumps/shop.dump'
    }

    It 'refuses a path on this machine as a source (SourceInvalid) and records nothing' {
        { New-DevDbProject -Name local -Source (Join-Path $TestDrive 'shop.dump') -ErrorAction Stop } |
            Should -Throw -ErrorId 'SourceInvalid,DevDb.Commands.NewDevDbProjectCommand'
        @(Get-DevDbProject).Name | Should -Be @('shop')
    }

    It 'creates a database reachable at its own host name under the base domain, port 5432, with a password no default view shows' {
        $database = New-DevDbDatabase -Project shop -Name dave-shop

        $database.Status | Should -Be 'Running'
        $database.Host | Should -Be 'dave-shop.db.example.test'
        $database.Port | Should -Be 5432
        $database.Owner | Should -Be ([Environment]::UserName)
        $password = Get-PlainPassword $database
        $password.Length | Should -Be 32
        ($database | Out-String) | Should -Not -Match ([regex]::Escape($password))
        Get-DevDbConnectionString -Name dave-shop -Format Uri | Should -BeLike "postgresql://dave-shop:*@dave-shop.db.example.test:5432/app*"
    }

    It 'shows the same records through the DevDb API as through the kubeconfig' {
        Connect-DevDb -Server $api.Url -Token (ConvertTo-Secure $api.Tokens['boss']) -Name boss | Out-Null
        try {
            $database = Get-DevDbDatabase -Name dave-shop
            $database.Host | Should -Be 'dave-shop.db.example.test'
            (Get-DevDbProject -Name shop).Status | Should -Be 'Ready'
        }
        finally { Connect-DevDb -Kubernetes -Namespace devdb | Out-Null }
    }

    It 'stops, starts and resets it, keeping its password' {
        $password = Get-PlainPassword (Get-DevDbDatabase -Name dave-shop)

        (Stop-DevDbDatabase -Name dave-shop -PassThru).Status | Should -Be 'Stopped'
        (Start-DevDbDatabase -Name dave-shop -PassThru).Status | Should -Be 'Running'
        Update-DevDbProject -Name shop | Out-Null
        $reset = Reset-DevDbDatabase -Name dave-shop -Confirm:$false

        $reset.ImageRevision | Should -Be 2
        Get-PlainPassword (Get-DevDbDatabase -Name dave-shop) | Should -Be $password
    }

    It 'builds an image with -NoWait, waits for it with Wait-DevDbProject, and removes the project with its databases only with -IncludeDatabases' {
        $started = New-DevDbProject -Name later -Source 's3://dumps/shop.dump' -PostgresVersion 16 -NoWait
        $started.Status | Should -Be 'Building'
        $ready = Wait-DevDbProject -Name later -Timeout 120
        $ready.Status | Should -Be 'Ready'
        $ready.ImageRevision | Should -Be 1

        $null = Get-DevDbProject later | New-DevDbDatabase -Name later-db
        { Remove-DevDbProject -Name later -Force -ErrorAction Stop } | Should -Throw -ErrorId 'ProjectHasDatabases,DevDb.Commands.RemoveDevDbProjectCommand'
        Remove-DevDbProject -Name later -IncludeDatabases -Force
        @(Get-DevDbProject).Name | Should -Be @('shop')
        { Get-DevDbDatabase -Name later-db -ErrorAction Stop } | Should -Throw -ErrorId 'DatabaseNotFound,DevDb.Commands.GetDevDbDatabaseCommand'
    }

    It 'removes databases from the pipeline, then the project' {
        Get-DevDbDatabase -Project shop | Remove-DevDbDatabase -Confirm:$false
        Remove-DevDbProject -Name shop -Confirm:$false

        @(Get-DevDbDatabase).Count | Should -Be 0
        { Get-DevDbProject -Name shop -ErrorAction Stop } | Should -Throw -ErrorId 'ProjectNotFound,DevDb.Commands.GetDevDbProjectCommand'
    }

    It 'is forgotten by Disconnect-DevDb like any context, and the cmdlets use the local engine again' {
        $name = (Get-DevDbContext).Name
        Disconnect-DevDb -Name $name -Confirm:$false

        (Get-DevDbContext).Mode | Should -Be 'Local'
        @(Get-DevDbContext -ListAvailable).Name | Should -Not -Contain $name
        Connect-DevDb -Kubernetes -Namespace devdb | Out-Null
    }
}
