# Checkpoints, restores and branches through the cmdlets, on real Postgres servers. Each Describe makes
# the project and databases it needs and removes them; run.ps1 runs this file with the embedded engine
# and against a real DevDb.Api process.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-DevDbModule
    New-DevDbTestHome | Out-Null
    $dump = Join-Path (Get-RepoRoot) 'samples/shop.dump'
}

AfterAll {
    Clear-DevDbTestHome
}

Describe 'Checkpoints and restores' {
    BeforeAll {
        New-DevDbProject -Name ds-shop -Source $dump | Out-Null
        $db = New-DevDbDatabase -Project ds-shop -Name ds-dave
        (Invoke-DatabaseSql $db 'CREATE TABLE notes (id int); INSERT INTO notes SELECT generate_series(1, 10)').ExitCode | Should -Be 0
    }
    AfterAll { Remove-DevDbTestItem -Database ds-dave -Project ds-shop }

    It 'saves a checkpoint and lists it' {
        $checkpoint = Checkpoint-DevDbDatabase -Name ds-dave -Checkpoint fixtures
        $checkpoint.PSObject.TypeNames[0] | Should -Be 'DevDb.Commands.DevDbCheckpoint'
        ($checkpoint.Database, $checkpoint.Name, $checkpoint.Status) | Should -Be @('ds-dave', 'fixtures', 'Ready')
        @(Get-DevDbCheckpoint -Database ds-dave).Name | Should -Be @('fixtures')
        @(Get-DevDbCheckpoint -Name 'fix*').Name | Should -Be @('fixtures')
    }

    It 'puts the rows back with the same port and password' {
        (Invoke-DatabaseSql $db 'DELETE FROM notes').ExitCode | Should -Be 0
        $restored = Restore-DevDbDatabase -Name ds-dave -Checkpoint fixtures -Force
        ($restored.Status, $restored.Port) | Should -Be @('Running', $db.Port)
        Get-PlainPassword $restored | Should -Be (Get-PlainPassword $db)
        (Invoke-DatabaseSql $db 'SELECT count(*) FROM notes').Output | Should -Be '10'
    }

    It 'does nothing with -WhatIf' {
        (Invoke-DatabaseSql $db 'DELETE FROM notes').ExitCode | Should -Be 0
        Restore-DevDbDatabase -Name ds-dave -Checkpoint fixtures -WhatIf
        Checkpoint-DevDbDatabase -Name ds-dave -Checkpoint whatif -WhatIf
        (Invoke-DatabaseSql $db 'SELECT count(*) FROM notes').Output | Should -Be '0'
        @(Get-DevDbCheckpoint -Database ds-dave).Name | Should -Be @('fixtures')
    }

    It 'refuses a taken name with CheckpointExists and an unknown one with CheckpointNotFound' {
        { Checkpoint-DevDbDatabase -Name ds-dave -Checkpoint fixtures -ErrorAction Stop } |
            Should -Throw -ErrorId 'CheckpointExists,DevDb.Commands.CheckpointDevDbDatabaseCommand'
        { Restore-DevDbDatabase -Name ds-dave -Checkpoint never -Force -ErrorAction Stop } |
            Should -Throw -ErrorId 'CheckpointNotFound,DevDb.Commands.RestoreDevDbDatabaseCommand'
        { Remove-DevDbCheckpoint -Database ds-dave -Name never -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'CheckpointNotFound,DevDb.Commands.RemoveDevDbCheckpointCommand'
    }

    It 'refuses a checkpoint name with shell or SQL metacharacters as NameInvalid' {
        { Checkpoint-DevDbDatabase -Name ds-dave -Checkpoint 'x;rm -rf $HOME' -ErrorAction Stop } |
            Should -Throw -ErrorId 'NameInvalid,DevDb.Commands.CheckpointDevDbDatabaseCommand'
        @(Get-DevDbCheckpoint -Database ds-dave).Name | Should -Be @('fixtures')
    }

    It 'removes checkpoints piped from Get-DevDbCheckpoint' {
        Get-DevDbCheckpoint -Database ds-dave | Remove-DevDbCheckpoint -Confirm:$false
        Get-DevDbCheckpoint -Database ds-dave | Should -BeNullOrEmpty
    }
}

Describe 'Branches' {
    BeforeAll {
        New-DevDbProject -Name br-shop -Source $dump | Out-Null
        $parent = New-DevDbDatabase -Project br-shop -Name br-dave
        (Invoke-DatabaseSql $parent 'CREATE TABLE notes (id int); INSERT INTO notes SELECT generate_series(1, 10)').ExitCode | Should -Be 0
    }
    AfterAll { Remove-DevDbTestItem -Database br-erin, br-dave -Project br-shop }

    It 'makes a branch with its own password that sees the parent''s rows and shows where it came from' {
        $branch = New-DevDbDatabase -Name br-erin -FromDatabase br-dave
        ($branch.Project, $branch.Parent, $branch.Status) | Should -Be @('br-shop', 'br-dave', 'Running')
        Get-PlainPassword $branch | Should -Not -Be (Get-PlainPassword $parent)
        (Invoke-DatabaseSql $branch 'SELECT count(*) FROM notes').Output | Should -Be '10'
        (Get-DevDbDatabase -Name br-erin).Parent | Should -Be 'br-dave'
    }

    It 'resets a branch to where it branched, and -ToImage to the project''s image' {
        $branch = Get-DevDbDatabase -Name br-erin
        (Invoke-DatabaseSql $branch 'DELETE FROM notes').ExitCode | Should -Be 0
        Reset-DevDbDatabase -Name br-erin -Force | Out-Null
        (Invoke-DatabaseSql $branch 'SELECT count(*) FROM notes').Output | Should -Be '10'
        (Reset-DevDbDatabase -Name br-erin -ToImage -Force).Parent | Should -BeNullOrEmpty
        (Invoke-DatabaseSql $branch 'SELECT count(*) FROM notes').ExitCode | Should -Not -Be 0
    }

    It 'refuses a branch of a checkpoint that does not exist, and makes nothing' {
        { New-DevDbDatabase -Name br-none -FromDatabase br-dave -Checkpoint never -ErrorAction Stop } |
            Should -Throw -ErrorId 'CheckpointNotFound,DevDb.Commands.NewDevDbDatabaseCommand'
        Get-DevDbDatabase -Name br-none -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}
