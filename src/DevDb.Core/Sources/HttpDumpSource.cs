using System.Net;
using System.Net.Http.Headers;
using System.Security.Authentication;

namespace DevDb.Core.Sources;

/// <summary>A dump served over http:// or https://, downloaded into the work folder.</summary>
internal sealed class HttpDumpSource(string location, Uri uri, DumpSourceOptions options) : IDumpSource
{
    /// <summary>Redirects followed before a source is called a redirect loop.</summary>
    public const int MaxRedirects = 20;

    public string Location { get; } = location;
    public Uri Uri { get; } = uri;

    /// <summary>The last segment of the URL's path: never its query (a presigned signature) nor its user part.</summary>
    public string? Dump => Uri.UnescapeDataString(Uri.Segments.LastOrDefault() ?? "").TrimEnd('/') is { Length: > 0 } name ? name : null;

    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        using var client = CreateClient();
        using var head = await SendAsync(client, HttpMethod.Head, rangeOfFirstByte: false, cancellationToken);
        if (head.StatusCode is HttpStatusCode.MethodNotAllowed or HttpStatusCode.NotImplemented)
        {
            // Some servers (and presigned URLs) refuse HEAD: ask for the first byte instead.
            using var get = await SendAsync(client, HttpMethod.Get, rangeOfFirstByte: true, cancellationToken);
            ThrowUnlessSuccess(get);
            return;
        }
        ThrowUnlessSuccess(head);
    }

    public async Task<LocalDump> FetchAsync(string workDirectory, IProgress<long>? bytesFetched, CancellationToken cancellationToken)
    {
        using var client = CreateClient();
        using var response = await SendAsync(client, HttpMethod.Get, rangeOfFirstByte: false, cancellationToken);
        ThrowUnlessSuccess(response);

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        return await Download.SaveAsync(Location, workDirectory, Uri.Segments.LastOrDefault() ?? "dump", body,
            response.Content.Headers.ContentLength, options.ConnectTimeout, bytesFetched, e => e is HttpRequestException, cancellationToken);
    }

    private HttpClient CreateClient()
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.ConnectTimeout,
            AutomaticDecompression = DecompressionMethods.None,
            AllowAutoRedirect = true,
            MaxAutomaticRedirections = MaxRedirects,
        };
        // The whole download may take long; only waiting for an answer is bounded (here and per read).
        return new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    private async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, bool rangeOfFirstByte,
        CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, Uri);
        if (rangeOfFirstByte) request.Headers.Range = new RangeHeaderValue(0, 0);
        using var answer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        answer.CancelAfter(options.ConnectTimeout);
        try
        {
            return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, answer.Token);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw DevDbErrors.SourceUnreachable(Location,
                $"{Uri.Host} did not answer within {options.ConnectTimeout.TotalSeconds:0.#} s.", inner: e);
        }
        catch (HttpRequestException e)
        {
            var what = e.HttpRequestError switch
            {
                HttpRequestError.NameResolutionError => $"the host name '{Uri.Host}' could not be resolved.",
                HttpRequestError.ConnectionError => $"could not connect to {Uri.Host}:{Uri.Port} ({e.InnerException?.Message ?? e.Message}).",
                HttpRequestError.SecureConnectionError => $"the TLS connection to {Uri.Host} failed ({e.InnerException?.Message ?? e.Message}).",
                HttpRequestError.ProxyTunnelError => $"the proxy refused the connection ({e.Message}).",
                _ => e.Message,
            };
            throw DevDbErrors.SourceUnreachable(Location, what, inner: e);
        }
        catch (AuthenticationException e)
        {
            throw DevDbErrors.SourceUnreachable(Location, $"the TLS connection to {Uri.Host} failed ({e.Message}).", inner: e);
        }
    }

    private void ThrowUnlessSuccess(HttpResponseMessage response)
    {
        if (response.IsSuccessStatusCode) return;
        if ((int)response.StatusCode is >= 300 and < 400)
            throw DevDbErrors.SourceRedirectLoop(Location, MaxRedirects, (int)response.StatusCode, response.Headers.Location?.ToString());
        var status = $"the server answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}".TrimEnd() + ".";
        throw response.StatusCode switch
        {
            HttpStatusCode.NotFound or HttpStatusCode.Gone => DevDbErrors.SourceNotFound(Location, status),
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => DevDbErrors.SourceAccessDenied(Location, status,
                "Use a URL the server lets DevDb read (for example a presigned or token-bearing URL), or ask its owner for access."),
            _ => DevDbErrors.SourceUnreachable(Location, status,
                (int)response.StatusCode >= 500
                    ? "The server has a problem: try again later, or ask its owner."
                    : "Check that the URL points directly at the dump file."),
        };
    }
}
