using System.Collections.Concurrent;
using System.Net;

namespace DevDb.Testing;

/// <summary>
/// A tiny HTTP server on 127.0.0.1:&lt;free port&gt; serving the files of one folder: GET and HEAD,
/// 404 for missing files, and answers chosen by the test for particular paths (403, 500...).
/// </summary>
public sealed class HttpFileServer : IAsyncDisposable
{
    private readonly HttpListener _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private readonly ConcurrentDictionary<string, HttpStatusCode> _forcedStatus = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _redirects = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _requests = new();

    public HttpFileServer(string root)
    {
        Root = Path.GetFullPath(root);
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort.Next();
            _listener = new HttpListener();
            _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (attempt < 3)
            {
                _listener.Close();
            }
        }
        _loop = Task.Run(ServeAsync);
    }

    public string Root { get; }
    public int Port { get; }
    public string BaseUrl => $"http://127.0.0.1:{Port}/";

    /// <summary>When true, HEAD is answered 405 Method Not Allowed (as some servers and presigned URLs do).</summary>
    public bool RefuseHead { get; set; }

    /// <summary>"METHOD /path" of every request so far.</summary>
    public IReadOnlyCollection<string> Requests => _requests.ToArray();

    public string UrlFor(string relativePath) => BaseUrl + relativePath.TrimStart('/');

    /// <summary>Answers every request for <paramref name="relativePath"/> with <paramref name="status"/> and no body.</summary>
    public void RespondWith(string relativePath, HttpStatusCode status) => _forcedStatus["/" + relativePath.TrimStart('/')] = status;

    /// <summary>Answers every request for <paramref name="relativePath"/> with 302 Found to <paramref name="target"/> (a redirect loop when they point at each other).</summary>
    public void RedirectTo(string relativePath, string target) => _redirects["/" + relativePath.TrimStart('/')] = target;

    private async Task ServeAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            _ = Task.Run(() => AnswerAsync(context));
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var path = Uri.UnescapeDataString(request.Url!.AbsolutePath);
        _requests.Enqueue($"{request.HttpMethod} {path}");
        try
        {
            if (_redirects.TryGetValue(path, out var target))
            {
                response.StatusCode = (int)HttpStatusCode.Found;
                response.RedirectLocation = UrlFor(target);
                return;
            }
            if (_forcedStatus.TryGetValue(path, out var forced))
            {
                response.StatusCode = (int)forced;
                return;
            }
            if (request.HttpMethod is not ("GET" or "HEAD") || (RefuseHead && request.HttpMethod == "HEAD"))
            {
                response.StatusCode = (int)HttpStatusCode.MethodNotAllowed;
                response.AddHeader("Allow", "GET");
                return;
            }
            var file = Path.GetFullPath(Path.Combine(Root, path.TrimStart('/')));
            if (!file.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !File.Exists(file))
            {
                response.StatusCode = (int)HttpStatusCode.NotFound;
                return;
            }
            response.ContentType = "application/octet-stream";
            response.ContentLength64 = new FileInfo(file).Length;
            if (request.HttpMethod == "GET")
            {
                await using var content = File.OpenRead(file);
                await content.CopyToAsync(response.OutputStream, _stopping.Token);
            }
        }
        catch (Exception e) when (e is HttpListenerException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away (a probe, or a cancelled download): nothing to answer.
        }
        finally
        {
            try
            {
                response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _listener.Stop();
        _listener.Close();
        await _loop;
        _stopping.Dispose();
    }
}
