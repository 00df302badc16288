using System.Net;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.S3;
using Amazon.S3.Model;

namespace DevDb.Core.Sources;

/// <summary>
/// A dump in S3 or an S3-compatible store (MinIO, Ceph, s3rver), read with the standard AWS
/// credential and region chain. An endpoint override comes from the options, else
/// AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL.
/// </summary>
internal sealed class S3DumpSource(string location, string bucket, string key, DumpSourceOptions options) : IDumpSource
{
    private const string DefaultRegion = "us-east-1";
    private const string CredentialsAction =
        "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials), " +
        "or AWS_PROFILE naming a profile in ~/.aws/credentials, for a principal allowed s3:GetObject on the dump.";

    public string Location { get; } = location;
    public string Bucket { get; } = bucket;

    /// <summary>For s3://bucket/prefix/: the prefix whose newest object is the dump; null for one object.</summary>
    public string? Prefix { get; } = NewestDump.IsS3Prefix(key) ? key : null;

    /// <summary>The object read: the address's key, or the newest one under <see cref="Prefix"/> once resolved (then kept, so probe and fetch read the same).</summary>
    public string Key { get; private set; } = key;

    private bool _resolved = !NewestDump.IsS3Prefix(key);

    public string? Dump => _resolved ? Key : null;

    /// <summary>The endpoint used instead of AWS, or null for AWS itself.</summary>
    public string? ServiceUrl { get; } = FirstNonEmpty(options.S3ServiceUrl,
        Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_S3"), Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL"));

    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        using var client = CreateClient();
        await ResolveAsync(client, cancellationToken);
        await RunAsync(client, async token =>
        {
            await client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = Bucket, Key = Key }, token);
            return 0;
        }, cancellationToken);
    }

    public async Task<LocalDump> FetchAsync(string workDirectory, IProgress<long>? bytesFetched, CancellationToken cancellationToken)
    {
        using var client = CreateClient();
        await ResolveAsync(client, cancellationToken);
        using var response = await RunAsync(client,
            token => client.GetObjectAsync(new GetObjectRequest { BucketName = Bucket, Key = Key }, token), cancellationToken);

        // For a prefix, errors name the object picked, not only the prefix.
        return await Download.SaveAsync(Prefix is null ? Location : $"s3://{Bucket}/{Key}", workDirectory, Key[(Key.LastIndexOf('/') + 1)..], response.ResponseStream,
            response.ContentLength, options.ConnectTimeout, bytesFetched, e => e is HttpRequestException or AmazonClientException, cancellationToken);
    }

    /// <summary>For a prefix: lists it (every page) and keeps the newest object's key (<see cref="NewestDump"/>); SourceNotFound when it holds none.</summary>
    private async Task ResolveAsync(AmazonS3Client client, CancellationToken cancellationToken)
    {
        if (_resolved) return;
        var candidates = new List<NewestDump.Candidate>();
        string? continuation = null;
        do
        {
            var page = await RunAsync(client, token => client.ListObjectsV2Async(
                new ListObjectsV2Request { BucketName = Bucket, Prefix = Prefix, ContinuationToken = continuation }, token), cancellationToken);
            // Folder markers (keys ending in '/') are no dumps. AWSSDK v4 gives null for an empty page.
            foreach (var item in page.S3Objects ?? [])
                if (!item.Key.EndsWith('/') && item.LastModified is { } modified)
                    candidates.Add(new NewestDump.Candidate(item.Key, new DateTimeOffset(modified.Kind == DateTimeKind.Local ? modified.ToUniversalTime() : DateTime.SpecifyKind(modified, DateTimeKind.Utc))));
            continuation = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (continuation is not null);
        var newest = NewestDump.Pick(candidates)
            ?? throw DevDbErrors.SourceNotFound(Location, $"there is no object under the prefix '{Prefix}' in the bucket '{Bucket}'{At}.",
                "Upload a dump under the prefix, or point the project at one object (s3://bucket/path/to/file.dump).");
        Key = newest.Name;
        _resolved = true;
    }

    private AmazonS3Client CreateClient()
    {
        var region = ConfiguredRegion() ?? DefaultRegion;
        var config = new AmazonS3Config
        {
            // Few, quick retries: an unreachable endpoint must fail in seconds, not minutes.
            MaxErrorRetry = 1,
            RetryMode = RequestRetryMode.Standard,
            ConnectTimeout = options.ConnectTimeout,
            Timeout = options.ConnectTimeout,
        };
        if (ServiceUrl is not null)
        {
            config.ServiceURL = ServiceUrl;
            config.AuthenticationRegion = region;
            // S3-compatible stores rarely support bucket-named host names.
            config.ForcePathStyle = true;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }
        try
        {
            return new AmazonS3Client(config);
        }
        catch (AmazonClientException e)
        {
            throw DevDbErrors.SourceAccessDenied(Location, $"the AWS credentials could not be loaded ({e.Message}).", CredentialsAction, e);
        }
    }

    private async Task<T> RunAsync<T>(AmazonS3Client client, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        // The SDK's Timeout does not bound async calls: bound waiting for an answer here.
        using var answer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        answer.CancelAfter(options.ConnectTimeout * 2);
        try
        {
            return await call(answer.Token);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw DevDbErrors.SourceUnreachable(Location,
                $"{Endpoint} did not answer within {(options.ConnectTimeout * 2).TotalSeconds:0.#} s.", EndpointAction, e);
        }
        catch (AmazonS3Exception e)
        {
            throw await TranslateAsync(client, e, cancellationToken);
        }
        catch (AmazonServiceException e) when (e.StatusCode == 0 || e.InnerException is HttpRequestException or IOException or WebException)
        {
            throw DevDbErrors.SourceUnreachable(Location, $"could not connect to {Endpoint} ({Innermost(e).Message}).", EndpointAction, e);
        }
        catch (HttpRequestException e)
        {
            throw DevDbErrors.SourceUnreachable(Location, $"could not connect to {Endpoint} ({Innermost(e).Message}).", EndpointAction, e);
        }
        catch (AmazonClientException e) when (e.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase))
        {
            // The SDK's own message lists every provider it tried; it stays available as the inner exception.
            throw DevDbErrors.SourceAccessDenied(Location,
                "no AWS credentials were found (looked at AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws, " +
                "web identity and instance metadata).", CredentialsAction, e);
        }
        catch (AmazonClientException e)
        {
            throw DevDbErrors.SourceUnreachable(Location, $"{Endpoint} could not be used ({Innermost(e).Message}).", EndpointAction, e);
        }
    }

    private async Task<DevDbException> TranslateAsync(AmazonS3Client client, AmazonS3Exception e, CancellationToken cancellationToken)
    {
        switch (e.ErrorCode)
        {
            case "NoSuchBucket":
                return BucketMissing(e);
            case "NoSuchKey":
                return KeyMissing(e);
            case "InvalidAccessKeyId" or "SignatureDoesNotMatch" or "ExpiredToken" or "InvalidToken" or "TokenRefreshRequired":
                return DevDbErrors.SourceAccessDenied(Location, $"the AWS credentials were rejected ({e.ErrorCode}: {e.Message}).",
                    CredentialsAction, e);
            case "PermanentRedirect" or "AuthorizationHeaderMalformed" or "IllegalLocationConstraintException":
                return DevDbErrors.SourceUnreachable(Location, $"the bucket '{Bucket}' is in another region ({e.ErrorCode}).",
                    "Set AWS_REGION to the bucket's region.", e);
        }
        switch (e.StatusCode)
        {
            case HttpStatusCode.NotFound:
                // HEAD answers carry no error code: ask the bucket itself which of the two is missing.
                return await BucketExistsAsync(client, cancellationToken) == false ? BucketMissing(e) : KeyMissing(e);
            case HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized:
                return DevDbErrors.SourceAccessDenied(Location,
                    $"S3 refused to read s3://{Bucket}/{Key} ({e.ErrorCode ?? "403 Forbidden"}).",
                    "Grant the credentials in use s3:GetObject on the key (and s3:ListBucket on the bucket), or use other credentials.", e);
            default:
                return DevDbErrors.SourceUnreachable(Location,
                    $"{Endpoint} answered HTTP {(int)e.StatusCode} {e.ErrorCode}: {e.Message}".TrimEnd(), EndpointAction, e);
        }
    }

    private async Task<bool?> BucketExistsAsync(AmazonS3Client client, CancellationToken cancellationToken)
    {
        try
        {
            using var answer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            answer.CancelAfter(options.ConnectTimeout);
            await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, MaxKeys = 1, Prefix = Key }, answer.Token);
            return true;
        }
        catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchBucket" || e.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
        catch (Exception e) when (e is AmazonServiceException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // Not allowed to list, or no answer: cannot tell.
            return null;
        }
    }

    private DevDbException BucketMissing(Exception e) =>
        DevDbErrors.SourceNotFound(Location, $"the bucket '{Bucket}' does not exist{At}.",
            "Check the bucket name (and the endpoint, when using an S3-compatible store).", e);

    private DevDbException KeyMissing(Exception e) =>
        DevDbErrors.SourceNotFound(Location, $"the bucket '{Bucket}' has no object with the key '{Key}'{At}.",
            "Check the key's path and spelling (keys are case-sensitive), or upload the dump there.", e);

    private string At => ServiceUrl is null ? "" : $" at {ServiceUrl}";
    private string Endpoint => ServiceUrl ?? "S3";

    private string EndpointAction => ServiceUrl is null
        ? "Check the network connection to AWS and try again."
        : $"Check that the S3-compatible endpoint {ServiceUrl} is up and reachable (it comes from {EndpointSource}).";

    private string EndpointSource =>
        !string.IsNullOrEmpty(options.S3ServiceUrl) ? "the DevDb S3 service URL setting"
        : !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_S3")) ? "AWS_ENDPOINT_URL_S3"
        : "AWS_ENDPOINT_URL";

    private static string? ConfiguredRegion()
    {
        var fromEnvironment = FirstNonEmpty(Environment.GetEnvironmentVariable("AWS_REGION"),
            Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION"));
        if (fromEnvironment is not null) return fromEnvironment;
        try
        {
            var profileName = FirstNonEmpty(Environment.GetEnvironmentVariable("AWS_PROFILE")) ?? "default";
            return new CredentialProfileStoreChain().TryGetProfile(profileName, out var profile) ? profile.Region?.SystemName : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or AmazonClientException)
        {
            return null;
        }
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }

    private static string? FirstNonEmpty(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
}
