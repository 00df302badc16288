namespace DevDb.Api.PodTools;

/// <summary>
/// <c>DevDb.Api healthcheck URL</c>: the chart's <c>helm test</c> hook. GETs the URL (5 s timeout) and
/// exits 0 on a 2xx answer; otherwise prints the status or the error and exits 1 (2 for a usage error).
/// </summary>
public static class HealthCheckCommand
{
    public const string Usage = "Usage: DevDb.Api healthcheck URL   (e.g. http://devdb:8080/healthz)";

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Length != 1 || !Uri.TryCreate(args[0], UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            error.WriteLine(args.Length == 1 ? $"'{args[0]}' is not an http(s) URL." : "Name one URL to check.");
            error.WriteLine(Usage);
            return 2;
        }
        using var client = new HttpClient { Timeout = Timeout };
        try
        {
            using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
            var status = $"{(int)response.StatusCode} {response.ReasonPhrase}".TrimEnd();
            if (response.IsSuccessStatusCode)
            {
                output.WriteLine($"{url}: {status}");
                return 0;
            }
            error.WriteLine($"{url} answered {status}.");
            return 1;
        }
        catch (TaskCanceledException)
        {
            error.WriteLine($"{url} did not answer within {Timeout.TotalSeconds:0} s.");
            return 1;
        }
        catch (HttpRequestException e)
        {
            error.WriteLine($"{url} could not be reached: {e.Message}");
            return 1;
        }
    }
}
