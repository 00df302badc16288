using DevDb.Core.Engine;
using DevDb.Core.Model;
using Prometheus;

namespace DevDb.Api;

/// <summary>
/// The app's Prometheus registry (one per app, so several apps in one process, as in tests, keep
/// their own counts): HTTP metrics from prometheus-net's middleware, plus DevDb's own gauges, read
/// from the engine at each scrape. Labels carry states and statuses, never names.
/// </summary>
public sealed class ApiMetrics
{
    private readonly Gauge _databases;
    private readonly Gauge _projects;
    private readonly Gauge _images;
    private readonly Counter _imageBuilds;
    private readonly Counter _databaseCreates;
    private readonly Counter _idleStopped;

    public ApiMetrics(IDevDbService engine, IServiceProvider? services = null)
    {
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        _databases = factory.CreateGauge("devdb_databases", "Databases by state.", "state");
        _projects = factory.CreateGauge("devdb_projects", "Projects by status.", "status");
        _images = factory.CreateGauge("devdb_images", "Images by status (Building = an image build in progress).", "status");
        _imageBuilds = factory.CreateCounter("devdb_image_builds_started_total", "Project creates and refreshes the API answered 202 (an image build under way).");
        _databaseCreates = factory.CreateCounter("devdb_database_creates_started_total", "Database creates the API answered 202 (a clone under way; a repeated identical create while it runs counts again).");
        _idleStopped = factory.CreateCounter("devdb_databases_idle_stopped_total", "Databases stopped for having no client connection for their idle timeout (since this API started; on Kubernetes, by this replica's reconciler).");
        var reconciler = engine is DevDb.Core.Runtimes.Kubernetes.KubernetesEngine ? services?.GetService(typeof(DevDb.Core.Runtimes.Kubernetes.Reconciler)) as DevDb.Core.Runtimes.Kubernetes.Reconciler : null;
        Registry.AddBeforeCollectCallback(async cancellationToken =>
        {
            if (reconciler is not null) _idleStopped.IncTo(reconciler.IdleStopped);
            var databases = await engine.GetDatabasesAsync(cancellationToken: cancellationToken);
            foreach (var state in Enum.GetValues<DatabaseStatus>())
                _databases.WithLabels(state.ToString()).Set(databases.Count(d => d.Status == state));
            var projects = await engine.GetProjectsAsync(cancellationToken);
            foreach (var status in Enum.GetValues<ProjectStatus>())
                _projects.WithLabels(status.ToString()).Set(projects.Count(p => p.Status == status));
            foreach (var status in Enum.GetValues<ImageStatus>())
                _images.WithLabels(status.ToString()).Set(projects.Sum(p => p.Images.Count(i => i.Status == status)));
        });
    }

    public CollectorRegistry Registry { get; }

    public void ImageBuildStarted() => _imageBuilds.Inc();

    public void DatabaseCreateStarted() => _databaseCreates.Inc();

    /// <summary>The local runtime's pass stopped this many idle databases.</summary>
    public void DatabasesIdleStopped(int count)
    {
        if (count > 0) _idleStopped.Inc(count);
    }
}
