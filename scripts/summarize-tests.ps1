<#
.SYNOPSIS
    Sums the results of every test suite and ends with the one line CI reads.
.DESCRIPTION
    For each suite name, reads <ResultsDirectory>/<name>.trx (VSTest/xunit) or <name>.json
    (Pester: {"passed":N,"failed":N,"skipped":N,"failedTests":[...]}) and <name>.exitcode (the runner's
    exit code). Prints one line per suite ("suite NAME - passed N, failed N, skipped N"), one line per
    failed test with the first line of its message (CI shows only the end of the log), then as the very last
    line, and the only one of that shape, "N passed, N failed, N skipped".
    Exits 1 when any test failed or was skipped, a runner crashed without a result file (counted
    as one failure), a runner exited non-zero although its results show no failure (counted as one
    failure), or a suite ran no test (counted as one failure).
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ResultsDirectory,
    [Parameter(Mandatory, ValueFromRemainingArguments)] [string[]] $Suite
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

function Read-TrxCounts([string] $Path) {
    [xml] $trx = Get-Content -LiteralPath $Path -Raw
    $counters = $trx.TestRun.ResultSummary.Counters
    if ($null -eq $counters) { throw "it has no <Counters> element" }
    function Count([string] $Attribute) { $value = $counters.GetAttribute($Attribute); if ($value) { [int] $value } else { 0 } }
    $total = Count 'total'; $executed = Count 'executed'; $passed = Count 'passed'
    # xunit's skipped tests are in total but not in executed (notExecuted stays 0), so derive both.
    $failed = [Math]::Max((Count 'failed') + (Count 'error') + (Count 'timeout') + (Count 'aborted') + (Count 'inconclusive'),
        $executed - $passed)
    $skipped = [Math]::Max((Count 'notExecuted') + (Count 'notRunnable'), $total - $executed)
    $failedTests = @($trx.TestRun.Results.UnitTestResult | Where-Object { $_ -and $_.outcome -ne 'Passed' -and $_.outcome -ne 'NotExecuted' } |
        ForEach-Object { [pscustomobject] @{ Name = $_.testName; Message = "$($_.Output.ErrorInfo.Message)" } })
    [pscustomobject] @{ Passed = $passed; Failed = $failed; Skipped = $skipped; FailedTests = $failedTests }
}

function Read-PesterCounts([string] $Path) {
    $json = Get-Content -LiteralPath $Path -Raw | ConvertFrom-Json
    foreach ($name in 'passed', 'failed', 'skipped') {
        if ($json.PSObject.Properties.Name -notcontains $name -or ($json.$name -isnot [long] -and $json.$name -isnot [int])) {
            throw "it has no whole number '$name'"
        }
    }
    $failedTests = @(if ($json.PSObject.Properties.Name -contains 'failedTests') {
            $json.failedTests | ForEach-Object { [pscustomobject] @{ Name = $_.name; Message = $_.message } } })
    [pscustomobject] @{ Passed = [int] $json.passed; Failed = [int] $json.failed; Skipped = [int] $json.skipped; FailedTests = $failedTests }
}

$totals = [pscustomobject] @{ Passed = 0; Failed = 0; Skipped = 0 }
$problems = [System.Collections.Generic.List[string]]::new()
$failures = [System.Collections.Generic.List[string]]::new()

foreach ($name in $Suite) {
    $trxPath = Join-Path $ResultsDirectory "$name.trx"
    $jsonPath = Join-Path $ResultsDirectory "$name.json"
    $exitPath = Join-Path $ResultsDirectory "$name.exitcode"
    $exitCode = if (Test-Path -LiteralPath $exitPath) { [int] (Get-Content -LiteralPath $exitPath -Raw).Trim() } else { $null }

    $counts = $null
    try {
        if (Test-Path -LiteralPath $trxPath) { $counts = Read-TrxCounts $trxPath }
        elseif (Test-Path -LiteralPath $jsonPath) { $counts = Read-PesterCounts $jsonPath }
    } catch {
        $problems.Add("${name}: its result file could not be read ($($_.Exception.Message -replace "\s+", " ")); counted as 1 failure.")
    }

    if ($null -eq $counts) {
        if (-not ($problems | Where-Object { $_.StartsWith("${name}:") })) {
            $problems.Add("${name}: the runner (exit code $(if ($null -eq $exitCode) { 'unknown' } else { $exitCode })) wrote no result file; counted as 1 failure.")
        }
        $counts = [pscustomobject] @{ Passed = 0; Failed = 1; Skipped = 0 }
    } elseif ($counts.Passed + $counts.Failed + $counts.Skipped -eq 0) {
        # A suite that finds no test (broken discovery, wrong filter) must not pass quietly.
        $problems.Add("${name}: ran no test; counted as 1 failure.")
        $counts.Failed = 1
    } elseif ($exitCode -ne 0 -and $counts.Failed -eq 0 -and $counts.Skipped -eq 0) {
        $problems.Add("${name}: the runner exited with code $(if ($null -eq $exitCode) { 'unknown' } else { $exitCode }) although no test failed; counted as 1 failure.")
        $counts.Failed = 1
    }

    # Per-suite lines must not look like the closing line, which is the only one CI reads.
    "suite {0} - passed {1}, failed {2}, skipped {3}" -f $name, $counts.Passed, $counts.Failed, $counts.Skipped
    foreach ($test in @($counts.PSObject.Properties.Name -contains 'FailedTests' ? $counts.FailedTests : @())) {
        $firstLine = ("$($test.Message)" -split "\r?\n" | Where-Object { $_.Trim() } | Select-Object -First 1)
        # Capped: a test's name carries its arguments, which may be the huge input it tried.
        $line = "failed: ${name}: $($test.Name)$(if ($firstLine) { " - $($firstLine.Trim())" })"
        $failures.Add($(if ($line.Length -gt 400) { $line.Substring(0, 400) + '...' } else { $line }))
    }
    $totals.Passed += $counts.Passed; $totals.Failed += $counts.Failed; $totals.Skipped += $counts.Skipped
}

$failures
foreach ($problem in $problems) { "problem: $problem" }
if ($totals.Skipped -gt 0) { "problem: $($totals.Skipped) test(s) were skipped; a skipped test counts as a failure here." }
$ran = $totals.Passed + $totals.Failed + $totals.Skipped
if ($ran -eq 0) { 'problem: no test ran at all.' }

"{0} passed, {1} failed, {2} skipped" -f $totals.Passed, $totals.Failed, $totals.Skipped
exit $(if ($totals.Failed -gt 0 -or $totals.Skipped -gt 0 -or $ran -eq 0) { 1 } else { 0 })
