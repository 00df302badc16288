# The module as a package: manifest, exports, load contexts, parameter binding, -WhatIf, validation, help.
# Engine calls here go to an empty private DEVDB_HOME.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-DevDbModule
    $repo = Get-RepoRoot
    $manifest = Import-PowerShellDataFile (Join-Path $repo 'DevDb.psd1')
    $module = Get-Module DevDb
    New-DevDbTestHome | Out-Null
}

AfterAll {
    Clear-DevDbTestHome
}

Describe 'Manifest' {
    It 'has the ModuleVersion of Directory.Build.props' {
        [xml] $props = Get-Content -Raw (Join-Path $repo 'Directory.Build.props')
        $expected = @($props.Project.PropertyGroup.ModuleVersion | Where-Object { $_ })[0]
        $expected | Should -Not -BeNullOrEmpty
        $manifest.ModuleVersion | Should -Be $expected
        $module.Version | Should -Be ([version] $expected)
    }

    It 'is a valid manifest for PowerShell 7.4+ Core' {
        $tested = Test-ModuleManifest (Join-Path $repo 'DevDb.psd1') -ErrorAction Stop
        $tested.CompatiblePSEditions | Should -Be @('Core')
        $tested.PowerShellVersion | Should -Be ([version] '7.4')
        $manifest.RootModule | Should -Be 'module/bin/DevDb.PowerShell.dll'
        $manifest.GUID | Should -Not -BeNullOrEmpty
    }

    It 'exports exactly the cmdlets it lists, and nothing else' {
        $manifest.CmdletsToExport | Should -Not -Contain '*'
        @($module.ExportedCmdlets.Keys | Sort-Object) | Should -Be @($manifest.CmdletsToExport | Sort-Object)
        $module.ExportedCmdlets.Count | Should -Be 15
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
        $core[0].Location | Should -Be (Join-Path $repo 'module/bin/dependencies/DevDb.Core.dll')
    }

    It 'ships DevDb.Core and its key dependencies in module/bin/dependencies, not beside the cmdlets' {
        foreach ($name in 'DevDb.Core', 'Npgsql', 'AWSSDK.Core', 'AWSSDK.S3') {
            Join-Path $repo "module/bin/dependencies/$name.dll" | Should -Exist
            Join-Path $repo "module/bin/$name.dll" | Should -Not -Exist
        }
    }
}

Describe 'Parameter binding' {
    It 'binds -Name from a piped object''s Name property' {
        { [pscustomobject] @{ Name = 'ghost' } | Stop-DevDbDatabase -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'DatabaseNotFound,DevDb.Commands.StopDevDbDatabaseCommand'
        $Error[0].TargetObject | Should -Be 'ghost'
    }

    It 'has a Name set bound by property name and an InputObject set bound by value on <_>' -ForEach @(
        'Remove-DevDbDatabase', 'Reset-DevDbDatabase', 'Stop-DevDbDatabase', 'Start-DevDbDatabase', 'Get-DevDbConnectionString'
    ) {
        $command = Get-Command $_
        @($command.ParameterSets.Name | Sort-Object) | Should -Be @('InputObject', 'Name')
        $name = $command.Parameters['Name'].ParameterSets['Name']
        $name.ValueFromPipelineByPropertyName | Should -BeTrue
        $inputObject = $command.Parameters['InputObject']
        $inputObject.ParameterSets['InputObject'].ValueFromPipeline | Should -BeTrue
        $inputObject.ParameterType | Should -Be ([DevDb.Commands.DevDbDatabase[]])
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
}

Describe 'Name validation' {
    It 'rejects the project name <_> before doing anything' -ForEach @('Shop', 'shop_1', '-shop', ('a' * 64)) {
        { New-DevDbProject -Name $_ -Source (Join-Path $TestDrive 'no.dump') -ErrorAction Stop } |
            Should -Throw -ErrorId 'NameInvalid,DevDb.Commands.NewDevDbProjectCommand'
        $Error[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $Error[0].TargetObject | Should -Be $_
        $Error[0].ErrorDetails.RecommendedAction | Should -Match 'lowercase'
    }

    It 'rejects an invalid database name' {
        { New-DevDbDatabase -Project shop -Name 'Dave.Smith' -ErrorAction Stop } |
            Should -Throw -ErrorId 'NameInvalid,DevDb.Commands.NewDevDbDatabaseCommand'
        $Error[0].Exception.Message | Should -Match 'Dave\.Smith'
    }
}

Describe 'Not found errors' {
    It 'reports a missing project as ProjectNotFound and goes on with the other names' {
        { Get-DevDbProject -Name nope -ErrorAction Stop } | Should -Throw -ErrorId 'ProjectNotFound,DevDb.Commands.GetDevDbProjectCommand'
        $found = Get-DevDbProject -Name 'nope', 'nada*' -ErrorAction SilentlyContinue -ErrorVariable notFound
        $found | Should -BeNullOrEmpty
        $notFound.Count | Should -Be 1   # a wildcard that matches nothing is not an error
        $notFound[0].FullyQualifiedErrorId | Should -Be 'ProjectNotFound,DevDb.Commands.GetDevDbProjectCommand'
    }

    It 'reports a missing database as DatabaseNotFound' {
        { Get-DevDbDatabase -Name nope -ErrorAction Stop } | Should -Throw -ErrorId 'DatabaseNotFound,DevDb.Commands.GetDevDbDatabaseCommand'
        $Error[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $Error[0].ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
    }

    It 'terminates Get-DevDbDatabase -Project for a project that does not exist' {
        { Get-DevDbDatabase -Project nope -ErrorAction Stop } | Should -Throw -ErrorId 'ProjectNotFound,DevDb.Commands.GetDevDbDatabaseCommand'
    }
}

Describe 'Help and completion' {
    It 'documents every cmdlet in about_DevDb, found by Get-Help' {
        $text = (Get-Help about_DevDb | Out-String)
        $text | Should -Match 'New-DevDbProject'
        foreach ($name in $manifest.CmdletsToExport) {
            $text | Should -Match ([regex]::Escape($name))
        }
    }

    It 'shows the syntax of New-DevDbDatabase' {
        $help = Get-Help New-DevDbDatabase
        @($help.parameters.parameter.name) | Should -Contain 'Project'
        @($help.parameters.parameter.name) | Should -Contain 'Owner'
    }

    It 'completes <Parameter> of <Command> with <Completer>' -ForEach @(
        @{ Command = 'New-DevDbDatabase'; Parameter = 'Project'; Completer = 'ProjectNameCompleter' }
        @{ Command = 'Get-DevDbProject'; Parameter = 'Name'; Completer = 'ProjectNameCompleter' }
        @{ Command = 'Update-DevDbProject'; Parameter = 'Name'; Completer = 'ProjectNameCompleter' }
        @{ Command = 'Remove-DevDbProject'; Parameter = 'Name'; Completer = 'ProjectNameCompleter' }
        @{ Command = 'Get-DevDbDatabase'; Parameter = 'Name'; Completer = 'DatabaseNameCompleter' }
        @{ Command = 'Get-DevDbDatabase'; Parameter = 'Project'; Completer = 'ProjectNameCompleter' }
        @{ Command = 'Remove-DevDbDatabase'; Parameter = 'Name'; Completer = 'DatabaseNameCompleter' }
        @{ Command = 'Reset-DevDbDatabase'; Parameter = 'Name'; Completer = 'DatabaseNameCompleter' }
        @{ Command = 'Get-DevDbConnectionString'; Parameter = 'Name'; Completer = 'DatabaseNameCompleter' }
    ) {
        $attribute = (Get-Command $Command).Parameters[$Parameter].Attributes |
            Where-Object { $_ -is [System.Management.Automation.ArgumentCompleterAttribute] }
        $attribute.Type.Name | Should -Be $Completer
    }

    It 'completes nothing, and shows no error, when there is nothing to complete' {
        $line = 'Get-DevDbDatabase -Name x'
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | Should -BeNullOrEmpty
    }
}
