# Lifetimes through the cmdlets: expiry (-TimeToLive, -ExpiresAt, Set-DevDbDatabase), the CI lease,
# protection of databases and projects, and a project's lifetime settings. Each Describe makes the project
# and databases it needs and removes them in its AfterAll. Run by run.ps1 locally and against a DevDb.Api
# process (whose expiry pass runs every second, see TestHelpers.psm1).

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-DevDbModule
    $dump = Join-Path (Get-RepoRoot) 'samples/shop.dump'
    New-DevDbTestHome | Out-Null
    $null = New-DevDbProject -Name life -Source $dump
}

AfterAll {
    Clear-DevDbTestHome
}

Describe 'Expiry and the CI lease' {
    AfterAll { Remove-DevDbTestItem -Database lease, soon, bystander }

    It 'New-DevDbDatabase -TimeToLive 30m sets ExpiresAt, and the default view shows how long is left' {
        $before = [DateTimeOffset]::UtcNow
        $db = New-DevDbDatabase -Project life -Name lease -TimeToLive 30m
        $db.ExpiresAt | Should -BeGreaterOrEqual $before.AddMinutes(30)
        $db.ExpiresAt | Should -BeLessOrEqual ([DateTimeOffset]::UtcNow.AddMinutes(30))
        $db.Protected | Should -BeFalse
        $table = Get-DevDbDatabase lease | Format-Table | Out-String -Width 250
        $table | Should -Match 'Expires'
        $table | Should -Match 'in (29|30)m'
    }

    It 'Set-DevDbDatabase -TimeToLive renews the lease from now, -WhatIf changes nothing, -NoExpiry keeps it' {
        $first = (Get-DevDbDatabase lease).ExpiresAt
        Set-DevDbDatabase -Name lease -TimeToLive 2h -WhatIf | Should -BeNullOrEmpty
        (Get-DevDbDatabase lease).ExpiresAt | Should -Be $first

        $renewed = Set-DevDbDatabase -Name lease -TimeToLive 1h30m
        $renewed.PSObject.TypeNames[0] | Should -Be 'DevDb.Commands.DevDbDatabase'
        ($renewed.ExpiresAt - [DateTimeOffset]::UtcNow).TotalMinutes | Should -BeGreaterThan 89
        ($renewed.ExpiresAt - [DateTimeOffset]::UtcNow).TotalMinutes | Should -BeLessOrEqual 90
        (Get-DevDbDatabase lease | Format-Table | Out-String -Width 250) | Should -Match 'in 1h(29|30)m'

        Get-DevDbDatabase lease | Set-DevDbDatabase -NoExpiry | Out-Null
        (Get-DevDbDatabase lease).ExpiresAt | Should -BeNullOrEmpty
    }

    It 'a reset keeps the expiry' {
        $set = Set-DevDbDatabase -Name lease -ExpiresAt ([DateTimeOffset]::UtcNow.AddHours(5))
        Reset-DevDbDatabase lease -Force
        (Get-DevDbDatabase lease).ExpiresAt | Should -Be $set.ExpiresAt
    }

    It 'an expired database is removed (locally: when DevDb next runs a changing command)' {
        # Created with room to spare, then given 2 s: a 2 s lifetime from the New could run out while the clone is
        # still being waited for (a server's pass runs every second), and the New would find it gone.
        $null = New-DevDbDatabase -Project life -Name soon -TimeToLive 1h
        $null = Set-DevDbDatabase -Name soon -ExpiresAt ([DateTimeOffset]::UtcNow.AddSeconds(2))
        Start-Sleep -Seconds 3
        # Any changing command runs the local expiry pass first; a server's pass runs every second.
        $null = New-DevDbDatabase -Project life -Name bystander
        $deadline = [datetime]::UtcNow.AddSeconds(20)
        while ((Get-DevDbDatabase -Name soon -ErrorAction SilentlyContinue) -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
        { Get-DevDbDatabase -Name soon -ErrorAction Stop } | Should -Throw -ErrorId 'DatabaseNotFound,DevDb.Commands.GetDevDbDatabaseCommand'
        (Get-DevDbDatabase bystander).Status | Should -Be 'Running'
    }

    It 'a lifetime that cannot be used is LifetimeInvalid and records nothing' {
        { New-DevDbDatabase -Project life -Name never -TimeToLive 1h -ExpiresAt ([DateTimeOffset]::UtcNow.AddHours(2)) -ErrorAction Stop } |
            Should -Throw -ErrorId 'LifetimeInvalid,DevDb.Commands.NewDevDbDatabaseCommand'
        $Error[0].ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
        { New-DevDbDatabase -Project life -Name never -ExpiresAt ([DateTimeOffset]::UtcNow.AddMinutes(-1)) -ErrorAction Stop } |
            Should -Throw -ErrorId 'LifetimeInvalid,DevDb.Commands.NewDevDbDatabaseCommand'
        { Set-DevDbDatabase -Name lease -NoExpiry -TimeToLive 1h -ErrorAction Stop } |
            Should -Throw -ErrorId 'LifetimeInvalid,DevDb.Commands.SetDevDbDatabaseCommand'
        { Set-DevDbDatabase -Name nope -TimeToLive 1h -ErrorAction Stop } |
            Should -Throw -ErrorId 'DatabaseNotFound,DevDb.Commands.SetDevDbDatabaseCommand'
        Get-DevDbDatabase -Name never -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}

Describe 'Protection' {
    AfterAll {
        Set-DevDbDatabase -Name keep -Protected:$false -ErrorAction SilentlyContinue | Out-Null
        Update-DevDbProject -Name life -Protected:$false -ErrorAction SilentlyContinue | Out-Null
        Remove-DevDbTestItem -Database keep
    }

    It 'a protected database refuses Remove and Reset with DatabaseProtected and says how to unprotect it' {
        $db = New-DevDbDatabase -Project life -Name keep -Protected
        $db.Protected | Should -BeTrue
        (Get-DevDbDatabase keep | Format-Table | Out-String -Width 250) | Should -Match 'protected'
        { Remove-DevDbDatabase -Name keep -Force -ErrorAction Stop } | Should -Throw -ErrorId 'DatabaseProtected,DevDb.Commands.RemoveDevDbDatabaseCommand'
        $Error[0].ErrorDetails.RecommendedAction | Should -Match 'Set-DevDbDatabase -Name keep -Protected:\$false'
        { Reset-DevDbDatabase -Name keep -Force -ErrorAction Stop } | Should -Throw -ErrorId 'DatabaseProtected,DevDb.Commands.ResetDevDbDatabaseCommand'
        (Get-DevDbDatabase keep).Status | Should -Be 'Running'
    }

    It 'a protected project refuses Remove-DevDbProject; so does a forced removal that would take a protected database' {
        $project = Update-DevDbProject -Name life -Protected
        $project.Protected | Should -BeTrue
        $project.ImageRevision | Should -Be 1
        { Remove-DevDbProject -Name life -IncludeDatabases -Force -ErrorAction Stop } | Should -Throw -ErrorId 'DatabaseProtected,DevDb.Commands.RemoveDevDbProjectCommand'
        (Update-DevDbProject -Name life -Protected:$false).Protected | Should -BeFalse
        { Remove-DevDbProject -Name life -IncludeDatabases -Force -ErrorAction Stop } | Should -Throw -ErrorId 'DatabaseProtected,DevDb.Commands.RemoveDevDbProjectCommand'
        (Get-DevDbProject life).Status | Should -Be 'Ready'
        (Get-DevDbDatabase keep).Status | Should -Be 'Running'
    }

    It 'Set-DevDbDatabase -Protected:$false unprotects it, and then it can be removed' {
        (Set-DevDbDatabase -Name keep -Protected:$false).Protected | Should -BeFalse
        Remove-DevDbDatabase -Name keep -Force
        Get-DevDbDatabase -Name keep -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}

Describe 'A project''s lifetime settings' {
    AfterAll { Remove-DevDbTestItem -Database bydefault, toolong -Project brief }

    It 'New-DevDbProject -DefaultTimeToLive -MaxTimeToLive: databases get the default and cannot pass the maximum' {
        $project = New-DevDbProject -Name brief -Source $dump -DefaultTimeToLive 1h -MaxTimeToLive 2h
        $project.DefaultTimeToLive | Should -Be ([TimeSpan]::FromHours(1))
        $project.MaxTimeToLive | Should -Be ([TimeSpan]::FromHours(2))
        $db = New-DevDbDatabase -Project brief -Name bydefault
        ($db.ExpiresAt - [DateTimeOffset]::UtcNow).TotalMinutes | Should -BeGreaterThan 59
        { New-DevDbDatabase -Project brief -Name toolong -TimeToLive 3h -ErrorAction Stop } | Should -Throw -ErrorId 'LifetimeInvalid,DevDb.Commands.NewDevDbDatabaseCommand'
        { Set-DevDbDatabase -Name bydefault -NoExpiry -ErrorAction Stop } | Should -Throw -ErrorId 'LifetimeInvalid,DevDb.Commands.SetDevDbDatabaseCommand'
    }

    It 'Update-DevDbProject changes the settings without building an image' {
        $project = Update-DevDbProject -Name brief -DefaultTimeToLive 30m
        $project.DefaultTimeToLive | Should -Be ([TimeSpan]::FromMinutes(30))
        $project.MaxTimeToLive | Should -Be ([TimeSpan]::FromHours(2))
        $project.ImageRevision | Should -Be 1
        @($project.Images).Count | Should -Be 1
        { Update-DevDbProject -Name brief -DefaultTimeToLive 3h -ErrorAction Stop } | Should -Throw -ErrorId 'LifetimeInvalid,DevDb.Commands.UpdateDevDbProjectCommand'
    }
}

Describe 'Idle stop' {
    AfterAll { Remove-DevDbTestItem -Database napper, sleeper, waker, idlebystander, fromproject -Project drowsy }

    It 'New-DevDbDatabase -IdleTimeout 30m sets IdleTimeout; Set-DevDbDatabase -IdleTimeout changes it, -WhatIf changes nothing, -NoIdleTimeout drops it' {
        $db = New-DevDbDatabase -Project life -Name napper -IdleTimeout 30m
        $db.IdleTimeout | Should -Be ([TimeSpan]::FromMinutes(30))
        $db.Status | Should -Be 'Running'
        $db.StopReason | Should -BeNullOrEmpty
        $db.LastActiveAt | Should -Not -BeNullOrEmpty

        Set-DevDbDatabase -Name napper -IdleTimeout 1h -WhatIf | Should -BeNullOrEmpty
        (Get-DevDbDatabase napper).IdleTimeout | Should -Be ([TimeSpan]::FromMinutes(30))
        (Set-DevDbDatabase -Name napper -IdleTimeout 1h).IdleTimeout | Should -Be ([TimeSpan]::FromHours(1))
        Get-DevDbDatabase napper | Set-DevDbDatabase -NoIdleTimeout | Out-Null
        (Get-DevDbDatabase napper).IdleTimeout | Should -BeNullOrEmpty
    }

    It 'an idle timeout that cannot be used is LifetimeInvalid and changes nothing' {
        { New-DevDbDatabase -Project life -Name never -IdleTimeout 10s -ErrorAction Stop } | Should -Throw -ErrorId 'LifetimeInvalid,DevDb.Commands.NewDevDbDatabaseCommand'
        { Get-DevDbDatabase -Name never -ErrorAction Stop } | Should -Throw -ErrorId 'DatabaseNotFound,DevDb.Commands.GetDevDbDatabaseCommand'
        { Set-DevDbDatabase -Name napper -IdleTimeout 1h -NoIdleTimeout -ErrorAction Stop } | Should -Throw -ErrorId 'LifetimeInvalid,DevDb.Commands.SetDevDbDatabaseCommand'
        (Get-DevDbDatabase napper).IdleTimeout | Should -BeNullOrEmpty
    }

    It 'Stop-DevDbDatabase says the stop was Requested; Start-DevDbDatabase clears it' {
        $stopped = Stop-DevDbDatabase -Name napper -Confirm:$false -PassThru | Wait-DevDbDatabase
        $stopped.Status | Should -Be 'Stopped'
        $stopped.StopReason | Should -Be 'Requested'
        (Get-DevDbDatabase napper | Format-Table | Out-String -Width 250) | Should -Not -Match '\(Idle\)'
        (Start-DevDbDatabase -Name napper).StopReason | Should -BeNullOrEmpty
    }

    It 'a database no client uses for its IdleTimeout is stopped as Idle, shown as Stopped (Idle), keeps its data, and repeating its New starts it' {
        $db = New-DevDbDatabase -Project life -Name sleeper -IdleTimeout 1m
        $credential = $db.GetCredential()
        $env:PGPASSWORD = $credential.GetNetworkCredential().Password
        try {
            & psql -X -q -v ON_ERROR_STOP=1 -h $db.Host -p $db.Port -U $db.Username -d $db.DatabaseName -c "CREATE TABLE kept AS SELECT 'still here' AS note" | Out-Null
            $LASTEXITCODE | Should -Be 0
            Start-Sleep -Seconds 62
            # Locally the pass runs at the start of a changing command; a server's runs every second.
            $null = New-DevDbDatabase -Project life -Name idlebystander
            $deadline = [datetime]::UtcNow.AddSeconds(60)
            while ((Get-DevDbDatabase sleeper).Status -ne 'Stopped' -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 500 }
            $stopped = Get-DevDbDatabase sleeper
            $stopped.Status | Should -Be 'Stopped'
            $stopped.StopReason | Should -Be 'Idle'
            $stopped.Port | Should -Be $db.Port
            (Get-DevDbDatabase sleeper | Format-Table | Out-String -Width 250) | Should -Match 'Stopped \(Idle\)'

            $woken = New-DevDbDatabase -Project life -Name sleeper -IdleTimeout 1m
            $woken.Status | Should -Be 'Running'
            $woken.StopReason | Should -BeNullOrEmpty
            $woken.GetCredential().GetNetworkCredential().Password | Should -Be $env:PGPASSWORD
            (& psql -X -A -t -h $woken.Host -p $woken.Port -U $woken.Username -d $woken.DatabaseName -c 'SELECT note FROM kept') | Should -Be 'still here'
        } finally {
            Remove-Item Env:PGPASSWORD -ErrorAction Ignore
        }
    }

    It 'New-DevDbProject -IdleTimeout gives its databases one; Update-DevDbProject -IdleTimeout and -NoIdleTimeout change it without an image' {
        $project = New-DevDbProject -Name drowsy -Source $dump -IdleTimeout 45m
        $project.IdleTimeout | Should -Be ([TimeSpan]::FromMinutes(45))
        (New-DevDbDatabase -Project drowsy -Name fromproject).IdleTimeout | Should -Be ([TimeSpan]::FromMinutes(45))
        Update-DevDbProject -Name drowsy -IdleTimeout 2h -WhatIf | Should -BeNullOrEmpty
        (Get-DevDbProject drowsy).IdleTimeout | Should -Be ([TimeSpan]::FromMinutes(45))
        $changed = Update-DevDbProject -Name drowsy -IdleTimeout 2h
        $changed.IdleTimeout | Should -Be ([TimeSpan]::FromHours(2))
        $changed.ImageRevision | Should -Be 1
        (Update-DevDbProject -Name drowsy -NoIdleTimeout).IdleTimeout | Should -BeNullOrEmpty
        { Update-DevDbProject -Name drowsy -IdleTimeout 5s -ErrorAction Stop } | Should -Throw -ErrorId 'LifetimeInvalid,DevDb.Commands.UpdateDevDbProjectCommand'
    }
}

Describe 'History' {
    BeforeAll { $me = (Get-DevDbContext | Where-Object IsCurrent).User }
    AfterAll {
        Set-DevDbDatabase -Name logged -Protected:$false -ErrorAction SilentlyContinue | Out-Null
        Remove-DevDbTestItem -Database logged
    }

    It 'Get-DevDbDatabase | Select-Object -ExpandProperty History lists each change, by whom and how it ended, oldest first' {
        $null = New-DevDbDatabase -Project life -Name logged
        $null = Stop-DevDbDatabase -Name logged
        $null = Start-DevDbDatabase -Name logged
        $null = Set-DevDbDatabase -Name logged -TimeToLive 1h -Protected
        { Reset-DevDbDatabase -Name logged -Force -ErrorAction Stop } | Should -Throw -ErrorId 'DatabaseProtected,DevDb.Commands.ResetDevDbDatabaseCommand'

        $history = @(Get-DevDbDatabase logged | Select-Object -ExpandProperty History)
        $history.Action | Should -Be @('Created', 'Stopped', 'Started', 'Protected', 'LifetimeSet', 'Reset')
        $history.Outcome | Should -Be @('Succeeded', 'Succeeded', 'Succeeded', 'Succeeded', 'Succeeded', 'Failed')
        $history[-1].ErrorCode | Should -Be 'DatabaseProtected'
        $history | ForEach-Object { $_.User | Should -Be $me }
        $history[0].PSObject.TypeNames[0] | Should -Be 'DevDb.Commands.DevDbHistoryEntry'
        $history[4].Detail | Should -Match '^expires \d{4}-\d\d-\d\d'

        # Its own table view: one line per change.
        $table = $history | Format-Table | Out-String -Width 250
        $table | Should -Match 'Action\s+User\s+Outcome\s+ErrorCode'
        $table | Should -Match "Reset\s+$([regex]::Escape($me))\s+Failed\s+DatabaseProtected"
    }

    It 'the default view of a database and of a project leaves the history out' {
        (Get-DevDbDatabase logged | Format-Table | Out-String -Width 250) | Should -Not -MatchExactly 'LifetimeSet|Succeeded|History'
        (Get-DevDbProject life | Format-Table | Out-String -Width 250) | Should -Not -MatchExactly 'Succeeded|History'
    }

    It 'a removed database is gone, and its project''s history says who removed it' {
        $null = Set-DevDbDatabase -Name logged -Protected:$false
        Remove-DevDbDatabase -Name logged -Force
        $entry = Get-DevDbProject life | Select-Object -ExpandProperty History | Where-Object Database -EQ 'logged' | Select-Object -Last 1
        $entry.Action | Should -Be 'Removed'
        $entry.User | Should -Be $me
        $entry.Outcome | Should -Be 'Succeeded'
    }
}
