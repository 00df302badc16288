# Quotas through the cmdlets: a create past a limit is QuotaExceeded (error id and category), names the
# limit and the user's databases, and leaves nothing; Get-DevDbQuota shows usage against the limits.
# Local mode: the state folder's settings.json sets the limit and the person at the terminal is a
# developer. Server mode: a DevDb.Api process of this file's own, with DevDb:Quotas set in its
# environment, an admin token (past quotas) and a developer's.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-DevDbModule
    $dump = Join-Path (Get-RepoRoot) 'samples/shop.dump'
    $testHome = New-DevDbTestHome
    $quotaApi = $null
    function ConvertTo-Secure([string] $Text) { ConvertTo-SecureString $Text -AsPlainText -Force }
    if ($env:DEVDB_TEST_MODE -eq 'Server') {
        $quotaApi = Start-DevDbTestApi -HomePath (Join-Path $testHome 'quota-api') -Users ([ordered]@{ boss = 'admin'; dev = 'developer' }) `
            -Environment @{ DEVDB__QUOTAS__DATABASESPERUSER = '1' }
        function Connect-As([string] $User) { Connect-DevDb -Server $quotaApi.Url -Token (ConvertTo-Secure $quotaApi.Tokens[$User]) -Name $User | Out-Null }
        Connect-As boss
        $null = New-DevDbProject -Name quota -Source $dump
        Connect-As dev
        $developer = 'dev'
    }
    else {
        Set-Content -LiteralPath (Join-Path $testHome 'settings.json') -Value '{ "quotas": { "databasesPerUser": 1 } }'
        $null = New-DevDbProject -Name quota -Source $dump
        $developer = [Environment]::UserName
    }
}

AfterAll {
    try {
        if (Test-ServerMode) {
            Connect-As boss
            Get-DevDbProject | Remove-DevDbProject -IncludeDatabases -Force -ErrorAction Continue
        }
    }
    finally {
        # While this file's API still answers (the current context), then that API.
        Clear-DevDbTestHome
        if ($quotaApi) { Stop-DevDbTestApi $quotaApi }
    }
}

Describe 'Quotas' {
    It 'a create past the quota is QuotaExceeded, names the limit and your databases, and leaves nothing' {
        $null = New-DevDbDatabase -Project quota -Name q1
        { New-DevDbDatabase -Project quota -Name q2 -ErrorAction Stop } | Should -Throw -ErrorId 'QuotaExceeded,DevDb.Commands.NewDevDbDatabaseCommand'
        $refusal = $Error[0]
        $refusal.CategoryInfo.Category | Should -Be 'QuotaExceeded'
        $refusal.Exception.Message | Should -Match 'DatabasesPerUser = 1'
        $refusal.Exception.Message | Should -Match 'q1'
        $refusal.ErrorDetails.RecommendedAction + $refusal.Exception.Message | Should -Not -BeNullOrEmpty
        Get-DevDbDatabase -Name q2 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'Get-DevDbQuota shows what you hold against each limit' {
        $quota = Get-DevDbQuota
        $quota.PSObject.TypeNames[0] | Should -Be 'DevDb.Commands.DevDbQuota'
        $quota.User | Should -Be $developer
        $quota.Databases | Should -Be 1
        $quota.DatabasesPerUser | Should -Be 1
        $quota.RunningDatabases | Should -Be 1
        $quota.RunningDatabasesPerUser | Should -BeNullOrEmpty
        $quota.DatabaseNames | Should -Be @('q1')
        $quota.Exempt | Should -BeFalse
    }

    It 'after a removal the place is free again' {
        Remove-DevDbDatabase -Name q1 -Force
        (Get-DevDbQuota).Databases | Should -Be 0
        (New-DevDbDatabase -Project quota -Name q2).Name | Should -Be 'q2'
        Remove-DevDbDatabase -Name q2 -Force
    }

    if ($env:DEVDB_TEST_MODE -eq 'Server') {
        It 'a developer asking about another user is Forbidden, an admin sees anyone and is past the limits' {
            { Get-DevDbQuota -User boss -ErrorAction Stop } | Should -Throw -ErrorId 'Forbidden,DevDb.Commands.GetDevDbQuotaCommand'
            Connect-As boss
            try {
                $null = New-DevDbDatabase -Project quota -Name for-dev-1 -Owner dev
                $null = New-DevDbDatabase -Project quota -Name for-dev-2 -Owner dev
                (Get-DevDbQuota -User dev).Databases | Should -Be 2
                (Get-DevDbQuota).Exempt | Should -BeTrue
            }
            finally {
                Get-DevDbDatabase | Remove-DevDbDatabase -Force
                Connect-As dev
            }
        }
    }
    else {
        It 'a settings.json that cannot be read stops every command with SettingInvalid naming the file' {
            $settings = Join-Path $env:DEVDB_HOME 'settings.json'
            $kept = Get-Content -Raw -LiteralPath $settings
            try {
                Set-Content -LiteralPath $settings -Value '{ "quotas": { "databasesPerUsr": 1 } }'
                { Get-DevDbQuota -ErrorAction Stop } | Should -Throw -ErrorId 'SettingInvalid,DevDb.Commands.GetDevDbQuotaCommand'
                $Error[0].Exception.Message | Should -Match 'settings\.json'
            }
            finally {
                Set-Content -LiteralPath $settings -Value $kept
            }
        }
    }
}
