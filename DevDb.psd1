# The module manifest. The build (src/DevDb.PowerShell/DevDb.PowerShell.csproj, target StageModule)
# stamps the {{...}} values from Directory.Build.props and writes the result next to the cmdlet
# assembly in artifacts/module/DevDb/<version>/: import that folder, not this file.
@{
    ModuleVersion        = '{{ModuleVersion}}'
    GUID                 = 'a1edb091-8e49-43fe-922d-babf162ea0ff'
    Author               = 'DevDb contributors'
    CompanyName          = 'DevDb contributors'
    Copyright            = '(c) DevDb contributors. MIT License.'
    Description          = 'Private, disposable PostgreSQL databases full of realistic data, in seconds: register a pg_dump as a project, then clone databases from it, locally or through a DevDb server on Kubernetes.'
    CompatiblePSEditions = @('Core')
    PowerShellVersion    = '7.4'

    # DevDb.Core and its dependencies load from dependencies/ into a private AssemblyLoadContext.
    RootModule           = 'DevDb.PowerShell.dll'
    FormatsToProcess     = @('DevDb.format.ps1xml')

    CmdletsToExport      = @(
        'New-DevDbProject'
        'Get-DevDbProject'
        'Update-DevDbProject'
        'Wait-DevDbProject'
        'Remove-DevDbProject'
        'New-DevDbDatabase'
        'Get-DevDbDatabase'
        'Set-DevDbDatabase'
        'Remove-DevDbDatabase'
        'Reset-DevDbDatabase'
        'Stop-DevDbDatabase'
        'Start-DevDbDatabase'
        'Get-DevDbConnectionString'
        'Checkpoint-DevDbDatabase'
        'Restore-DevDbDatabase'
        'Get-DevDbCheckpoint'
        'Remove-DevDbCheckpoint'
        'Wait-DevDbDatabase'
        'Connect-DevDb'
        'Disconnect-DevDb'
        'Get-DevDbContext'
        'Get-DevDbQuota'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()

    # No HelpInfoURI: the full help (every cmdlet and the about_ topics) ships inside the module, in
    # en-US/, so Update-Help has nothing to download for DevDb.

    PrivateData          = @{
        PSData = @{
            Tags         = @('PostgreSQL', 'Postgres', 'Database', 'Development', 'Testing', 'CI', 'pg_dump', 'Kubernetes',
                             'PSEdition_Core', 'Linux', 'Windows', 'MacOS')
            ProjectUri   = '{{ProjectUri}}'
            LicenseUri   = '{{ProjectUri}}/blob/main/LICENSE'
            ReleaseNotes = @'
0.1.0
- Projects (New/Get/Update/Wait/Remove-DevDbProject): a pg_dump (file, http(s) or S3) restored once into an image; -NoWait and Wait-DevDbProject for long builds.
- Databases (New/Get/Remove/Reset/Stop/Start/Wait-DevDbDatabase, Get-DevDbConnectionString): copy-on-write clones of the newest image, each with its own server, port and password.
- Three ways in: the local engine (no server), a DevDb server with a token (Connect-DevDb -Server), a Kubernetes namespace with a kubeconfig (Connect-DevDb -Kubernetes).
- Full help: Get-Help <cmdlet> -Examples; about_DevDb, about_DevDb_Server, about_DevDb_Kubernetes, about_DevDb_Errors.
'@
        }
    }
}
