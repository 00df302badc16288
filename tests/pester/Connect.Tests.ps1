# Connect-DevDb, Get-DevDbContext and Disconnect-DevDb against a real DevDb.Api process on 127.0.0.1,
# with one admin and two developer tokens: who sees and changes what, where tokens are kept, and how
# a wrong token, a plain-http address or a dead server is reported. run.ps1 runs this file once.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-DevDbModule
    $repo = Get-RepoRoot
    $testHome = New-DevDbTestHome
    $api = Start-DevDbTestApi -HomePath (Join-Path $testHome 'api') -Users ([ordered]@{ boss = 'admin'; dave = 'developer'; erin = 'developer' })
    function ConvertTo-Secure([string] $Text) { ConvertTo-SecureString $Text -AsPlainText -Force }
    function Connect-As([string] $User) { Connect-DevDb -Server $api.Url -Token (ConvertTo-Secure $api.Tokens[$User]) -Name $User }
}

AfterAll {
    # The API stops whatever failed before (a failed connect is a terminating error).
    try {
        Connect-As boss | Out-Null
        Get-DevDbProject | Remove-DevDbProject -IncludeDatabases -Force -ErrorAction Continue
    }
    finally {
        Stop-DevDbTestApi $api
        Connect-DevDb -Local | Out-Null
        Clear-DevDbTestHome
    }
}

Describe 'Connecting' {
    It 'uses the local engine until told otherwise' {
        $context = Get-DevDbContext
        $context.Mode | Should -Be 'Local'
        $context.Name | Should -Be 'local'
    }

    It 'connects with a token and shows the user and role the server gives it' {
        $context = Connect-As boss
        $context.PSObject.TypeNames[0] | Should -Be 'DevDb.Commands.DevDbContext'
        $context.Mode | Should -Be 'Server'
        $context.User | Should -Be 'boss'
        $context.Role | Should -Be 'admin'
        $context.IsCurrent | Should -BeTrue
        (Get-DevDbContext).Name | Should -Be 'boss'
    }

    It 'takes the token as the password of a -Credential too' {
        $credential = [pscredential]::new('ignored', (ConvertTo-Secure $api.Tokens['dave']))
        (Connect-DevDb -Server $api.Url -Credential $credential -Name dave).User | Should -Be 'dave'
        (Connect-As boss).User | Should -Be 'boss'
    }

    It 'refuses a token the server does not know (Unauthenticated) and stays on the current context' {
        { Connect-DevDb -Server $api.Url -Token (ConvertTo-Secure 'not-a-token') -Name bad -ErrorAction Stop } |
            Should -Throw -ErrorId 'Unauthenticated,DevDb.Commands.ConnectDevDbCommand'
        (Get-DevDbContext).Name | Should -Be 'boss'
        @(Get-DevDbContext -ListAvailable).Name | Should -Not -Contain 'bad'
    }

    It 'refuses to send a token over plain http to another machine (InsecureConnection)' {
        { Connect-DevDb -Server 'http://devdb.example.com' -Token (ConvertTo-Secure 'x') -ErrorAction Stop } |
            Should -Throw -ErrorId 'InsecureConnection,DevDb.Commands.ConnectDevDbCommand'
    }

    It 'sends it when -AllowUnencryptedAuthentication says so (here the host then cannot be reached)' {
        { Connect-DevDb -Server 'http://devdb.invalid' -Token (ConvertTo-Secure 'x') -AllowUnencryptedAuthentication -ErrorAction Stop } |
            Should -Throw -ErrorId 'ServerUnreachable,DevDb.Commands.ConnectDevDbCommand'
    }

    It 'reports a server that is not running as ServerUnreachable' {
        { Connect-DevDb -Server "http://127.0.0.1:$(Get-FreeTcpPort)" -Token (ConvertTo-Secure 'x') -ErrorAction Stop } |
            Should -Throw -ErrorId 'ServerUnreachable,DevDb.Commands.ConnectDevDbCommand'
    }

    It 'keeps tokens out of the contexts file, each in a file only its owner can read' {
        $contexts = Get-Content -Raw (Join-Path $env:DEVDB_CONFIG 'contexts.json')
        foreach ($token in $api.Tokens.Values) { $contexts | Should -Not -Match ([regex]::Escape($token)) }
        $tokenFiles = @(Get-ChildItem (Join-Path $env:DEVDB_CONFIG 'tokens'))
        $tokenFiles.Count | Should -Be 2 -Because 'boss and dave are saved (bad was refused)'
        foreach ($file in $tokenFiles) {
            if (-not $IsWindows) { $file.UnixFileMode | Should -Be ([System.IO.UnixFileMode] 'UserRead, UserWrite') }
        }
    }

    It 'writes every file of the client settings (contexts, tokens) for its owner alone' {
        if ($IsWindows) { return }   # Windows: the files are in the user's own profile; tokens are DPAPI-encrypted too
        $config = Get-Item -LiteralPath $env:DEVDB_CONFIG
        $config.UnixFileMode | Should -Be ([System.IO.UnixFileMode] 'UserRead, UserWrite, UserExecute')
        $entries = @(Get-ChildItem -LiteralPath $env:DEVDB_CONFIG -Recurse -Force)
        @($entries | Where-Object Name -eq 'contexts.json').Count | Should -Be 1
        foreach ($entry in $entries) {
            $expected = if ($entry.PSIsContainer) { 'UserRead, UserWrite, UserExecute' } else { 'UserRead, UserWrite' }
            $entry.UnixFileMode | Should -Be ([System.IO.UnixFileMode] $expected) -Because "$($entry.FullName) holds client settings"
        }
    }

    It 'completes saved context names for Disconnect-DevDb -Name' {
        $line = 'Disconnect-DevDb -Name '
        @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Sort-Object) | Should -Be @('boss', 'dave')
        $line = 'Disconnect-DevDb -Name B'
        @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText) | Should -Be @('boss')
    }

    It 'says with -Verbose which server it checks the token with, and where it saved the context' {
        $verbose = @(Connect-DevDb -Server $api.Url -Token (ConvertTo-Secure $api.Tokens['boss']) -Name boss -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message
        $verbose | Should -Contain "Checking the token with $($api.Url)/."
        $verbose | Should -Contain "Saved context 'boss' (boss, admin) in $($env:DEVDB_CONFIG); it is current."
    }

    It 'never shows a token in the default view of the contexts' {
        $shown = Get-DevDbContext -ListAvailable | Out-String
        $shown | Should -Match 'boss'
        foreach ($token in $api.Tokens.Values) { $shown | Should -Not -Match ([regex]::Escape($token)) }
    }
}

Describe 'Roles and ownership' {
    BeforeAll {
        Connect-As boss | Out-Null
        $null = New-DevDbProject -Name shop -Source (Join-Path $repo 'samples/shop.dump')
        Connect-As dave | Out-Null
        $script:daveDb = New-DevDbDatabase -Project shop -Name dave-db
        Connect-As erin | Out-Null
        $script:erinDb = New-DevDbDatabase -Project shop -Name erin-db
    }
    AfterAll {
        Connect-As boss | Out-Null
        Remove-DevDbTestItem -Project shop
    }

    It 'makes a developer the owner of what they create' {
        $daveDb.Owner | Should -Be 'dave'
        $erinDb.Owner | Should -Be 'erin'
        (Invoke-DatabaseSql $erinDb 'SELECT count(*) FROM customers').Output | Should -Be '1000'
    }

    It 'lists only a developer''s own databases' {
        @(Get-DevDbDatabase).Name | Should -Be @('erin-db')
    }

    It 'refuses a developer another''s database (Forbidden) for <Command>' -ForEach @(
        @{ Command = 'Get-DevDbDatabase'; Id = 'GetDevDbDatabaseCommand' }
        @{ Command = 'Get-DevDbConnectionString'; Id = 'GetDevDbConnectionStringCommand' }
        @{ Command = 'Stop-DevDbDatabase'; Id = 'StopDevDbDatabaseCommand' }
        @{ Command = 'Reset-DevDbDatabase'; Id = 'ResetDevDbDatabaseCommand' }
        @{ Command = 'Remove-DevDbDatabase'; Id = 'RemoveDevDbDatabaseCommand' }
    ) {
        $parameters = @{ Name = 'dave-db'; ErrorAction = 'Stop' }
        if ($Command -match '^(Stop|Reset|Remove)') { $parameters.Confirm = $false }
        { & $Command @parameters } | Should -Throw -ErrorId "Forbidden,DevDb.Commands.$Id"
    }

    It 'refuses a developer a database for someone else, and project changes (Forbidden)' {
        { New-DevDbDatabase -Project shop -Name for-dave -Owner dave -ErrorAction Stop } |
            Should -Throw -ErrorId 'Forbidden,DevDb.Commands.NewDevDbDatabaseCommand'
        { New-DevDbProject -Name other -Source (Join-Path $repo 'samples/shop.dump') -ErrorAction Stop } |
            Should -Throw -ErrorId 'Forbidden,DevDb.Commands.NewDevDbProjectCommand'
        { Remove-DevDbProject -Name shop -Force -ErrorAction Stop } |
            Should -Throw -ErrorId 'Forbidden,DevDb.Commands.RemoveDevDbProjectCommand'
    }

    It 'leaves dave''s database running and untouched' {
        Connect-As dave | Out-Null
        (Get-DevDbDatabase -Name dave-db).Status | Should -Be 'Running'
        (Invoke-DatabaseSql $daveDb 'SELECT 1').Output | Should -Be '1'
    }

    It 'lets an admin see every database and create one for someone else' {
        Connect-As boss | Out-Null
        @(Get-DevDbDatabase).Name | Sort-Object | Should -Be @('dave-db', 'erin-db')
        (New-DevDbDatabase -Project shop -Name for-erin -Owner erin).Owner | Should -Be 'erin'
        Remove-DevDbDatabase -Name for-erin -Force
    }

    It 'keeps the databases running and their passwords across a restart of the API' {
        Stop-DevDbTestApi $api
        (Invoke-DatabaseSql $daveDb 'SELECT 1').Output | Should -Be '1' -Because 'database servers do not depend on the API process'
        Start-DevDbTestApiProcess $api
        $again = Get-DevDbDatabase -Name dave-db
        $again.Status | Should -Be 'Running'
        $again.Port | Should -Be $daveDb.Port
        Get-PlainPassword $again | Should -Be (Get-PlainPassword $daveDb)
    }

    It 'keeps tokens and database passwords out of the API''s logs' {
        $log = (Get-ChildItem -LiteralPath $api.HomePath -Filter 'api-*.log*' | Get-Content -Raw) -join "`n"
        $log | Should -Not -BeNullOrEmpty
        foreach ($token in $api.Tokens.Values) { $log | Should -Not -Match ([regex]::Escape($token)) }
        $log | Should -Not -Match ([regex]::Escape((Get-PlainPassword $daveDb)))
        $log | Should -Not -Match ([regex]::Escape((Get-PlainPassword $erinDb)))
    }
}

Describe 'Switching and forgetting' {
    # Its own saved contexts (boss current, erin saved) and a database of erin's, whatever 'Roles and ownership' left.
    BeforeAll {
        Connect-As boss | Out-Null
        $null = New-DevDbProject -Name shop -Source (Join-Path $repo 'samples/shop.dump')
        Connect-As erin | Out-Null
        $null = New-DevDbDatabase -Project shop -Name erin-db
        Connect-As boss | Out-Null
    }
    AfterAll {
        Connect-As boss | Out-Null
        Remove-DevDbTestItem -Project shop
        Connect-DevDb -Local | Out-Null
    }

    It 'lists the local engine and every saved context with -ListAvailable, marking the current one' {
        $all = @(Get-DevDbContext -ListAvailable)
        $all.Name | Should -Contain 'local'
        $all.Name | Should -Contain 'boss'
        $all.Name | Should -Contain 'erin'
        @($all | Where-Object IsCurrent).Name | Should -Be @('boss')
    }

    It 'lets DEVDB_SERVER and DEVDB_TOKEN win over the saved context (CI jobs)' {
        $env:DEVDB_SERVER = $api.Url
        $env:DEVDB_TOKEN = $api.Tokens['erin']
        try {
            $context = Get-DevDbContext
            $context.Name | Should -Be '(environment)'
            @(Get-DevDbDatabase).Name | Should -Be @('erin-db')
        }
        finally {
            Remove-Item Env:DEVDB_SERVER, Env:DEVDB_TOKEN
        }
        (Get-DevDbContext).Name | Should -Be 'boss'
    }

    It 'reports a DEVDB_SERVER that is down as ServerUnreachable, and one that is no address as ServerAddressInvalid' {
        $env:DEVDB_TOKEN = 'x'
        try {
            $env:DEVDB_SERVER = "http://127.0.0.1:$(Get-FreeTcpPort)"
            { Get-DevDbProject -ErrorAction Stop } | Should -Throw -ErrorId 'ServerUnreachable,DevDb.Commands.GetDevDbProjectCommand'
            { Get-DevDbDatabase -Name dave-db -ErrorAction Stop } | Should -Throw -ErrorId 'ServerUnreachable,DevDb.Commands.GetDevDbDatabaseCommand'
            $env:DEVDB_SERVER = 'not an address'
            { Get-DevDbProject -ErrorAction Stop } | Should -Throw -ErrorId 'ServerAddressInvalid,DevDb.Commands.GetDevDbProjectCommand'
        }
        finally {
            Remove-Item Env:DEVDB_SERVER, Env:DEVDB_TOKEN
        }
    }

    It 'goes back to the local engine with Connect-DevDb -Local, keeping the saved contexts' {
        (Connect-DevDb -Local).Mode | Should -Be 'Local'
        (Get-DevDbContext).Mode | Should -Be 'Local'
        Get-DevDbDatabase | Should -BeNullOrEmpty -Because 'the local engine has its own, empty state'
        @(Get-DevDbContext -ListAvailable).Name | Should -Contain 'boss'
    }

    It 'forgets a context and its token with Disconnect-DevDb' {
        $tokensBefore = @(Get-ChildItem (Join-Path $env:DEVDB_CONFIG 'tokens')).Count
        Disconnect-DevDb -Name erin
        @(Get-DevDbContext -ListAvailable).Name | Should -Not -Contain 'erin'
        @(Get-ChildItem (Join-Path $env:DEVDB_CONFIG 'tokens')).Count | Should -Be ($tokensBefore - 1)
    }

    It 'goes local when the current context is forgotten' {
        Connect-As dave | Out-Null
        Disconnect-DevDb
        (Get-DevDbContext).Mode | Should -Be 'Local'
        @(Get-DevDbContext -ListAvailable).Name | Should -Not -Contain 'dave'
    }

    It 'reports an unknown context as ContextNotFound' {
        { Disconnect-DevDb -Name nope -ErrorAction Stop } | Should -Throw -ErrorId 'ContextNotFound,DevDb.Commands.DisconnectDevDbCommand'
    }
}
