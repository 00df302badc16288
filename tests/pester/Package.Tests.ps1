# The module as users get it: the staged folder published with Publish-PSResource to a local file
# repository, installed from there with Install-PSResource into a fresh module path, then imported
# by name in a fresh pwsh that runs outside the checkout, where it creates, queries and removes a
# database on the local engine (real Postgres). PSResourceGet's settings and the installed module
# live in a home folder of this test (HOME), never the machine user's. run.ps1 runs this file once.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-DevDbModule   # only for the clean-up: the tests use the installed copy, in pwsh processes of their own
    $repo = Get-RepoRoot
    $stage = @(Get-ChildItem -Directory (Get-DevDbModulePath))[0].FullName
    $version = (Import-PowerShellDataFile (Join-Path $stage 'DevDb.psd1')).ModuleVersion
    $testHome = New-DevDbTestHome
    # Outside the checkout: a user's machine has no repository.
    $work = Join-Path ([System.IO.Path]::GetTempPath()) "devdb-package-$([guid]::NewGuid().ToString('n'))"
    $null = New-Item -ItemType Directory -Path $work
    # A user's home of its own: PSResourceGet keeps its repositories and CurrentUser installs under HOME.
    $userHome = Join-Path $work 'home'
    $data = Join-Path $userHome '.local/share'
    $feed = Join-Path $work 'feed'
    $null = New-Item -ItemType Directory -Path $userHome, $feed
    $machineUserModules = Join-Path ([Environment]::GetFolderPath('UserProfile')) '.local/share/powershell/Modules/DevDb'
    $machineUserHadDevDb = Test-Path -LiteralPath $machineUserModules

    # A new pwsh process started in $work, with $userHome as its HOME.
    function Invoke-FreshPwsh([string] $Script) {
        $scriptFile = Join-Path $work "step-$([guid]::NewGuid().ToString('n')).ps1"
        Set-Content -LiteralPath $scriptFile -Value "`$ErrorActionPreference = 'Stop'`n$Script"
        $saved = @{}
        foreach ($name in 'HOME', 'XDG_DATA_HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME', 'PSModulePath') { $saved[$name] = [Environment]::GetEnvironmentVariable($name) }
        $env:HOME = $userHome
        Remove-Item Env:XDG_DATA_HOME, Env:XDG_CONFIG_HOME, Env:XDG_CACHE_HOME -ErrorAction SilentlyContinue
        # Only PowerShell's own modules (pwsh adds the user's folder under HOME): nothing of this session or the checkout.
        $env:PSModulePath = Join-Path $PSHOME 'Modules'
        Push-Location -LiteralPath $work
        try {
            $output = & dotnet (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -File $scriptFile 2>&1
            [pscustomobject] @{ ExitCode = $LASTEXITCODE; Output = (($output | ForEach-Object { "$_" }) -join "`n") }
        }
        finally {
            Pop-Location
            foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
        }
    }
}

AfterAll {
    try {
        Clear-DevDbTestHome
    }
    finally {
        if ($work -and (Test-Path -LiteralPath $work)) { Remove-Item -LiteralPath $work -Recurse -Force }
    }
}

Describe 'Publish-PSResource and Install-PSResource' {
    It 'publishes the staged module to a local file repository' {
        $result = Invoke-FreshPwsh @"
Register-PSResourceRepository -Name DevDbLocal -Uri '$feed' -Trusted
Publish-PSResource -Path '$(Join-Path $stage 'DevDb.psd1')' -Repository DevDbLocal
(Find-PSResource -Name DevDb -Repository DevDbLocal).Version.ToString()
"@
        $result.ExitCode | Should -Be 0 -Because $result.Output
        ($result.Output -split "`n")[-1] | Should -Be $version
        $package = @(Get-ChildItem -LiteralPath $feed -Filter '*.nupkg')
        $package.Name | Should -Be @("DevDb.$version.nupkg")
        $package[0].Length | Should -BeLessThan 15MB
    }

    It 'puts only the module''s files in the package' {
        $package = (Get-ChildItem -LiteralPath $feed -Filter '*.nupkg')[0].FullName
        $zip = [System.IO.Compression.ZipFile]::OpenRead($package)
        try {
            $entries = @($zip.Entries.FullName | ForEach-Object { [uri]::UnescapeDataString($_) } |
                    Where-Object { $_ -notmatch '^(_rels/|package/|\[Content_Types\]\.xml$|DevDb\.nuspec$)' } | Sort-Object)
        }
        finally {
            $zip.Dispose()
        }
        $staged = @(Get-ChildItem -LiteralPath $stage -Recurse -File | ForEach-Object {
                [System.IO.Path]::GetRelativePath($stage, $_.FullName).Replace('\', '/') } | Sort-Object)
        $entries | Should -Be $staged
    }

    It 'installs it from there into a fresh module path' {
        $result = Invoke-FreshPwsh @"
Install-PSResource -Name DevDb -Repository DevDbLocal -TrustRepository -Scope CurrentUser
(Get-InstalledPSResource -Name DevDb).InstalledLocation
"@
        $result.ExitCode | Should -Be 0 -Because $result.Output
        $installed = Join-Path $data "powershell/Modules/DevDb/$version"
        Join-Path $installed 'DevDb.psd1' | Should -Exist
        Join-Path $installed 'dependencies/DevDb.Core.dll' | Should -Exist
        Join-Path $installed 'en-US/DevDb.PowerShell.dll-Help.xml' | Should -Exist
    }

    It 'imports by name in a fresh pwsh outside the checkout, and creates, queries and removes a database' {
        Copy-Item -LiteralPath (Join-Path $repo 'samples/shop.dump') -Destination (Join-Path $work 'shop.dump')
        $psql = Get-Psql
        # DEVDB_HOME, DEVDB_CONFIG and DEVDB_PORT_RANGE (this test's private installation) are inherited.
        $result = Invoke-FreshPwsh @"
Import-Module DevDb
`$module = Get-Module DevDb
`$project = New-DevDbProject -Name shop -Source ./shop.dump
`$db = New-DevDbDatabase -Project shop -Name packaged
`$env:PGPASSWORD = `$db.GetCredential().GetNetworkCredential().Password
`$count = & '$psql' -X -A -t -h `$db.Host -p `$db.Port -U `$db.Username -d `$db.DatabaseName -c 'SELECT count(*) FROM customers'
Remove-DevDbDatabase -Name packaged -Force
Remove-DevDbProject -Name shop -Force
[pscustomobject] @{
    ModuleBase = `$module.ModuleBase
    Version = `$module.Version.ToString()
    Project = `$project.Status
    Database = `$db.Status
    Count = "`$count".Trim()
    Left = @(Get-DevDbDatabase).Count + @(Get-DevDbProject).Count
    Examples = @((Get-Help New-DevDbDatabase -Examples).examples.example).Count
} | ConvertTo-Json -Compress
"@
        $result.ExitCode | Should -Be 0 -Because $result.Output
        $facts = ($result.Output -split "`n")[-1] | ConvertFrom-Json
        $facts.ModuleBase | Should -Be (Join-Path $data "powershell/Modules/DevDb/$version")
        $facts.ModuleBase | Should -Not -BeLike "$repo*"
        $facts.Version | Should -Be $version
        $facts.Project | Should -Be 'Ready'
        $facts.Database | Should -Be 'Running'
        $facts.Count | Should -Be '1000'
        $facts.Left | Should -Be 0
        $facts.Examples | Should -BeGreaterOrEqual 2
    }

    It 'left the machine user''s PSResourceGet settings and module folders alone' {
        $userRepositories = Join-Path ([Environment]::GetFolderPath('LocalApplicationData')) 'PSResourceGet/PSResourceRepository.xml'
        if (Test-Path -LiteralPath $userRepositories) {
            Get-Content -Raw -LiteralPath $userRepositories | Should -Not -Match 'DevDbLocal'
        }
        Test-Path -LiteralPath $machineUserModules | Should -Be $machineUserHadDevDb
        Join-Path $data 'PSResourceGet/PSResourceRepository.xml' | Should -Exist
        Get-Content -Raw (Join-Path $data 'PSResourceGet/PSResourceRepository.xml') | Should -Match 'DevDbLocal'
    }
}
