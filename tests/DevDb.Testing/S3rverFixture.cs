using System.Diagnostics;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Xunit;

namespace DevDb.Testing;

/// <summary>
/// A real s3rver (S3-compatible server) on a free 127.0.0.1 port, storing into a temp folder, killed
/// with its process tree on dispose. It also points this test process's default AWS credentials at
/// s3rver's (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY = S3RVER) so code using the standard AWS chain,
/// such as the S3 dump source, can sign requests to it.
/// </summary>
public sealed class S3rverFixture : IAsyncLifetime
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";
    public const string Region = "us-east-1";

    private readonly TempFolder _folder = new("devdb-s3rver");
    private Process? _process;

    public int Port { get; private set; }
    public string ServiceUrl => $"http://127.0.0.1:{Port}";
    public AmazonS3Client Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var executable = RepoPaths.S3rverExecutable;
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", AccessKey);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", SecretKey);
        Environment.SetEnvironmentVariable("AWS_SESSION_TOKEN", null);
        // No instance-metadata lookups from a test machine.
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");

        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort.Next();
            var start = new ProcessStartInfo(executable)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var argument in new[] { "-d", _folder.Path, "-a", "127.0.0.1", "-p", Port.ToString(), "--silent" })
                start.ArgumentList.Add(argument);
            _process = Process.Start(start)!;
            var errors = _process.StandardError.ReadToEndAsync();
            _ = _process.StandardOutput.ReadToEndAsync();
            try
            {
                await FreePort.WaitUntilListeningAsync(Port, TimeSpan.FromSeconds(20), () => !_process.HasExited);
                break;
            }
            catch (System.Net.Sockets.SocketException) when (attempt < 3)
            {
                Stop();
            }
            catch (System.Net.Sockets.SocketException e)
            {
                Stop();
                throw new InvalidOperationException($"s3rver did not start on port {Port}: {await errors}", e);
            }
        }
        Client = CreateClient(AccessKey, SecretKey);
    }

    /// <summary>A client for this server with the given credentials (wrong ones are useful to test refusals).</summary>
    public AmazonS3Client CreateClient(string accessKey, string secretKey) =>
        new(new BasicAWSCredentials(accessKey, secretKey), new AmazonS3Config
        {
            ServiceURL = ServiceUrl,
            ForcePathStyle = true,
            AuthenticationRegion = Region,
            MaxErrorRetry = 0,
        });

    /// <summary>
    /// Points this process's S3 clients at this server with its credentials (the AWS_* environment, as a
    /// server's engine reads it). For a test assembly of its own: the environment is process-wide.
    /// </summary>
    public void UseAsDefaultEndpoint()
    {
        Environment.SetEnvironmentVariable("AWS_ENDPOINT_URL_S3", ServiceUrl);
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", AccessKey);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", SecretKey);
        Environment.SetEnvironmentVariable("AWS_REGION", Region);
    }

    public async Task CreateBucketAsync(string bucket)
    {
        try
        {
            await Client.PutBucketAsync(new PutBucketRequest { BucketName = bucket });
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
        {
        }
    }

    /// <summary>Uploads <paramref name="file"/> (creating the bucket if needed) and checks it reads back byte for byte.</summary>
    public async Task UploadAsync(string bucket, string key, string file)
    {
        await CreateBucketAsync(bucket);
        // aws-chunked framing would be stored verbatim by s3rver: send the plain body.
        await Client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, FilePath = file, UseChunkEncoding = false });
        using var response = await Client.GetObjectAsync(bucket, key);
        var stored = await SHA256.HashDataAsync(response.ResponseStream);
        await using var original = File.OpenRead(file);
        var expected = await SHA256.HashDataAsync(original);
        if (!stored.SequenceEqual(expected))
            throw new InvalidOperationException($"s3rver stored s3://{bucket}/{key} with different content than '{file}'.");
    }

    private void Stop()
    {
        if (_process is null) return;
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
        _process = null;
    }

    public Task DisposeAsync()
    {
        Client?.Dispose();
        Stop();
        _folder.Dispose();
        return Task.CompletedTask;
    }
}
