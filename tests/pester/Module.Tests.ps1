# The module as a package: the staged folder, manifest, exports, load contexts, parameter binding,
# names, -WhatIf, errors, help and completion. Engine calls here go to an empty private DEVDB_HOME.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-DevDbModule
    $repo = Get-RepoRoot
    $module = Get-Module DevDb
    $stage = $module.ModuleBase
    $manifest = Import-PowerShellDataFile (Join-Path $stage 'DevDb.psd1')
    New-DevDbTestHome | Out-Null

    # Runs a command in a new pwsh process with the staged module imported; its output as one string.
    function Invoke-ChildPwsh([string] $Command) {
        $output = & dotnet (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -Command "Import-Module '$(Get-DevDbModulePath)'; $Command" 2>&1
        ($output | ForEach-Object { "$_" }) -join "`n"
    }
}

AfterAll {
    Clear-DevDbTestHome
}

Describe 'Package' {
    It 'is staged in artifacts/module/DevDb/(the ModuleVersion of Directory.Build.props)' {
        [xml] $props = Get-Content -Raw (Join-Path $repo 'Directory.Build.props')
        $expected = @($props.Project.PropertyGroup.ModuleVersion | Where-Object { $_ })[0]
        $expected | Should -Not -BeNullOrEmpty
        $stage | Should -Be (Join-Path $repo "artifacts/module/DevDb/$expected")
        $manifest.ModuleVersion | Should -Be $expected
        $module.Version | Should -Be ([version] $expected)
    }

    It 'has no hand-typed version: the source manifest holds a placeholder the build stamps' {
        $source = Import-PowerShellDataFile (Join-Path $repo 'DevDb.psd1')
        $source.ModuleVersion | Should -Be '{{ModuleVersion}}'
        Join-Path $repo 'module/DevDb.psd1' | Should -Not -Exist -Because 'one source manifest: the root one'
    }

    It 'holds only what the module needs' {
        $files = @(Get-ChildItem -LiteralPath $stage -Recurse -File | ForEach-Object {
                [System.IO.Path]::GetRelativePath($stage, $_.FullName).Replace('\', '/') })
        $topLevel = @($files | Where-Object { $_ -notmatch '/' } | Sort-Object)
        $topLevel | Should -Be @('DevDb.format.ps1xml', 'DevDb.PowerShell.dll', 'DevDb.psd1', 'LICENSE', 'THIRD-PARTY-NOTICES.txt' | Sort-Object)
        @($files | Where-Object { $_ -like 'en-US/*' } | Sort-Object) |
            Should -Be @('en-US/about_DevDb.help.txt', 'en-US/about_DevDb_Errors.help.txt', 'en-US/about_DevDb_Kubernetes.help.txt',
                'en-US/about_DevDb_Server.help.txt', 'en-US/DevDb.PowerShell.dll-Help.xml' | Sort-Object)
        $dependencies = @($files | Where-Object { $_ -like 'dependencies/*' })
        $dependencies | Should -Not -BeNullOrEmpty
        $dependencies | Where-Object { $_ -notlike '*.dll' } | Should -BeNullOrEmpty
        $files.Count | Should -Be ($topLevel.Count + 5 + $dependencies.Count)
    }

    It 'ships an MIT LICENSE, also the repository''s' {
        Get-Content -Raw (Join-Path $stage 'LICENSE') | Should -Be (Get-Content -Raw (Join-Path $repo 'LICENSE'))
        Get-Content -Raw (Join-Path $stage 'LICENSE') | Should -Match '^MIT License'
    }
}

Describe 'Manifest' {
    It 'is a valid manifest for PowerShell 7.4+ Core' {
        $tested = Test-ModuleManifest (Join-Path $stage 'DevDb.psd1') -ErrorAction Stop
        $tested.CompatiblePSEditions | Should -Be @('Core')
        $tested.PowerShellVersion | Should -Be ([version] '7.4')
        $manifest.RootModule | Should -Be 'DevDb.PowerShell.dll'
        $manifest.GUID | Should -Not -BeNullOrEmpty
    }

    It 'has the metadata the Gallery shows' {
        $tested = Test-ModuleManifest (Join-Path $stage 'DevDb.psd1') -ErrorAction Stop
        $tested.Author | Should -Not -BeNullOrEmpty
        $tested.Description | Should -Not -BeNullOrEmpty
        $tested.Copyright | Should -Match 'DevDb contributors'
        $tested.ProjectUri.Scheme | Should -Be 'https'
        $tested.LicenseUri.AbsoluteUri | Should -Be "$($tested.ProjectUri.AbsoluteUri.TrimEnd('/'))/blob/main/LICENSE"
        $tested.ReleaseNotes | Should -Match ([regex]::Escape($manifest.ModuleVersion))
        $tested.Tags | Should -Contain 'PSEdition_Core'
        $tested.Tags | Should -Contain 'PostgreSQL'
    }

    It 'says why it has no HelpInfoURI: the help ships inside the module' {
        $manifest.ContainsKey('HelpInfoURI') | Should -BeFalse
        Get-Content -Raw (Join-Path $stage 'DevDb.psd1') | Should -Match 'No HelpInfoURI'
    }

    It 'exports exactly the cmdlets it lists, and nothing else' {
        $manifest.CmdletsToExport | Should -Not -Contain '*'
        @($module.ExportedCmdlets.Keys | Sort-Object) | Should -Be @($manifest.CmdletsToExport | Sort-Object)
        $module.ExportedCmdlets.Count | Should -Be 22
        $module.ExportedFunctions.Count | Should -Be 0
        $module.ExportedAliases.Count | Should -Be 0
        $module.ExportedVariables.Count | Should -Be 0
    }

    It 'declares an OutputType on every cmdlet' {
        foreach ($command in $module.ExportedCmdlets.Values) {
            $command.ImplementingType.GetCustomAttributes([System.Management.Automation.OutputTypeAttribute], $false) |
                Should -Not -BeNullOrEmpty -Because "$($command.Name) must declare what it writes"
        }
    }
}

Describe 'Dependency isolation' {
    It 'loads the cmdlets into the default load context and DevDb.Core into the DevDb one' {
        Get-DevDbProject | Should -BeNullOrEmpty   # touches the engine, so DevDb.Core is loaded
        $loaded = [AppDomain]::CurrentDomain.GetAssemblies()
        $cmdlets = @($loaded | Where-Object { $_.GetName().Name -eq 'DevDb.PowerShell' })
        $core = @($loaded | Where-Object { $_.GetName().Name -eq 'DevDb.Core' })
        $cmdlets.Count | Should -Be 1
        $core.Count | Should -Be 1
        [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($cmdlets[0]).Name | Should -Be 'Default'
        [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($core[0]).Name | Should -Be 'DevDb'
        $core[0].Location | Should -Be (Join-Path $stage 'dependencies/DevDb.Core.dll')
    }

    It 'ships DevDb.Core and its key dependencies in dependencies/, not beside the cmdlets' {
        foreach ($name in 'DevDb.Core', 'Npgsql', 'AWSSDK.Core', 'AWSSDK.S3', 'KubernetesClient', 'YamlDotNet') {
            Join-Path $stage "dependencies/$name.dll" | Should -Exist
            Join-Path $stage "$name.dll" | Should -Not -Exist
        }
    }

    It 'exposes no type of DevDb.Core in any cmdlet''s parameters or output' {
        foreach ($command in $module.ExportedCmdlets.Values) {
            foreach ($parameter in $command.Parameters.Values) {
                $parameter.ParameterType.Assembly.GetName().Name | Should -Not -Be 'DevDb.Core' -Because "$($command.Name) -$($parameter.Name)"
            }
            foreach ($output in $command.OutputType) {
                $output.Type.Assembly.GetName().Name | Should -Not -Be 'DevDb.Core' -Because "$($command.Name) writes $($output.Name)"
            }
        }
        foreach ($type in [DevDb.Commands.DevDbDatabase], [DevDb.Commands.DevDbProject], [DevDb.Commands.DevDbImage], [DevDb.Commands.DevDbContext]) {
            foreach ($property in $type.GetProperties()) {
                $property.PropertyType.Assembly.GetName().Name | Should -Not -Be 'DevDb.Core' -Because "$($type.Name).$($property.Name)"
            }
        }
    }
}

Describe 'Parameter binding' {
    It 'binds -Name from a piped object''s Name property' {
        { [pscustomobject] @{ Name = 'ghost' } | Stop-DevDbDatabase -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'DatabaseNotFound,DevDb.Commands.StopDevDbDatabaseCommand'
        $Error[0].TargetObject | Should -Be 'ghost'
    }

    It 'binds piped strings to -Name of <_>' -ForEach @('Get-DevDbDatabase', 'Get-DevDbConnectionString', 'Wait-DevDbDatabase', 'Start-DevDbDatabase') {
        $found = 'ghost', 'phantom' | & $_ -ErrorAction SilentlyContinue -ErrorVariable notFound
        $found | Should -BeNullOrEmpty
        @($notFound.TargetObject) | Should -Be @('ghost', 'phantom')
        @($notFound.FullyQualifiedErrorId | ForEach-Object { ($_ -split ',')[0] } | Select-Object -Unique) | Should -Be @('DatabaseNotFound')
    }

    It 'binds piped strings to -Name of the project cmdlets' {
        'ghost' | Get-DevDbProject -ErrorAction SilentlyContinue -ErrorVariable notFound
        $notFound[0].FullyQualifiedErrorId | Should -Be 'ProjectNotFound,DevDb.Commands.GetDevDbProjectCommand'
        'ghost' | Wait-DevDbProject -ErrorAction SilentlyContinue -ErrorVariable notFound
        $notFound[0].FullyQualifiedErrorId | Should -Be 'ProjectNotFound,DevDb.Commands.WaitDevDbProjectCommand'
    }

    It 'has a Name set bound by value and property name, and an InputObject set bound by value, on <_>' -ForEach @(
        'Remove-DevDbDatabase', 'Reset-DevDbDatabase', 'Stop-DevDbDatabase', 'Start-DevDbDatabase', 'Get-DevDbConnectionString', 'Wait-DevDbDatabase'
    ) {
        $command = Get-Command $_
        @($command.ParameterSets.Name | Sort-Object) | Should -Be @('InputObject', 'Name')
        $name = $command.Parameters['Name'].ParameterSets['Name']
        $name.ValueFromPipelineByPropertyName | Should -BeTrue
        $name.ValueFromPipeline | Should -BeTrue
        $inputObject = $command.Parameters['InputObject']
        $inputObject.ParameterSets['InputObject'].ValueFromPipeline | Should -BeTrue
        $inputObject.ParameterType | Should -Be ([DevDb.Commands.DevDbDatabase[]])
    }

    It 'takes projects from the pipeline in Get-DevDbDatabase (an InputObject set) and New-DevDbDatabase (-Project)' {
        $inputObject = (Get-Command Get-DevDbDatabase).Parameters['InputObject']
        $inputObject.ParameterSets['InputObject'].ValueFromPipeline | Should -BeTrue
        $inputObject.ParameterType | Should -Be ([DevDb.Commands.DevDbProject[]])
        $project = (Get-Command New-DevDbDatabase).Parameters['Project']
        # In the set that clones the project's image (the other set, -FromDatabase, makes a branch).
        $project.ParameterSets['Image'].ValueFromPipeline | Should -BeTrue
        $project.ParameterSets['Image'].ValueFromPipelineByPropertyName | Should -BeTrue
        # A piped name stands for the project too, lower-cased like a typed one.
        'SHOP' | New-DevDbDatabase -Name x -ErrorAction SilentlyContinue -ErrorVariable notFound
        $notFound[0].FullyQualifiedErrorId | Should -Be 'ProjectNotFound,DevDb.Commands.NewDevDbDatabaseCommand'
        $notFound[0].TargetObject | Should -BeExactly 'shop'
    }

    It 'offers the five connection string formats and rejects others' {
        (Get-Command Get-DevDbConnectionString).Parameters['Format'].Attributes.ValidValues |
            Should -Be @('Uri', 'KeyValue', 'Npgsql', 'Jdbc', 'Env')
        { Get-DevDbConnectionString -Name ghost -Format Yaml -ErrorAction Stop } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,DevDb.Commands.GetDevDbConnectionStringCommand'
    }

    It 'asks for confirmation before <Command> (ConfirmImpact <Impact>)' -ForEach @(
        @{ Command = 'Remove-DevDbDatabase'; Impact = 'High' }
        @{ Command = 'Reset-DevDbDatabase'; Impact = 'High' }
        @{ Command = 'Remove-DevDbProject'; Impact = 'High' }
        @{ Command = 'Stop-DevDbDatabase'; Impact = 'Medium' }
        @{ Command = 'Update-DevDbProject'; Impact = 'Medium' }
    ) {
        $attribute = (Get-Command $Command).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
        $attribute.SupportsShouldProcess | Should -BeTrue
        $attribute.ConfirmImpact | Should -Be $Impact
    }

    It 'splits -Force (no prompt) from -IncludeDatabases (cascade) on Remove-DevDbProject' {
        $parameters = (Get-Command Remove-DevDbProject).Parameters
        $parameters['Force'].SwitchParameter | Should -BeTrue
        $parameters['IncludeDatabases'].SwitchParameter | Should -BeTrue
    }
}

Describe '-WhatIf' {
    It 'reports instead of acting: <_> -WhatIf does not reach the engine' -ForEach @(
        'Remove-DevDbDatabase', 'Reset-DevDbDatabase', 'Stop-DevDbDatabase', 'Remove-DevDbProject', 'Update-DevDbProject'
    ) {
        # Without -WhatIf each of these fails with a not-found error for 'ghost'; with it, nothing runs.
        { & $_ -Name ghost -Confirm:$false -ErrorAction Stop } | Should -Throw
        { & $_ -Name ghost -WhatIf -ErrorAction Stop } | Should -Not -Throw
    }

    It 'still only reports when -Force is given too' {
        { Remove-DevDbDatabase -Name ghost -Force -WhatIf -ErrorAction Stop } | Should -Not -Throw
        { Remove-DevDbDatabase -Name ghost -Force -ErrorAction Stop } |
            Should -Throw -ErrorId 'DatabaseNotFound,DevDb.Commands.RemoveDevDbDatabaseCommand'
    }

    It 'names the real, lower-case name in its text' {
        $text = Invoke-ChildPwsh "Stop-DevDbDatabase -Name GHOST -WhatIf; 'GHOST' | Remove-DevDbProject -IncludeDatabases -WhatIf"
        $text | Should -Match 'What if: Performing the operation "Stop database server" on target "ghost"\.'
        $text | Should -Match 'What if: Performing the operation "Remove project, its images and all its databases" on target "ghost"\.'
        $text | Should -Not -CMatch 'GHOST'
    }
}

Describe 'Names' {
    It 'lower-cases what is typed: <Command> <Name> looks for <Expected>' -ForEach @(
        @{ Command = 'Get-DevDbDatabase'; Name = 'GHOST'; Expected = 'ghost'; Id = 'DatabaseNotFound' }
        @{ Command = 'Get-DevDbProject'; Name = 'Ghost'; Expected = 'ghost'; Id = 'ProjectNotFound' }
        @{ Command = 'Remove-DevDbDatabase'; Name = 'GhOsT'; Expected = 'ghost'; Id = 'DatabaseNotFound' }
        @{ Command = 'Wait-DevDbProject'; Name = 'GHOST'; Expected = 'ghost'; Id = 'ProjectNotFound' }
    ) {
        $confirm = if ($Command -like 'Remove-*') { @{ Confirm = $false } } else { @{} }
        & $Command -Name $Name @confirm -ErrorAction SilentlyContinue -ErrorVariable notFound
        $notFound.Count | Should -Be 1
        $notFound[0].FullyQualifiedErrorId | Should -BeLike "$Id,*"
        $notFound[0].TargetObject | Should -BeExactly $Expected
        $notFound[0].Exception.Message | Should -Match "'$Expected'"
    }

    It 'rejects the project name <_> before doing anything' -ForEach @('shop_1', '-shop', 'shop-', ('a' * 64)) {
        { New-DevDbProject -Name $_ -Source (Join-Path $TestDrive 'no.dump') -ErrorAction Stop } |
            Should -Throw -ErrorId 'NameInvalid,DevDb.Commands.NewDevDbProjectCommand'
        $Error[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $Error[0].TargetObject | Should -Be $_
        $Error[0].ErrorDetails.RecommendedAction | Should -Match 'lowercase'
    }

    It 'rejects an invalid database name, naming it in lower case' {
        { New-DevDbDatabase -Project shop -Name 'Dave.Smith' -ErrorAction Stop } |
            Should -Throw -ErrorId 'NameInvalid,DevDb.Commands.NewDevDbDatabaseCommand'
        $Error[0].Exception.Message | Should -Match "'dave\.smith' is not a valid database name: it has characters other than a-z"
    }

    It 'echoes only a short prefix of a 5000-character name, in <Command>' -ForEach @(
        @{ Command = 'Get-DevDbDatabase'; Id = 'NameInvalid,DevDb.Commands.GetDevDbDatabaseCommand' }
        @{ Command = 'Get-DevDbProject'; Id = 'NameInvalid,DevDb.Commands.GetDevDbProjectCommand' }
        @{ Command = 'Stop-DevDbDatabase'; Id = 'NameInvalid,DevDb.Commands.StopDevDbDatabaseCommand' }
        @{ Command = 'Remove-DevDbProject'; Id = 'NameInvalid,DevDb.Commands.RemoveDevDbProjectCommand' }
        @{ Command = 'New-DevDbProject'; Id = 'NameInvalid,DevDb.Commands.NewDevDbProjectCommand' }
    ) {
        $long = 'x' * 5000
        $parameters = @{ Name = $long; ErrorAction = 'SilentlyContinue'; ErrorVariable = 'failed' }
        if ($Command -eq 'New-DevDbProject') { $parameters.Source = 'x.dump' }
        if ($Command -match '^(Stop|Remove)') { $parameters.Confirm = $false }
        & $Command @parameters
        $failed.Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -Be $Id
        $failed[0].Exception.Message.Length | Should -BeLessThan 200
        $failed[0].Exception.Message | Should -Match '\(5000 characters\)'
        $failed[0].TargetObject.Length | Should -BeLessThan 100
        ($failed[0] | Out-String).Length | Should -BeLessThan 1000
    }
}

Describe 'Lookups that find nothing' {
    It 'are non-terminating, so -ErrorAction Ignore asks "is it there?": <Command>' -ForEach @(
        @{ Command = { Get-DevDbDatabase -Project nope -ErrorAction Ignore } }
        @{ Command = { Get-DevDbDatabase -Name nope -ErrorAction Ignore } }
        @{ Command = { Get-DevDbProject -Name nope -ErrorAction Ignore } }
        @{ Command = { Get-DevDbConnectionString -Name nope -ErrorAction Ignore } }
    ) {
        $errorsBefore = $Error.Count
        $result = & $Command
        $result | Should -BeNullOrEmpty
        $Error.Count | Should -Be $errorsBefore -Because '-ErrorAction Ignore keeps the error out of $Error too'
    }

    It 'write ProjectNotFound and DatabaseNotFound with a recommended action, and go on with the other names' {
        $found = Get-DevDbProject -Name 'nope', 'nada*' -ErrorAction SilentlyContinue -ErrorVariable notFound
        $found | Should -BeNullOrEmpty
        $notFound.Count | Should -Be 1   # a wildcard that matches nothing is not an error
        $notFound[0].FullyQualifiedErrorId | Should -Be 'ProjectNotFound,DevDb.Commands.GetDevDbProjectCommand'

        Get-DevDbDatabase -Project nope -ErrorAction SilentlyContinue -ErrorVariable notFound
        $notFound[0].FullyQualifiedErrorId | Should -Be 'ProjectNotFound,DevDb.Commands.GetDevDbDatabaseCommand'
        $notFound[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $notFound[0].ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
        { Get-DevDbDatabase -Name nope -ErrorAction Stop } | Should -Throw -ErrorId 'DatabaseNotFound,DevDb.Commands.GetDevDbDatabaseCommand'
    }
}

Describe 'Errors by type' {
    It 'are DevDb.Commands.DevDbException, with the ErrorId''s code, for catch [type]' {
        $caught = $null
        try { Get-DevDbDatabase -Name nope -ErrorAction Stop }
        catch [DevDb.Commands.DevDbException] { $caught = $_ }
        $caught | Should -Not -BeNullOrEmpty
        $caught.Exception.ErrorCode | Should -Be 'DatabaseNotFound'
        $caught.Exception.Category | Should -Be 'ObjectNotFound'
        $caught.Exception.Target | Should -Be 'nope'
        $caught.Exception.RecommendedAction | Should -Not -BeNullOrEmpty
        $caught.FullyQualifiedErrorId | Should -Be 'DatabaseNotFound,DevDb.Commands.GetDevDbDatabaseCommand'
    }

    It 'is the type of the module''s own errors and of terminating ones too' {
        $codes = foreach ($command in { New-DevDbDatabase -Project shop -Name 'x_y' -ErrorAction Stop }, { Wait-DevDbProject -Name ghost -ErrorAction Stop }) {
            try { & $command } catch [DevDb.Commands.DevDbException] { $_.Exception.ErrorCode }
        }
        $codes | Should -Be @('NameInvalid', 'ProjectNotFound')
        $env:DEVDB_SERVER = "http://127.0.0.1:$(Get-FreeTcpPort)"
        $env:DEVDB_TOKEN = 'x'
        try {
            $unreachable = try { Get-DevDbProject } catch [DevDb.Commands.DevDbException] { $_ }
        }
        finally {
            Remove-Item Env:DEVDB_SERVER, Env:DEVDB_TOKEN
        }
        $unreachable.Exception.ErrorCode | Should -Be 'ServerUnreachable'
        $unreachable.FullyQualifiedErrorId | Should -Be 'ServerUnreachable,DevDb.Commands.GetDevDbProjectCommand'
    }
}

Describe '-Verbose' {
    It 'says which engine and state folder the cmdlets use, and how long the step took' {
        $verbose = @(Get-DevDbDatabase -Name ghost -Verbose -ErrorAction SilentlyContinue 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
        if (Test-ServerMode) {
            $verbose[0].Message | Should -Match 'Using the DevDb API at http://127\.0\.0\.1:\d+/ as pester \(admin\)'
        }
        else {
            $verbose[0].Message | Should -Be "Using the local engine, state folder $env:DEVDB_HOME."
        }
    }
}

Describe '-Verbose about sources' {
    # Decided at discovery, before BeforeAll has imported TestHelpers (Test-ServerMode).
    if ($env:DEVDB_TEST_MODE -ne 'Server') {
        It 'names the S3 endpoint this machine would fetch an s3:// source from' {
            $saved = @{}
            $settings = @{
                AWS_ENDPOINT_URL_S3 = "http://127.0.0.1:$(Get-FreeTcpPort)"   # nothing listens: the probe fails at once
                AWS_ACCESS_KEY_ID = 'test'; AWS_SECRET_ACCESS_KEY = 'test'; AWS_REGION = 'us-east-1'; AWS_EC2_METADATA_DISABLED = 'true'
            }
            foreach ($name in $settings.Keys) { $saved[$name] = [Environment]::GetEnvironmentVariable($name); [Environment]::SetEnvironmentVariable($name, $settings[$name]) }
            try {
                $output = New-DevDbProject -Name s3probe -Source 's3://dumps/shop.dump?ignored' -Verbose -ErrorAction SilentlyContinue -ErrorVariable failed 4>&1
            }
            finally {
                foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
            }
            @($output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message |
                Should -Contain "Source s3://dumps/shop.dump?REDACTED: fetched by this machine from the S3 endpoint $($settings.AWS_ENDPOINT_URL_S3) (AWS_ENDPOINT_URL_S3), with the standard AWS credential chain."
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'Source*,DevDb.Commands.NewDevDbProjectCommand'
        }
    }

    It 'never shows the user name, password or query string of an http(s) source' {
        $output = New-DevDbProject -Name secret -Source 'https://me:hunter2@127.0.0.1:1/shop.dump?X-Amz-Signature=sig' -WhatIf -Verbose 4>&1 6>&1
        $text = ($output | Out-String) + (Invoke-ChildPwsh "New-DevDbProject -Name secret -Source 'https://me:hunter2@127.0.0.1:1/shop.dump?X-Amz-Signature=sig' -WhatIf")
        $text | Should -Match ([regex]::Escape("https://REDACTED@127.0.0.1:1/shop.dump?REDACTED"))
        $text | Should -Not -Match 'hunter2|sig\b|me:'
    }
}

Describe 'Help' {
    BeforeAll {
        $commonParameters = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
    }

    It 'gives <_> a synopsis, a description, examples with code and related links' -ForEach @(
        (Import-PowerShellDataFile (Join-Path (Get-ChildItem -Directory (Join-Path $PSScriptRoot '../../artifacts/module/DevDb'))[0].FullName 'DevDb.psd1')).CmdletsToExport
    ) {
        $help = Get-Help $_ -Full
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -BeLike "*$_ *[<CommonParameters>]*" -Because 'without help, the synopsis is only the syntax'
        ($help.description.Text -join ' ').Length | Should -BeGreaterThan 80
        @($help.examples.example).Count | Should -BeGreaterOrEqual 2
        foreach ($example in $help.examples.example) {
            $example.code | Should -Not -BeNullOrEmpty
            $example.title | Should -Match 'Example \d+: \S'
        }
        @($help.relatedLinks.navigationLink).Count | Should -BeGreaterOrEqual 1
    }

    It 'describes every parameter of <_>' -ForEach @(
        (Import-PowerShellDataFile (Join-Path (Get-ChildItem -Directory (Join-Path $PSScriptRoot '../../artifacts/module/DevDb'))[0].FullName 'DevDb.psd1')).CmdletsToExport
    ) {
        $help = Get-Help $_ -Full
        $documented = @{}
        foreach ($parameter in $help.parameters.parameter) { $documented[$parameter.name] = ($parameter.description.Text -join ' ') }
        foreach ($name in (Get-Command $_).Parameters.Keys | Where-Object { $_ -notin $commonParameters }) {
            $documented.ContainsKey($name) | Should -BeTrue -Because "-$name of $_ needs help"
            $documented[$name].Length | Should -BeGreaterThan 10 -Because "-$name of $_ needs a description"
        }
        foreach ($name in $documented.Keys) {
            (Get-Command $_).Parameters.Keys | Should -Contain $name -Because "the help of $_ describes -$name"
        }
    }

    It 'shows real examples with Get-Help New-DevDbDatabase -Examples' {
        $text = Get-Help New-DevDbDatabase -Examples | Out-String
        $text | Should -Match 'Example 1: Create a database for yourself'
        $text | Should -Match ([regex]::Escape('$db = New-DevDbDatabase -Project shop -Name dave'))
        $text | Should -Match ([regex]::Escape('$db.GetCredential().GetNetworkCredential().Password'))
        $text | Should -Match 'New-DevDbDatabase -Project shop -Name \$name -NoWait'
    }

    It 'names the cmdlet''s own pipeline input and output types' {
        $help = Get-Help Get-DevDbDatabase -Full
        @($help.inputTypes.inputType.type.name) | Should -Contain 'String[]'
        @($help.inputTypes.inputType.type.name) | Should -Contain 'DevDbProject[]'
        $help.returnValues.returnValue.type.name | Should -Be 'DevDb.Commands.DevDbDatabase'
    }

    It 'has the about_ topic <_>, found by Get-Help' -ForEach @('about_DevDb', 'about_DevDb_Server', 'about_DevDb_Kubernetes', 'about_DevDb_Errors') {
        $text = Get-Help $_ | Out-String
        $text | Should -Match "TOPIC\s+$_"
        $text.Length | Should -BeGreaterThan 1500
    }

    It 'names every cmdlet in about_DevDb' {
        $text = (Get-Help about_DevDb | Out-String)
        foreach ($name in $manifest.CmdletsToExport) {
            $text | Should -Match ([regex]::Escape($name))
        }
    }

    It 'lists in about_DevDb_Errors every error code the engine knows' {
        $text = (Get-Help about_DevDb_Errors | Out-String)
        $core = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'DevDb.Core' }
        $codes = $core.GetType('DevDb.Core.ErrorCodes', $true).GetFields() | Where-Object IsLiteral | ForEach-Object { $_.GetValue($null) }
        $codes.Count | Should -BeGreaterThan 20
        foreach ($code in $codes) { $text | Should -Match "\b$code\b" -Because "$code is an ErrorId users can meet" }
    }
}

Describe 'Completion' {
    It 'completes <Parameter> of <Command> with <Completer>' -ForEach @(
        @{ Command = 'New-DevDbDatabase'; Parameter = 'Project'; Completer = 'ProjectNameCompleter' }
        @{ Command = 'Get-DevDbProject'; Parameter = 'Name'; Completer = 'ProjectNameCompleter' }
        @{ Command = 'Update-DevDbProject'; Parameter = 'Name'; Completer = 'ProjectNameCompleter' }
        @{ Command = 'Wait-DevDbProject'; Parameter = 'Name'; Completer = 'ProjectNameCompleter' }
        @{ Command = 'Remove-DevDbProject'; Parameter = 'Name'; Completer = 'ProjectNameCompleter' }
        @{ Command = 'Get-DevDbDatabase'; Parameter = 'Name'; Completer = 'DatabaseNameCompleter' }
        @{ Command = 'Get-DevDbDatabase'; Parameter = 'Project'; Completer = 'ProjectNameCompleter' }
        @{ Command = 'Remove-DevDbDatabase'; Parameter = 'Name'; Completer = 'DatabaseNameCompleter' }
        @{ Command = 'Reset-DevDbDatabase'; Parameter = 'Name'; Completer = 'DatabaseNameCompleter' }
        @{ Command = 'Get-DevDbConnectionString'; Parameter = 'Name'; Completer = 'DatabaseNameCompleter' }
        @{ Command = 'New-DevDbProject'; Parameter = 'PostgresVersion'; Completer = 'PostgresVersionCompleter' }
        @{ Command = 'Disconnect-DevDb'; Parameter = 'Name'; Completer = 'ContextNameCompleter' }
    ) {
        $attribute = (Get-Command $Command).Parameters[$Parameter].Attributes |
            Where-Object { $_ -is [System.Management.Automation.ArgumentCompleterAttribute] }
        $attribute.Type.Name | Should -Be $Completer
    }

    It 'completes nothing, and shows no error, when there is nothing to complete' {
        $line = 'Get-DevDbDatabase -Name x'
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | Should -BeNullOrEmpty
    }

    # Decided at discovery, before BeforeAll has imported TestHelpers (Test-ServerMode).
    if ($env:DEVDB_TEST_MODE -ne 'Server') {
        It 'completes -PostgresVersion with the major versions installed here' {
            $line = 'New-DevDbProject -Name x -Source y -PostgresVersion '
            $installed = @(Get-ChildItem '/usr/lib/postgresql/*/bin/postgres' -ErrorAction SilentlyContinue | ForEach-Object { $_.Directory.Parent.Name })
            $installed | Should -Not -BeNullOrEmpty
            @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Sort-Object) |
                Should -Be @($installed | Sort-Object)
        }
    }
}
