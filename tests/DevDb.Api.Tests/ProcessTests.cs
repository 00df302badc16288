using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Model;
using Xunit;

namespace DevDb.Api.Tests;

/// <summary>
/// The API as operators run it: <c>dotnet DevDb.Api.dll --urls ...</c> with DEVDB__HOME, the
/// tokens command as a second process, SIGTERM to stop. Everything it writes to stdout and stderr
/// is kept, to check what its logs show and what they never show.
/// </summary>
public sealed class ProcessTests : IAsyncLifetime
{
    private static readonly string ApiDll = Path.Combine(AppContext.BaseDirectory, "DevDb.Api.dll");
    private EngineHome _home = null!;

    public Task InitializeAsync()
    {
        _home = new EngineHome();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        var path = _home.Path;
        await _home.DisposeAsync();
        EngineHome.AssertNoPostgresUnder(path);
    }

    private sealed class ApiProcess(Process process, StringBuilder output, int port) : IAsyncDisposable
    {
        public Process Process { get; } = process;
        public Uri Address { get; } = new($"http://127.0.0.1:{port}/");

        public string Output
        {
            get { lock (output) return output.ToString(); }
        }

        /// <summary>SIGTERM, as Kubernetes and systemd stop it; returns the exit code.</summary>
        public async Task<int> TerminateAsync()
        {
            using (var kill = Process.Start("kill", ["-TERM", Process.Id.ToString()])) await kill.WaitForExitAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await Process.WaitForExitAsync(timeout.Token);
            return Process.ExitCode;
        }

        public async ValueTask DisposeAsync()
        {
            if (!Process.HasExited) Process.Kill(entireProcessTree: true);
            await Process.WaitForExitAsync();
            Process.Dispose();
        }
    }

    private ProcessStartInfo StartInfo(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(ApiDll);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment["DEVDB__HOME"] = _home.Path;
        info.Environment.Remove("DEVDB__TOKENSFILE");
        info.Environment["DEVDB_PORT_RANGE"] = "56400-56449";
        return info;
    }

    /// <param name="faultAt">A step (FaultPoints) at which the process kills itself, as kill -9 would.</param>
    private async Task<ApiProcess> StartApiAsync(string? faultAt = null)
    {
        var port = FreePort.Next();
        var output = new StringBuilder();
        var process = new Process { StartInfo = StartInfo("--urls", $"http://127.0.0.1:{port}") };
        if (faultAt is not null) process.StartInfo.Environment["DEVDB_FAULT_AT"] = faultAt;
        DataReceivedEventHandler collect = (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.OutputDataReceived += collect;
        process.ErrorDataReceived += collect;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var api = new ApiProcess(process, output, port);
        await FreePort.WaitUntilListeningAsync(port, TimeSpan.FromSeconds(60), () => !process.HasExited);
        Assert.False(process.HasExited, api.Output);
        return api;
    }

    private async Task<(int Exit, string Output, string Error)> RunTokensAsync(params string[] args)
    {
        using var process = Process.Start(StartInfo(["tokens", .. args]))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string path, string token, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null) request.Content = JsonContent.Create(body, body.GetType(), options: ApiContract.Json);
        return await http.SendAsync(request);
    }

    [Fact]
    public async Task Hostile_names_of_megabytes_neither_balloon_the_process_nor_come_back_in_full()
    {
        await using var api = await StartApiAsync();
        using var http = new HttpClient { BaseAddress = api.Address };
        var token = BootstrapToken(api);
        // Warm up the routes and the engine, then measure.
        using (await SendAsync(http, HttpMethod.Get, ApiContract.Databases, token)) { }
        var before = ResidentMegabytes(api.Process);

        long largestAnswer = 0;
        for (var i = 0; i < 10; i++)
        {
            foreach (var length in new[] { 5 * 1024 * 1024, 900 * 1024 })
            {
                using var client = new HttpClient { BaseAddress = api.Address };
                try
                {
                    using var response = await SendAsync(client, HttpMethod.Post, ApiContract.Databases, token,
                        new NewDatabaseRequest { Project = "shop", Name = new string('a', length) });
                    Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge, $"{(int)response.StatusCode}");
                    largestAnswer = Math.Max(largestAnswer, (await response.Content.ReadAsByteArrayAsync()).Length);
                }
                catch (HttpRequestException e) when (length > RequestLimits.MaxRequestBytes && e.InnerException is IOException)
                {
                    // Kestrel answers 413 and closes the connection while the client is still sending the rest.
                }
            }
        }
        var after = ResidentMegabytes(api.Process);

        Assert.True(largestAnswer < 2048, $"an answer of {largestAnswer} bytes");
        Assert.True(after - before < 150, $"the API grew from {before} MB to {after} MB");
        Assert.All(api.Output.Split('\n'), line => Assert.True(line.Length < 4096, $"a log line of {line.Length} characters"));
    }

    private static string BootstrapToken(ApiProcess api)
    {
        var warning = api.Output.Split('\n').Single(l => l.Contains("bootstrap admin token"));
        using var json = JsonDocument.Parse(warning);
        return json.RootElement.GetProperty("State").GetProperty("BootstrapToken").GetString()!;
    }

    /// <summary>The process's resident memory (VmRSS), in MB.</summary>
    private static long ResidentMegabytes(Process process) =>
        long.Parse(File.ReadLines($"/proc/{process.Id}/status").First(l => l.StartsWith("VmRSS:")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;

    [Fact]
    public async Task The_real_process_bootstraps_a_token_serves_logs_as_json_without_secrets_and_stops_gracefully()
    {
        string bootstrap, developerToken, password, output;
        await using (var api = await StartApiAsync())
        {
            using var http = new HttpClient { BaseAddress = api.Address };

            // The bootstrap admin token: in one Warning log line, and it works.
            var warning = api.Output.Split('\n').Single(l => l.Contains("bootstrap admin token"));
            using (var json = JsonDocument.Parse(warning))
            {
                Assert.Equal("Warning", json.RootElement.GetProperty("LogLevel").GetString());
                bootstrap = json.RootElement.GetProperty("State").GetProperty("BootstrapToken").GetString()!;
            }
            Assert.Equal(new ApiIdentity("admin", ApiRoles.Admin),
                await (await SendAsync(http, HttpMethod.Get, ApiContract.WhoAmI, bootstrap)).Content.ReadFromJsonAsync<ApiIdentity>(ApiContract.Json));

            // A developer token made by the tokens command, in another process: the server picks it up.
            var added = await RunTokensAsync("add", "--user", "dave", "--role", "developer");
            Assert.True(added.Exit == 0, added.Error);
            developerToken = added.Output.Trim();
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            using (var whoami = await SendAsync(http, HttpMethod.Get, ApiContract.WhoAmI, developerToken))
                Assert.Equal("dave", (await whoami.Content.ReadFromJsonAsync<ApiIdentity>(ApiContract.Json))!.User);
            var listed = await RunTokensAsync("list");
            Assert.Contains("dave", listed.Output);
            Assert.Contains("admin", listed.Output);

            // Real work, and a password fetched.
            using (var project = await SendAsync(http, HttpMethod.Post, ApiContract.Projects, bootstrap, new NewProjectRequest { Name = "shop", Source = RepoPaths.SampleDump }))
                Assert.Equal(HttpStatusCode.Accepted, project.StatusCode);
            await WaitAsync(http, ApiContract.Project("shop"), bootstrap, (Project p) => p.Status != ProjectStatus.Building);
            using (var created = await SendAsync(http, HttpMethod.Post, ApiContract.Databases, developerToken, new NewDatabaseRequest { Project = "shop", Name = "dave-db" }))
                Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
            var database = await WaitAsync(http, ApiContract.Database("dave-db"), developerToken, (Database d) => d.Status != DatabaseStatus.Creating);
            Assert.Equal(DatabaseStatus.Running, database.Status);
            using (var connection = await SendAsync(http, HttpMethod.Get, ApiContract.Connection("dave-db"), developerToken))
                password = (await connection.Content.ReadFromJsonAsync<ConnectionInfo>(ApiContract.Json))!.Password;
            Assert.NotEmpty(password);

            // Removed with the tokens command: refused within a second or two.
            Assert.Equal(0, (await RunTokensAsync("remove", "--user", "dave")).Exit);
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            using (var refused = await SendAsync(http, HttpMethod.Get, ApiContract.Databases, developerToken))
                Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

            // Graceful stop on SIGTERM: exit code 0 after the host's shutdown.
            Assert.Equal(0, await api.TerminateAsync());
            output = api.Output;
        }

        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // Structured JSON, one object a line, request lines carrying a request id.
        Assert.All(lines, line => JsonDocument.Parse(line).Dispose());
        Assert.Contains(lines, l => l.Contains("\"Path\":\"/api/v1/databases/dave-db/connection\"") && l.Contains("\"RequestId\""));
        Assert.Contains(lines, l => l.Contains("Application is shutting down"));
        // The bootstrap token exactly once (its Warning line); no other secret ever.
        Assert.Single(lines, l => l.Contains(bootstrap));
        Assert.DoesNotContain(developerToken, output);
        Assert.DoesNotContain(password, output);
        Assert.DoesNotMatch(@"Bearer [A-Za-z0-9_-]{20,}", output);

        // A second start with tokens on file creates no bootstrap token.
        await using var restarted = await StartApiAsync();
        Assert.Equal(0, await restarted.TerminateAsync());
        Assert.DoesNotContain("bootstrap admin token", restarted.Output);
    }

    [Fact]
    public async Task Work_accepted_with_202_before_the_api_was_killed_ends_failed_with_why_and_crashed_databases_run_again_after_a_restart()
    {
        string token;
        await using (var api = await StartApiAsync(faultAt: "new-database:cloned"))
        {
            token = BootstrapToken(api);
            using var http = new HttpClient { BaseAddress = api.Address };
            using (var project = await SendAsync(http, HttpMethod.Post, ApiContract.Projects, token, new NewProjectRequest { Name = "shop", Source = RepoPaths.SampleDump }))
                Assert.Equal(HttpStatusCode.Accepted, project.StatusCode);
            await WaitAsync(http, ApiContract.Project("shop"), token, (Project p) => p.Status != ProjectStatus.Building);
            // Accepted, then the API dies (kill -9) half way through the clone.
            using (var created = await SendAsync(http, HttpMethod.Post, ApiContract.Databases, token, new NewDatabaseRequest { Project = "shop", Name = "lost" }))
                Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await api.Process.WaitForExitAsync(timeout.Token);
            Assert.Equal(137, api.Process.ExitCode);
        }

        await using (var restarted = await StartApiAsync())
        {
            using var http = new HttpClient { BaseAddress = restarted.Address };
            var lost = await WaitAsync(http, ApiContract.Database("lost"), token, (Database d) => d.Status != DatabaseStatus.Creating);
            Assert.Equal((DatabaseStatus.Failed, ErrorCodes.DatabaseCreateFailed), (lost.Status, lost.ErrorCode));
            Assert.Contains("stopped before it finished", lost.Error);

            using (var created = await SendAsync(http, HttpMethod.Post, ApiContract.Databases, token, new NewDatabaseRequest { Project = "shop", Name = "kept" }))
                Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
            await WaitAsync(http, ApiContract.Database("kept"), token, (Database d) => d.Status == DatabaseStatus.Running);
            // A crash of the machine: the API and every server die at once.
            restarted.Process.Kill();
            await restarted.Process.WaitForExitAsync();
            var pid = int.Parse(File.ReadLines(Path.Combine(_home.Path, "databases", "kept", "data", "postmaster.pid")).First());
            using (var server = Process.GetProcessById(pid))
            {
                server.Kill();
                await server.WaitForExitAsync();
            }
        }

        await using (var afterReboot = await StartApiAsync())
        {
            using var http = new HttpClient { BaseAddress = afterReboot.Address };
            var kept = await WaitAsync(http, ApiContract.Database("kept"), token, (Database d) => d.Status == DatabaseStatus.Running);
            using var connection = await SendAsync(http, HttpMethod.Get, ApiContract.Connection("kept"), token);
            var details = (await connection.Content.ReadFromJsonAsync<ConnectionInfo>(ApiContract.Json))!;
            await using var npgsql = new Npgsql.NpgsqlConnection(ConnectionStrings.Format(details, ConnectionStringFormat.Npgsql));
            await npgsql.OpenAsync();
            Assert.Equal(DatabaseStatus.Running, kept.Status);
            // The log says so once the start-up pass is over.
            for (var wait = 0; wait < 100 && !afterReboot.Output.Contains("Started again 1 database(s)"); wait++) await Task.Delay(100);
            Assert.Contains("Started again 1 database(s)", afterReboot.Output);
            Assert.Equal(0, await afterReboot.TerminateAsync());
        }
    }

    [Fact]
    public async Task A_broken_tokens_file_stops_the_start_with_the_reason_and_exit_code_1()
    {
        await File.WriteAllTextAsync(Path.Combine(_home.Path, "api-tokens.json"), "{ \"tokens\": [ { \"user\": \"dave\", \"role\": \"root\" } ] }");
        using var process = Process.Start(StartInfo("--urls", "http://127.0.0.1:0"))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        Assert.Equal(1, process.ExitCode);
        Assert.Contains("TokensFileInvalid", await error);
        Assert.Contains("role 'root'", await error);
        Assert.DoesNotContain("   at ", await error + await output);
    }

    private static async Task<T> WaitAsync<T>(HttpClient http, string path, string token, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (true)
        {
            using var response = await SendAsync(http, HttpMethod.Get, path, token);
            var value = (await response.Content.ReadFromJsonAsync<T>(ApiContract.Json))!;
            if (done(value)) return value;
            Assert.True(DateTime.UtcNow < deadline, $"{path} did not settle.");
            await Task.Delay(100);
        }
    }
}
