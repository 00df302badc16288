# Scheduled refresh through the cmdlets: -RefreshSchedule/-RefreshTimeZone on New/Update-DevDbProject,
# -NoRefreshSchedule, their validation (ScheduleInvalid, nothing recorded), a folder source naming its
# newest dump, and what Get-DevDbProject shows (NextRefresh, the image's Dump). Whether a schedule runs
# (a server's background pass, not ordinary commands) is proven by the conformance suite's moved clock.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-DevDbModule
    New-DevDbTestHome | Out-Null
    # A folder of dumps the database servers' OS user can read (as the repository's samples are).
    $script:drop = Join-Path ([System.IO.Path]::GetTempPath()) ("devdb-pester-drop-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory -Path $drop | Out-Null
    Copy-Item (Join-Path (Get-RepoRoot) 'samples/shop.dump') (Join-Path $drop 'shop-old.dump')
    (Get-Item (Join-Path $drop 'shop-old.dump')).LastWriteTimeUtc = [datetime]::UtcNow.AddHours(-3)
    Copy-Item (Join-Path (Get-RepoRoot) 'samples/shop.dump') (Join-Path $drop 'shop-new.dump')
    # A copy keeps the sample's own time, which may be older than three hours ago: say which is newer.
    (Get-Item (Join-Path $drop 'shop-new.dump')).LastWriteTimeUtc = [datetime]::UtcNow
    if (-not $IsWindows) { chmod -R a+rX $drop }
}

AfterAll {
    Remove-DevDbTestItem -Project nightly
    Clear-DevDbTestHome
    Remove-Item -Recurse -Force $drop -ErrorAction SilentlyContinue
}

Describe 'A refresh schedule' {
    It 'a bad cron expression or time zone is ScheduleInvalid naming the problem, and nothing is recorded' {
        { New-DevDbProject -Name nightly -Source "$drop/" -RefreshSchedule '0 3 * *' -ErrorAction Stop } |
            Should -Throw -ErrorId 'ScheduleInvalid,DevDb.Commands.NewDevDbProjectCommand'
        { Get-DevDbProject -Name nightly -ErrorAction Stop } | Should -Throw -ErrorId 'ProjectNotFound,DevDb.Commands.GetDevDbProjectCommand'

        $err = $null
        New-DevDbProject -Name nightly -Source "$drop/" -RefreshSchedule '0 3 * * *' -RefreshTimeZone 'Europe/Pariss' -ErrorAction SilentlyContinue -ErrorVariable err | Out-Null
        $err[0].FullyQualifiedErrorId | Should -Be 'ScheduleInvalid,DevDb.Commands.NewDevDbProjectCommand'
        $err[0].Exception.Message | Should -Match "'Europe/Pariss' is not an IANA time zone id"
        "$($err[0].ErrorDetails.RecommendedAction) $($err[0].Exception.Message)" | Should -Match "-RefreshSchedule '0 3 \* \* \*'"
        { Get-DevDbProject -Name nightly -ErrorAction Stop } | Should -Throw -ErrorId 'ProjectNotFound,DevDb.Commands.GetDevDbProjectCommand'
    }

    It 'New-DevDbProject -RefreshSchedule shows NextRefresh and the newest file of a folder source as the image''s Dump' {
        $project = New-DevDbProject -Name nightly -Source "$drop/" -RefreshSchedule '0 3 * * *' -RefreshTimeZone 'Europe/Paris'
        $project.PSObject.TypeNames[0] | Should -Be 'DevDb.Commands.DevDbProject'
        $project.RefreshSchedule | Should -BeExactly '0 3 * * *'
        $project.RefreshTimeZone | Should -BeExactly 'Europe/Paris'
        $project.NextRefresh | Should -BeOfType [DateTimeOffset]
        ($project.NextRefresh - [DateTimeOffset]::UtcNow).TotalHours | Should -BeGreaterThan 0
        ($project.NextRefresh - [DateTimeOffset]::UtcNow).TotalHours | Should -BeLessOrEqual 24
        # 03:00 in Paris is 01:00 or 02:00 UTC.
        $project.NextRefresh.UtcDateTime.Hour | Should -BeIn 1, 2
        $project.LastRefresh | Should -BeNullOrEmpty
        $project.Images[0].Dump | Should -BeExactly 'shop-new.dump'

        $table = Get-DevDbProject nightly | Format-Table | Out-String -Width 250
        $table | Should -Match 'NextRefresh'
        $table | Should -Match ([regex]::Escape($project.NextRefresh.ToString('u')))
    }

    It 'Update-DevDbProject changes the schedule without a new image, refuses a bad one, and -NoRefreshSchedule drops it' {
        { Update-DevDbProject -Name nightly -RefreshTimeZone 'W. Europe Standard Time' -ErrorAction Stop } |
            Should -Throw -ErrorId 'ScheduleInvalid,DevDb.Commands.UpdateDevDbProjectCommand'
        { Update-DevDbProject -Name nightly -RefreshSchedule '0 3 * * *' -NoRefreshSchedule -ErrorAction Stop } |
            Should -Throw -ErrorId 'ScheduleInvalid,DevDb.Commands.UpdateDevDbProjectCommand'
        (Get-DevDbProject nightly).RefreshTimeZone | Should -BeExactly 'Europe/Paris'

        Update-DevDbProject -Name nightly -RefreshSchedule '*/15 * * * *' -WhatIf | Should -BeNullOrEmpty
        (Get-DevDbProject nightly).RefreshSchedule | Should -BeExactly '0 3 * * *'

        $changed = Update-DevDbProject -Name nightly -RefreshSchedule '*/15 * * * *'
        $changed.RefreshTimeZone | Should -BeExactly 'Europe/Paris'
        ($changed.NextRefresh - [DateTimeOffset]::UtcNow).TotalMinutes | Should -BeLessOrEqual 15
        @($changed.Images).Count | Should -Be 1

        $dropped = Get-DevDbProject nightly | Update-DevDbProject -NoRefreshSchedule
        $dropped.RefreshSchedule | Should -BeNullOrEmpty
        $dropped.NextRefresh | Should -BeNullOrEmpty
        @($dropped.Images).Count | Should -Be 1
    }

    It 'the help says where schedules run' {
        $help = Get-Help New-DevDbProject -Full | Out-String -Width 300
        $help | Should -Match 'RefreshSchedule'
        ($help -replace '\s+', ' ') | Should -Match 'Schedules run only where a DevDb server runs'
        ((Get-Help Update-DevDbProject -Parameter NoRefreshSchedule | Out-String) -replace '\s+', ' ') | Should -Match 'Drops the refresh schedule'
    }
}
