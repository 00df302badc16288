# The user's whole journey against the real engine: projects from samples/shop.dump, databases on real
# Postgres servers, connections through psql and Npgsql. The Its run in order and build on each other.
# run.ps1 runs this file twice: with the embedded engine, and connected to a real DevDb.Api process.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-DevDbModule
    $repo = Get-RepoRoot
    $dump = Join-Path $repo 'samples/shop.dump'
    New-DevDbTestHome | Out-Null
}

AfterAll {
    Clear-DevDbTestHome
}

Describe 'Projects' {
    It 'creates a project from the sample dump, ready with image revision 1' {
        $project = New-DevDbProject -Name shop -Source $dump
        $project.PSObject.TypeNames[0] | Should -Be 'DevDb.Commands.DevDbProject'
        $project.Name | Should -Be 'shop'
        $project.Status | Should -Be 'Ready'
        $project.ImageRevision | Should -Be 1
        $project.DatabaseName | Should -Be 'app'
        $project.Source | Should -Be $dump
        @($project.Images).Count | Should -Be 1
    }

    It 'resolves a relative -Source against the current PowerShell location' {
        Push-Location (Join-Path $repo 'samples')
        try {
            $project = New-DevDbProject -Name shop-eu -Source ./shop.dump
        }
        finally {
            Pop-Location
        }
        $project.Status | Should -Be 'Ready'
        $project.Source | Should -Be $dump
    }

    It 'finds projects by wildcard' {
        @(Get-DevDbProject -Name 'shop*').Name | Sort-Object | Should -Be @('shop', 'shop-eu')
        @(Get-DevDbProject -Name 'sh?p').Name | Should -Be @('shop')
        @(Get-DevDbProject).Count | Should -Be 2
        Get-DevDbProject -Name 'zz*' -ErrorAction Stop | Should -BeNullOrEmpty
    }

    It 'reports a missing source file as SourceNotFound and records nothing' {
        { New-DevDbProject -Name missing -Source (Join-Path $TestDrive 'nope.dump') -ErrorAction Stop } |
            Should -Throw -ErrorId 'SourceNotFound,DevDb.Commands.NewDevDbProjectCommand'
        $Error[0].ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
        Get-DevDbProject -Name missing -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'reports a missing project as ProjectNotFound' {
        { Get-DevDbProject -Name nope -ErrorAction Stop } | Should -Throw -ErrorId 'ProjectNotFound,DevDb.Commands.GetDevDbProjectCommand'
        { New-DevDbDatabase -Project nope -Name erin -ErrorAction Stop } | Should -Throw -ErrorId 'ProjectNotFound,DevDb.Commands.NewDevDbDatabaseCommand'
    }

    It 'completes project names with Tab' {
        $line = 'New-DevDbDatabase -Project sh'
        @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText) |
            Should -Be @('shop', 'shop-eu')
    }
}

Describe 'Databases' {
    It 'creates a running database on image revision 1, owned by the current user (the token''s user on a server)' {
        $script:db = New-DevDbDatabase -Project shop -Name dave
        $db.PSObject.TypeNames[0] | Should -Be 'DevDb.Commands.DevDbDatabase'
        $db.Name | Should -Be 'dave'
        $db.Project | Should -Be 'shop'
        $db.Status | Should -Be 'Running'
        $db.ImageRevision | Should -Be 1
        $db.Owner | Should -Be (Get-TestUser)
        $db.Host | Should -Be '127.0.0.1'
        $db.Port | Should -BeGreaterThan 0
        @(Get-DevDbServerProcess).Count | Should -BeGreaterThan 0
        $db.DatabaseName | Should -Be 'app'
        $db.Credential | Should -BeOfType [pscredential]
        $db.Credential.UserName | Should -Be $db.Username
        $script:password = Get-PlainPassword $db
        $password.Length | Should -BeGreaterOrEqual 16
    }

    It 'holds the password only inside the credential' {
        foreach ($property in $db.PSObject.Properties) {
            "$($property.Value)" | Should -Not -BeLike "*$password*" -Because "$($property.Name) must not show the password"
        }
    }

    It 'connects with the returned object through Npgsql and reads the sample rows' {
        $builder = [System.Data.Common.DbConnectionStringBuilder]::new()
        $builder['Host'] = $db.Host
        $builder['Port'] = $db.Port
        $builder['Database'] = $db.DatabaseName
        $builder['Username'] = $db.Credential.UserName
        $builder['Password'] = $db.Credential.GetNetworkCredential().Password
        Invoke-NpgsqlScalar $builder.ConnectionString 'SELECT count(*) FROM customers' | Should -Be 1000
    }

    It 'has loaded Npgsql into the DevDb load context only' {
        $npgsql = @([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'Npgsql' })
        $npgsql.Count | Should -Be 1
        [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($npgsql[0]).Name | Should -Be 'DevDb'
        [System.Runtime.Loader.AssemblyLoadContext]::Default.Assemblies.GetName().Name | Should -Not -Contain 'Npgsql'
    }

    It 'reads the sample rows through psql with the credential' {
        $result = Invoke-DatabaseSql $db 'SELECT count(*) FROM customers'
        $result.ExitCode | Should -Be 0
        $result.Output | Should -Be '1000'
    }

    It 'keeps a database running after the PowerShell session that created it has exited' {
        $manifest = Join-Path $repo 'DevDb.psd1'
        # DEVDB_HOME, DEVDB_CONFIG and DEVDB_PORT_RANGE are inherited: the child session uses this installation.
        # The pwsh this suite runs in, as a new process (started through dotnet, as the test command does).
        $output = & dotnet (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -Command "
            Import-Module '$manifest'
            (New-DevDbDatabase -Project shop -Name outlives).Port" 2>&1
        $LASTEXITCODE | Should -Be 0 -Because "$output"

        $survivor = Get-DevDbDatabase -Name outlives
        $survivor.Status | Should -Be 'Running'
        $survivor.Port | Should -Be ([int]"$($output | Select-Object -Last 1)")
        (Invoke-DatabaseSql $survivor 'SELECT count(*) FROM orders').Output | Should -Be '5000'
        Remove-DevDbDatabase -Name outlives -Confirm:$false
    }

    It 'returns the same database when the same create is repeated' {
        $first = Get-DevDbDatabase -Name dave
        $again = New-DevDbDatabase -Project shop -Name dave
        $again.Port | Should -Be $first.Port
        $again.Credential.GetNetworkCredential().Password | Should -Be $first.Credential.GetNetworkCredential().Password
        @(Get-DevDbDatabase).Count | Should -Be 1
    }

    It 'refuses a name another owner has (DatabaseExists)' {
        { New-DevDbDatabase -Project shop -Name dave -Owner someone-else -ErrorAction Stop } |
            Should -Throw -ErrorId 'DatabaseExists,DevDb.Commands.NewDevDbDatabaseCommand'
        @(Get-DevDbDatabase).Count | Should -Be 1
    }

    It 'reports a missing database as DatabaseNotFound' {
        { Get-DevDbDatabase -Name nope -ErrorAction Stop } | Should -Throw -ErrorId 'DatabaseNotFound,DevDb.Commands.GetDevDbDatabaseCommand'
        { Remove-DevDbDatabase -Name nope -Force -ErrorAction Stop } | Should -Throw -ErrorId 'DatabaseNotFound,DevDb.Commands.RemoveDevDbDatabaseCommand'
        { Get-DevDbConnectionString -Name nope -ErrorAction Stop } | Should -Throw -ErrorId 'DatabaseNotFound,DevDb.Commands.GetDevDbConnectionStringCommand'
    }

    It 'finds databases by wildcard and by project' {
        (Get-DevDbDatabase -Name 'da*').Name | Should -Be 'dave'
        (Get-DevDbDatabase -Project shop).Name | Should -Be 'dave'
        Get-DevDbDatabase -Project shop-eu | Should -BeNullOrEmpty
        (Get-DevDbDatabase -Name dave).Port | Should -Be $db.Port
        Get-PlainPassword (Get-DevDbDatabase -Name dave) | Should -Be $password
    }

    It 'completes database names with Tab' {
        $line = 'Remove-DevDbDatabase -Name da'
        @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText) | Should -Be @('dave')
    }

    It 'never shows the password in the default views' {
        $table = $db | Out-String
        $table | Should -Match 'dave'
        $table | Should -Match "$($db.Port)"
        $table | Should -Not -Match ([regex]::Escape($password))
        (Get-DevDbDatabase | Format-Table | Out-String) | Should -Not -Match ([regex]::Escape($password))
        (Get-DevDbDatabase | Format-List | Out-String) | Should -Not -Match ([regex]::Escape($password))
        (Get-DevDbDatabase | Format-Table | Out-String) | Should -Match 'Running'
    }
}

Describe 'Connection strings' {
    It 'writes a Uri that psql connects with' {
        $uri = Get-DevDbConnectionString -Name dave
        $uri | Should -Be "postgresql://$($db.Username):$password@127.0.0.1:$($db.Port)/app"
        $result = Invoke-PsqlConnectionString $uri 'SELECT count(*) FROM products'
        $result.ExitCode | Should -Be 0
        $result.Output | Should -Be '200'
    }

    It 'writes KeyValue that psql connects with' {
        $keyValue = $db | Get-DevDbConnectionString -Format KeyValue
        $keyValue | Should -Be "host=127.0.0.1 port=$($db.Port) dbname=app user=$($db.Username) password=$password"
        (Invoke-PsqlConnectionString $keyValue 'SELECT count(*) FROM orders').Output | Should -Be '5000'
    }

    It 'writes an Npgsql connection string that Npgsql connects with' {
        $npgsql = Get-DevDbConnectionString -InputObject $db -Format Npgsql
        $npgsql | Should -Match "Port=$($db.Port)"
        Invoke-NpgsqlScalar $npgsql 'SELECT count(*) FROM order_items' | Should -Be 15000
    }

    It 'writes a JDBC URL' {
        $jdbc = Get-DevDbConnectionString -Name dave -Format Jdbc
        $jdbc | Should -Be "jdbc:postgresql://127.0.0.1:$($db.Port)/app?user=$($db.Username)&password=$password"
    }

    It 'writes Env lines that psql connects with' {
        $lines = (Get-DevDbConnectionString -Name dave -Format Env) -split "`n"
        $variables = [ordered] @{}
        foreach ($line in $lines) {
            $name, $value = $line -split '=', 2
            $variables[$name] = $value
        }
        @($variables.Keys) | Should -Be @('PGHOST', 'PGPORT', 'PGDATABASE', 'PGUSER', 'PGPASSWORD', 'DATABASE_URL')
        $variables.PGPORT | Should -Be "$($db.Port)"
        $variables.PGPASSWORD | Should -Be $password
        $variables.DATABASE_URL | Should -Be (Get-DevDbConnectionString -Name dave)
        try {
            foreach ($name in 'PGHOST', 'PGPORT', 'PGDATABASE', 'PGUSER', 'PGPASSWORD') { Set-Item "Env:$name" $variables[$name] }
            $output = & (Get-Psql) -X -A -t -c 'SELECT current_user' 2>&1
            $LASTEXITCODE | Should -Be 0
            "$output".Trim() | Should -Be $db.Username
        }
        finally {
            foreach ($name in 'PGHOST', 'PGPORT', 'PGDATABASE', 'PGUSER', 'PGPASSWORD') { Remove-Item "Env:$name" -ErrorAction SilentlyContinue }
        }
    }

    It 'escapes a password with quotes, spaces and URL characters in every format' {
        # Give dave's role a hostile password for a moment, then format it through Core's ConnectionStrings.
        $hostile = "p@ss w'rd;:/?#%+\`"x=1"
        $core = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'DevDb.Core' }
        $connectionInfo = [Activator]::CreateInstance($core.GetType('DevDb.Core.Model.ConnectionInfo', $true),
            [object[]] @($db.Host, $db.Port, $db.DatabaseName, $db.Username, $hostile))
        $formats = $core.GetType('DevDb.Core.Model.ConnectionStringFormat', $true)
        $connectionStrings = $core.GetType('DevDb.Core.Model.ConnectionStrings', $true)
        $format = { param($name) $connectionStrings::Format($connectionInfo, [Enum]::Parse($formats, $name)) }

        $sqlPassword = $hostile.Replace("'", "''")
        (Invoke-DatabaseSql $db "ALTER ROLE current_user PASSWORD '$sqlPassword'").ExitCode | Should -Be 0
        try {
            (Invoke-PsqlConnectionString (& $format 'Uri') 'SELECT 1').Output | Should -Be '1'
            (Invoke-PsqlConnectionString (& $format 'KeyValue') 'SELECT 2').Output | Should -Be '2'
            Invoke-NpgsqlScalar (& $format 'Npgsql') 'SELECT 3' | Should -Be 3
            $jdbc = [uri] ((& $format 'Jdbc') -replace '^jdbc:', '')
            $query = [System.Web.HttpUtility]::ParseQueryString($jdbc.Query)
            $query['password'] | Should -BeExactly $hostile
            $query['user'] | Should -BeExactly $db.Username
        }
        finally {
            $restore = [System.Data.Common.DbConnectionStringBuilder]::new()
            $restore.ConnectionString = & $format 'Npgsql'
            Invoke-NpgsqlScalar $restore.ConnectionString "ALTER ROLE current_user PASSWORD '$($password.Replace("'", "''"))'" | Out-Null
        }
        (Invoke-DatabaseSql $db 'SELECT 4').Output | Should -Be '4'
    }
}

Describe 'Stop and start' {
    It 'stops a database: its server refuses connections' {
        Stop-DevDbDatabase -WhatIf -Name dave
        (Invoke-DatabaseSql $db 'SELECT 1').ExitCode | Should -Be 0 -Because '-WhatIf must not stop it'

        $stopped = Stop-DevDbDatabase -InputObject $db -PassThru -Confirm:$false
        $stopped.Status | Should -Be 'Stopped'
        (Get-DevDbDatabase -Name dave).Status | Should -Be 'Stopped'
        $result = Invoke-DatabaseSql $db 'SELECT 1'
        $result.ExitCode | Should -Not -Be 0
        $result.Output | Should -Match 'refused|could not connect'
    }

    It 'starts it again on the same port with the same data' {
        Start-DevDbDatabase -Name dave | Should -BeNullOrEmpty   # no output without -PassThru
        $started = Get-DevDbDatabase -Name dave
        $started.Status | Should -Be 'Running'
        $started.Port | Should -Be $db.Port
        (Invoke-DatabaseSql $db 'SELECT count(*) FROM customers').Output | Should -Be '1000'
    }
}

Describe 'Reset' {
    It 'brings back a deleted row, keeping port and password' {
        $countLineOne = 'SELECT count(*) FROM order_items WHERE order_id = 1 AND line_no = 1'
        (Invoke-DatabaseSql $db 'DELETE FROM order_items WHERE order_id = 1 AND line_no = 1').ExitCode | Should -Be 0
        (Invoke-DatabaseSql $db $countLineOne).Output | Should -Be '0'

        Reset-DevDbDatabase -Name dave -WhatIf
        (Invoke-DatabaseSql $db $countLineOne).Output | Should -Be '0' -Because '-WhatIf must not reset'

        $reset = Reset-DevDbDatabase -Name dave -Confirm:$false
        $reset.Name | Should -Be 'dave'
        $reset.Status | Should -Be 'Running'
        $reset.Port | Should -Be $db.Port
        Get-PlainPassword $reset | Should -Be $password
        (Invoke-DatabaseSql $db $countLineOne).Output | Should -Be '1'
    }
}

Describe 'Update a project' {
    It 'leaves the project as it is with -WhatIf' {
        Update-DevDbProject -Name shop -WhatIf
        (Get-DevDbProject -Name shop).ImageRevision | Should -Be 1
    }

    It 'builds image revision 2 with the new post-restore SQL; existing databases keep revision 1' {
        $masking = "UPDATE customers SET email = 'customer' || customer_id || '@example.invalid'"
        $project = Get-DevDbProject -Name shop | Update-DevDbProject -PostRestoreSql $masking -Confirm:$false
        $project.ImageRevision | Should -Be 2
        $project.PostRestoreSql | Should -Be $masking
        @($project.Images).Count | Should -Be 2

        (Get-DevDbDatabase -Name dave).ImageRevision | Should -Be 1
        (Invoke-DatabaseSql $db "SELECT email FROM customers WHERE customer_id = 7").Output | Should -Not -Match 'example\.invalid'
    }

    It 'clones new databases from revision 2' {
        $script:erin = New-DevDbDatabase -Project shop -Name erin
        $erin.ImageRevision | Should -Be 2
        (Invoke-DatabaseSql $erin "SELECT email FROM customers WHERE customer_id = 7").Output | Should -Be 'customer7@example.invalid'
        $erin.Port | Should -Not -Be $db.Port
    }

    It 'moves a database to revision 2 when it is reset' {
        (Reset-DevDbDatabase -Name dave -Force).ImageRevision | Should -Be 2
        (Invoke-DatabaseSql $db "SELECT email FROM customers WHERE customer_id = 7").Output | Should -Be 'customer7@example.invalid'
    }

    It 'returns the project as it is when the same New-DevDbProject is repeated after a refresh' {
        # Revision 1 is gone (no database uses it any more); the repeat must not wait for it.
        $masking = (Get-DevDbProject -Name shop).PostRestoreSql
        $again = New-DevDbProject -Name shop -Source $dump -PostRestoreSql $masking
        $again.ImageRevision | Should -Be 2
        @($again.Images).Count | Should -Be 1
    }
}

Describe 'Progress and Ctrl+C' {
    BeforeAll {
        # A second runspace in this process: its Streams.Progress keeps the progress records, and
        # Stop() is what Ctrl+C does to a running pipeline.
        function New-DevDbRunspace([string] $Script) {
            $powershell = [powershell]::Create()
            $null = $powershell.AddScript("Import-Module '$(Join-Path $repo 'DevDb.psd1')' -ErrorAction Stop; $Script")
            $powershell
        }
    }

    It 'reports progress while creating a database and ends it with a Completed record' {
        $powershell = New-DevDbRunspace 'New-DevDbDatabase -Project shop -Name gina'
        try {
            $created = $powershell.Invoke()
            $powershell.Streams.Error | Should -BeNullOrEmpty
            $created[0].Name | Should -Be 'gina'
            $records = @($powershell.Streams.Progress)
            @($records | Where-Object RecordType -eq 'Processing').Count | Should -BeGreaterThan 0
            $records[-1].RecordType | Should -Be 'Completed'
            @($records.ActivityId | Select-Object -Unique).Count | Should -Be 1
        }
        finally {
            $powershell.Dispose()
        }
        Remove-DevDbDatabase -Name gina -Force
    }

    It 'stops waiting on Ctrl+C during a restore' {
        $powershell = New-DevDbRunspace "New-DevDbProject -Name halted -Source '$dump'"
        try {
            $running = $powershell.BeginInvoke()
            $deadline = [datetime]::UtcNow.AddSeconds(60)
            while ($powershell.Streams.Progress.Count -eq 0 -and -not $running.IsCompleted -and [datetime]::UtcNow -lt $deadline) {
                Start-Sleep -Milliseconds 10
            }
            $running.IsCompleted | Should -BeFalse -Because 'the restore must still be running when Ctrl+C arrives'
            $powershell.Stop()
            $powershell.InvocationStateInfo.State | Should -Be 'Stopped'
        }
        finally {
            $powershell.Dispose()
        }
    }

    # Decided at discovery, before BeforeAll has imported TestHelpers (Test-ServerMode).
    if ($env:DEVDB_TEST_MODE -eq 'Server') {
        It 'lets the server finish the build it accepted (Ctrl+C stops only the waiting)' {
            $deadline = [datetime]::UtcNow.AddSeconds(60)
            while ((Get-DevDbProject -Name halted).Status -eq 'Building' -and [datetime]::UtcNow -lt $deadline) {
                Start-Sleep -Milliseconds 200
            }
            (Get-DevDbProject -Name halted).Status | Should -Be 'Ready'
            Remove-DevDbProject -Name halted -Confirm:$false
        }
    }
    else {
        It 'leaves nothing of the stopped restore: no project, server, file or folder' {
            Get-DevDbProject -Name halted -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            @(Get-DevDbServerProcess | Where-Object CommandLine -Match 'halted') | Should -BeNullOrEmpty
            Get-ChildItem -Recurse -LiteralPath $env:DEVDB_HOME -Filter '*halted*' | Should -BeNullOrEmpty
        }
    }

    It 'creates the stopped project afterwards' {
        (New-DevDbProject -Name halted -Source $dump).Status | Should -Be 'Ready'
        Remove-DevDbProject -Name halted -Confirm:$false
        Get-DevDbProject -Name halted -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}

Describe 'Create now, wait later' {
    It 'returns at once with -NoWait, the database Creating' {
        $started = New-DevDbDatabase -Project shop -Name nowait -NoWait
        $started.Name | Should -Be 'nowait'
        $started.Status | Should -Be 'Creating'
        $started.Port | Should -BeGreaterThan 0
    }

    It 'waits with Wait-DevDbDatabase until it is Running, with its credential' {
        $ready = Wait-DevDbDatabase -Name nowait -Timeout 120
        $ready.Status | Should -Be 'Running'
        (Invoke-DatabaseSql $ready 'SELECT count(*) FROM orders').Output | Should -Be '5000'
        Remove-DevDbDatabase -Name nowait -Force
    }

    It 'reports a database that does not exist as DatabaseNotFound' {
        { Wait-DevDbDatabase -Name nope -ErrorAction Stop } | Should -Throw -ErrorId 'DatabaseNotFound,DevDb.Commands.WaitDevDbDatabaseCommand'
    }

    It 'reports a background create that failed with the error that failed it, and shows it Failed' {
        # The image disappears under the engine after the create was accepted.
        $image = Join-Path $env:DEVDB_HOME "images/shop/$((Get-DevDbProject -Name shop).ImageRevision)"
        Move-Item -LiteralPath $image -Destination "$image.away"
        try {
            # It may fail before -NoWait returns: then New-DevDbDatabase already reports the error.
            $null = New-DevDbDatabase -Project shop -Name doomed -NoWait -ErrorAction SilentlyContinue
            { Wait-DevDbDatabase -Name doomed -ErrorAction Stop } | Should -Throw -ErrorId 'ProjectNotReady,DevDb.Commands.WaitDevDbDatabaseCommand'
            $failed = Get-DevDbDatabase -Name doomed
            $failed.Status | Should -Be 'Failed'
            $failed.ErrorCode | Should -Be 'ProjectNotReady'
            $failed.Credential | Should -BeNullOrEmpty
        }
        finally {
            Move-Item -LiteralPath "$image.away" -Destination $image
        }
        Remove-DevDbDatabase -Name doomed -Force
        { Get-DevDbDatabase -Name doomed -ErrorAction Stop } | Should -Throw -ErrorId 'DatabaseNotFound,DevDb.Commands.GetDevDbDatabaseCommand'
    }
}

Describe 'Remove' {
    It 'refuses to remove a project that has databases (ProjectHasDatabases), then removes it and them with -Force' {
        $frank = New-DevDbDatabase -Project shop-eu -Name frank
        { Remove-DevDbProject -Name shop-eu -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'ProjectHasDatabases,DevDb.Commands.RemoveDevDbProjectCommand'
        (Get-DevDbProject -Name shop-eu).Status | Should -Be 'Ready'

        Remove-DevDbProject -Name shop-eu -Force -WhatIf
        (Get-DevDbProject -Name shop-eu).Name | Should -Be 'shop-eu' -Because '-WhatIf wins over -Force'

        Remove-DevDbProject -Name shop-eu -Force
        Get-DevDbProject -Name shop-eu -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        { Get-DevDbDatabase -Name frank -ErrorAction Stop } | Should -Throw -ErrorId 'DatabaseNotFound,DevDb.Commands.GetDevDbDatabaseCommand'
        (Invoke-DatabaseSql $frank 'SELECT 1').ExitCode | Should -Not -Be 0
    }

    It 'leaves everything in place with -WhatIf' {
        Get-DevDbDatabase -Project shop | Remove-DevDbDatabase -WhatIf
        @(Get-DevDbDatabase -Project shop).Name | Sort-Object | Should -Be @('dave', 'erin')
    }

    It 'removes the databases piped from Get-DevDbDatabase' {
        Get-DevDbDatabase -Project shop | Remove-DevDbDatabase -Confirm:$false
        Get-DevDbDatabase -Project shop | Should -BeNullOrEmpty
        (Invoke-DatabaseSql $db 'SELECT 1').ExitCode | Should -Not -Be 0
        (Invoke-DatabaseSql $erin 'SELECT 1').ExitCode | Should -Not -Be 0
    }

    It 'removes an empty project without -Force' {
        Remove-DevDbProject -Name shop -Confirm:$false
        Get-DevDbProject | Should -BeNullOrEmpty
    }

    It 'leaves no server of this installation running' {
        Get-DevDbServerProcess | Should -BeNullOrEmpty
    }
}
