using System.Text;
using System.Text.Json.Nodes;

namespace KubeApiDouble;

/// <summary>
/// The few server-side defaults and conversions DevDb can observe: Secret stringData folded into data, Service
/// type/cluster IP/port defaults, StatefulSet replicas, Job backoffLimit, a new Pod's Pending status.
/// </summary>
internal sealed class Defaults
{
    private int nextClusterIp = 10;
    private int nextNodePort = 30000;

    public void OnWrite(ResourceType type, JsonObject obj, JsonObject? current)
    {
        switch (type.Kind)
        {
            case "Secret":
                obj["type"] ??= "Opaque";
                if (obj["stringData"] is JsonObject stringData)
                {
                    var data = obj["data"] as JsonObject ?? new JsonObject();
                    foreach (var (key, value) in stringData)
                        data[key] = Convert.ToBase64String(Encoding.UTF8.GetBytes(value?.GetValue<string>() ?? ""));
                    obj["data"] = data;
                    obj.Remove("stringData");
                }
                break;
            case "Service":
                ServiceDefaults(obj, current);
                break;
            case "StatefulSet":
                Spec(obj)["replicas"] ??= 1;
                Spec(obj)["podManagementPolicy"] ??= "OrderedReady";
                Spec(obj)["updateStrategy"] ??= new JsonObject { ["type"] = "RollingUpdate", ["rollingUpdate"] = new JsonObject { ["partition"] = 0 } };
                break;
            case "Job":
                Spec(obj)["backoffLimit"] ??= 6;
                Spec(obj)["completions"] ??= 1;
                Spec(obj)["parallelism"] ??= 1;
                break;
        }
    }

    public static void OnCreate(ResourceType type, JsonObject obj, bool pvcProtection)
    {
        if (type.HasStatus) obj.Remove("status");
        if (type.Kind == "Pod") obj["status"] = new JsonObject { ["phase"] = "Pending", ["qosClass"] = "BestEffort" };
        if (type.Kind == "PersistentVolumeClaim")
        {
            obj["status"] = new JsonObject { ["phase"] = "Pending" };
            if (pvcProtection)
            {
                var finalizers = Meta.Of(obj)["finalizers"] as JsonArray ?? [];
                if (!finalizers.Any(f => f?.GetValue<string>() == "kubernetes.io/pvc-protection")) finalizers.Add("kubernetes.io/pvc-protection");
                Meta.Of(obj)["finalizers"] = finalizers;
            }
        }
    }

    private static JsonObject Spec(JsonObject obj)
    {
        if (obj["spec"] is JsonObject spec) return spec;
        spec = new JsonObject();
        obj["spec"] = spec;
        return spec;
    }

    private void ServiceDefaults(JsonObject obj, JsonObject? current)
    {
        var spec = Spec(obj);
        var type = spec["type"]?.GetValue<string>() ?? "ClusterIP";
        spec["type"] = type;
        spec["sessionAffinity"] ??= "None";
        if (type != "ExternalName")
        {
            // The allocated address survives an update that leaves it out, as on a real server.
            var clusterIp = spec["clusterIP"]?.GetValue<string>() ?? current?["spec"]?["clusterIP"]?.GetValue<string>();
            if (string.IsNullOrEmpty(clusterIp))
            {
                lock (this) clusterIp = $"10.96.{nextClusterIp / 250}.{nextClusterIp++ % 250 + 1}";
            }
            spec["clusterIP"] = clusterIp;
            spec["clusterIPs"] = new JsonArray(clusterIp);
        }
        if (spec["ports"] is not JsonArray ports) return;
        var currentPorts = current?["spec"]?["ports"] as JsonArray;
        foreach (var port in ports.OfType<JsonObject>())
        {
            port["protocol"] ??= "TCP";
            port["targetPort"] ??= port["port"]?.DeepClone();
            if (type is "NodePort" or "LoadBalancer" && port["nodePort"] is null)
            {
                var kept = currentPorts?.OfType<JsonObject>().FirstOrDefault(p => p["port"]?.GetValue<int>() == port["port"]?.GetValue<int>())?["nodePort"];
                if (kept is not null) port["nodePort"] = kept.DeepClone();
                else lock (this) port["nodePort"] = nextNodePort++;
            }
        }
    }
}
