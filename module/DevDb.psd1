@{
    # ModuleVersion must equal <ModuleVersion> in Directory.Build.props (tests/pester/Manifest.Tests.ps1 checks).
    ModuleVersion        = '0.1.0'
    GUID                 = 'a1edb091-8e49-43fe-922d-babf162ea0ff'
    Author               = 'DevDb contributors'
    Description          = 'Private, disposable PostgreSQL databases full of realistic data, in seconds: register a pg_dump as a project, then clone databases from it.'
    CompatiblePSEditions = @('Core')
    PowerShellVersion    = '7.4'

    # Built by `dotnet build DevDb.sln`; DevDb.Core and its dependencies load from module/bin/dependencies into a private AssemblyLoadContext.
    RootModule           = 'module/bin/DevDb.PowerShell.dll'
    FormatsToProcess     = @('module/DevDb.format.ps1xml')

    CmdletsToExport      = @(
        'New-DevDbProject'
        'Get-DevDbProject'
        'Update-DevDbProject'
        'Remove-DevDbProject'
        'New-DevDbDatabase'
        'Get-DevDbDatabase'
        'Remove-DevDbDatabase'
        'Reset-DevDbDatabase'
        'Stop-DevDbDatabase'
        'Start-DevDbDatabase'
        'Get-DevDbConnectionString'
        'Wait-DevDbDatabase'
        'Connect-DevDb'
        'Disconnect-DevDb'
        'Get-DevDbContext'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()

    PrivateData          = @{
        PSData = @{
            Tags = @('PostgreSQL', 'Postgres', 'Database', 'Development', 'Testing', 'CI', 'pg_dump', 'Linux', 'Windows', 'macOS')
        }
    }
}
