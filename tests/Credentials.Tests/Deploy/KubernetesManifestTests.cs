using k8s.Models;

namespace Credentials.Tests.Deploy;

/// <summary>
/// The invariants the cluster relies on, checked on the rendered base and on the example overlay:
/// how silos learn who they are, where secrets come from, what pods may do, how they stop.
/// </summary>
public sealed class KubernetesManifestTests
{
    private const string Silo = "credentials-silo";
    private const string Api = "credentials-api";
    private const string TlsSecret = "credentials-tls";

    public static TheoryData<string> Kustomizations => new() { "base", "overlays/example" };

    private static readonly Dictionary<string, Manifests> Rendered = new();

    private static Manifests Render(string kustomization)
    {
        lock (Rendered)
        {
            if (!Rendered.TryGetValue(kustomization, out var manifests)) Rendered[kustomization] = manifests = Manifests.Render(kustomization);
            return manifests;
        }
    }

    private static V1Container Container(V1Deployment deployment) => Assert.Single(deployment.Spec.Template.Spec.Containers);

    private static V1EnvVar Env(V1Container container, string name) =>
        container.Env.SingleOrDefault(e => e.Name == name) ?? throw new Xunit.Sdk.XunitException($"{container.Name} has no env {name}");

    [Theory, MemberData(nameof(Kustomizations))]
    public void It_renders_only_kinds_we_mean_to_ship(string kustomization)
    {
        var manifests = Render(kustomization);
        var kinds = manifests.Objects.Select(o => o.GetType().Name).Distinct().Order().ToArray();
        var expected = new[] { "V1ConfigMap", "V1Deployment", "V1Job", "V1NetworkPolicy", "V1PodDisruptionBudget", "V1Service", "V1ServiceAccount", "V2HorizontalPodAutoscaler" };
        if (kustomization != "base") expected = [.. expected, "V1Namespace", "V1Secret"];
        Assert.Equal(expected.Order(), kinds);
        Assert.Equal(2, manifests.All<V1Deployment>().Count());
    }

    [Theory, MemberData(nameof(Kustomizations))]
    public void Silos_name_and_advertise_themselves_from_the_downward_api(string kustomization)
    {
        var manifests = Render(kustomization);
        var deployment = manifests.Deployment(Silo);
        var container = Container(deployment);
        var labels = deployment.Spec.Template.Metadata.Labels;

        Assert.Equal("metadata.name", Env(container, "POD_NAME").ValueFrom.FieldRef.FieldPath);
        Assert.Equal("status.podIP", Env(container, "POD_IP").ValueFrom.FieldRef.FieldPath);
        Assert.Equal("$(POD_NAME)", Env(container, "Orleans__SiloName").Value);
        Assert.Equal("$(POD_IP)", Env(container, "Orleans__AdvertisedIP").Value);
        AssertClusterIdentityFromLabels(container, labels);

        // What the silo advertises is what the pod exposes.
        var config = manifests.ConfigMap(ConfigMapName(container));
        var ports = container.Ports.ToDictionary(p => p.Name, p => p.ContainerPort);
        Assert.Equal(ports["silo"].ToString(), config.Data["Orleans__SiloPort"]);
        Assert.Equal(ports["gateway"].ToString(), config.Data["Orleans__GatewayPort"]);
        Assert.Equal("AdoNet", config.Data["Orleans__Clustering"]);
        Assert.Equal($"http://+:{ports["http"]}", config.Data["Urls"]);
    }

    [Theory, MemberData(nameof(Kustomizations))]
    public void Api_nodes_are_orleans_clients_of_the_same_cluster(string kustomization)
    {
        var manifests = Render(kustomization);
        var api = manifests.Deployment(Api);
        var container = Container(api);

        Assert.Equal("Client", Env(container, "Orleans__Mode").Value);
        AssertClusterIdentityFromLabels(container, api.Spec.Template.Metadata.Labels);
        var siloLabels = manifests.Deployment(Silo).Spec.Template.Metadata.Labels;
        Assert.Equal(siloLabels["orleans/clusterId"], api.Spec.Template.Metadata.Labels["orleans/clusterId"]);
        Assert.Equal(siloLabels["orleans/serviceId"], api.Spec.Template.Metadata.Labels["orleans/serviceId"]);
        Assert.Equal(ConfigMapName(Container(manifests.Deployment(Silo))), ConfigMapName(container));
    }

    [Theory, MemberData(nameof(Kustomizations))]
    public void Configuration_comes_from_a_config_map_and_secrets_only_from_a_secret(string kustomization)
    {
        var manifests = Render(kustomization);
        foreach (var deployment in manifests.All<V1Deployment>())
        {
            var container = Container(deployment);
            var configMap = manifests.ConfigMap(ConfigMapName(container));
            var connection = Env(container, "ConnectionStrings__PostgreSql");
            Assert.Null(connection.Value);
            Assert.Equal("ConnectionStrings__PostgreSql", connection.ValueFrom.SecretKeyRef.Key);
            Assert.DoesNotContain(configMap.Data.Keys, key => key.StartsWith("ConnectionStrings", StringComparison.Ordinal) || key.StartsWith("Auth", StringComparison.Ordinal)
                || key.StartsWith("Webhooks__SecretKey", StringComparison.Ordinal) || key.StartsWith("Webhooks__PreviousSecretKeys", StringComparison.Ordinal));
            Assert.All(container.Env.Where(e => e.Value is not null), e => Assert.DoesNotContain("password", e.Value, StringComparison.OrdinalIgnoreCase));

            // The overlay renders the Secret every reference names, with every key asked for.
            if (kustomization != "base")
            {
                foreach (var reference in container.Env.Select(e => e.ValueFrom?.SecretKeyRef).OfType<V1SecretKeySelector>())
                {
                    var secret = manifests.All<V1Secret>().Single(s => s.Metadata.Name == reference.Name);
                    Assert.Contains(reference.Key, secret.Data.Keys);
                }
            }
        }
        Assert.StartsWith("credentials", Env(Container(manifests.Deployment(Api)), "Auth__AdminToken").ValueFrom.SecretKeyRef.Name);
    }

    [Theory, MemberData(nameof(Kustomizations))]
    public void Silos_take_the_webhook_secret_key_from_a_secret_and_api_nodes_never_see_it(string kustomization)
    {
        var manifests = Render(kustomization);
        var key = Env(Container(manifests.Deployment(Silo)), "Webhooks__SecretKey");
        Assert.Null(key.Value);
        Assert.StartsWith("credentials", key.ValueFrom.SecretKeyRef.Name);
        Assert.Equal("Webhooks__SecretKey", key.ValueFrom.SecretKeyRef.Key);
        // Delivery runs in silos: an API node has no use for the key, so it is not handed one.
        Assert.DoesNotContain(Container(manifests.Deployment(Api)).Env, e => e.Name.StartsWith("Webhooks__", StringComparison.Ordinal));
        Assert.DoesNotContain(manifests.ConfigMap(ConfigMapName(Container(manifests.Deployment(Api)))).Data.Keys, k => k.StartsWith("Webhooks__Secret", StringComparison.Ordinal));
    }

    [Theory, MemberData(nameof(Kustomizations))]
    public void Pods_run_under_a_service_account_with_no_rights_and_no_token(string kustomization)
    {
        var manifests = Render(kustomization);
        var account = Assert.Single(manifests.All<V1ServiceAccount>());
        Assert.False(account.AutomountServiceAccountToken);
        Assert.Empty(manifests.All<V1Role>());
        Assert.Empty(manifests.All<V1ClusterRole>());
        Assert.Empty(manifests.All<V1RoleBinding>());
        Assert.Empty(manifests.All<V1ClusterRoleBinding>());
        foreach (var deployment in manifests.All<V1Deployment>())
        {
            var pod = deployment.Spec.Template.Spec;
            Assert.Equal(account.Metadata.Name, pod.ServiceAccountName);
            Assert.False(pod.AutomountServiceAccountToken);
        }
    }

    [Theory, MemberData(nameof(Kustomizations))]
    public void Every_container_is_probed_limited_and_unprivileged(string kustomization)
    {
        foreach (var deployment in Render(kustomization).All<V1Deployment>())
        {
            var pod = deployment.Spec.Template.Spec;
            var container = Container(deployment);
            var http = Assert.Single(container.Ports, p => p.Name == "http");

            Assert.Equal("/readyz", container.ReadinessProbe.HttpGet.Path);
            Assert.Equal("/healthz", container.LivenessProbe.HttpGet.Path);
            Assert.Equal("/healthz", container.StartupProbe.HttpGet.Path);
            Assert.All(new[] { container.ReadinessProbe, container.LivenessProbe, container.StartupProbe },
                probe => Assert.Equal(http.Name, probe.HttpGet.Port.Value));

            foreach (var resource in new[] { "cpu", "memory" })
            {
                Assert.True(container.Resources.Requests.ContainsKey(resource), $"{deployment.Metadata.Name} requests no {resource}");
                Assert.True(container.Resources.Limits.ContainsKey(resource), $"{deployment.Metadata.Name} has no {resource} limit");
                Assert.True(container.Resources.Requests[resource].ToDecimal() <= container.Resources.Limits[resource].ToDecimal());
            }

            Assert.True(pod.SecurityContext.RunAsNonRoot);
            Assert.NotEqual(0, pod.SecurityContext.RunAsUser);
            Assert.False(container.SecurityContext.AllowPrivilegeEscalation);
            Assert.True(container.SecurityContext.ReadOnlyRootFilesystem);
            Assert.Equal(["ALL"], container.SecurityContext.Capabilities.Drop);
        }
    }

    [Theory, MemberData(nameof(Kustomizations))]
    public void Pods_are_given_long_enough_to_stop_gracefully(string kustomization)
    {
        foreach (var deployment in Render(kustomization).All<V1Deployment>())
        {
            var container = Container(deployment);
            var shutdown = int.Parse(Env(container, "ShutdownTimeoutSeconds").Value);
            var preStop = container.Lifecycle?.PreStop?.Sleep?.Seconds ?? 0;
            Assert.True(deployment.Spec.Template.Spec.TerminationGracePeriodSeconds >= preStop + shutdown + 5,
                $"{deployment.Metadata.Name}: {deployment.Spec.Template.Spec.TerminationGracePeriodSeconds} s to stop, needs {preStop} + {shutdown} + 5");
        }
        // A silo hands its grains over and leaves the membership table: give it the longest.
        Assert.True(int.Parse(Env(Container(Render(kustomization).Deployment(Silo)), "ShutdownTimeoutSeconds").Value) >= 30);
    }

    [Theory, MemberData(nameof(Kustomizations))]
    public void The_api_service_autoscalers_and_disruption_budgets_select_the_right_pods(string kustomization)
    {
        var manifests = Render(kustomization);
        var service = Assert.Single(manifests.All<V1Service>());
        Assert.True(Selects(service.Spec.Selector, manifests.Deployment(Api)));
        Assert.False(Selects(service.Spec.Selector, manifests.Deployment(Silo)));
        Assert.Equal("http", Assert.Single(service.Spec.Ports).TargetPort.Value);

        foreach (var deployment in manifests.All<V1Deployment>())
        {
            Assert.True(Selects(deployment.Spec.Selector.MatchLabels, deployment));

            var autoscaler = Assert.Single(manifests.All<V2HorizontalPodAutoscaler>(), h => h.Spec.ScaleTargetRef.Name == deployment.Metadata.Name);
            Assert.Equal("Deployment", autoscaler.Spec.ScaleTargetRef.Kind);
            Assert.True(autoscaler.Spec.MinReplicas >= 2, $"{deployment.Metadata.Name} may scale to one pod");
            Assert.Contains(autoscaler.Spec.Metrics, m => m.Resource?.Name == "cpu");

            var budget = Assert.Single(manifests.All<V1PodDisruptionBudget>(), b => Selects(b.Spec.Selector.MatchLabels, deployment));
            // A drain can always make progress, and never takes more than one pod at a time.
            Assert.Equal("1", budget.Spec.MaxUnavailable?.Value);
        }
    }

    [Theory, MemberData(nameof(Kustomizations))]
    public void Both_roles_present_the_cluster_certificate_mounted_from_a_secret_no_one_commits(string kustomization)
    {
        var manifests = Render(kustomization);
        foreach (var deployment in manifests.All<V1Deployment>())
        {
            var pod = deployment.Spec.Template.Spec;
            var container = Container(deployment);
            var volume = Assert.Single(pod.Volumes, v => v.Secret?.SecretName == TlsSecret);
            var mount = Assert.Single(container.VolumeMounts, m => m.Name == volume.Name);
            Assert.True(mount.ReadOnlyProperty);

            // The Orleans__Tls__* paths name the Secret's keys under the mount.
            var config = manifests.ConfigMap(ConfigMapName(container)).Data;
            Assert.Equal($"{mount.MountPath}/tls.crt", config["Orleans__Tls__CertificatePath"]);
            Assert.Equal($"{mount.MountPath}/tls.key", config["Orleans__Tls__KeyPath"]);
            Assert.Equal($"{mount.MountPath}/ca.crt", config["Orleans__Tls__CaPath"]);

            // The key is readable by the pod's group (the app's) and nobody else.
            Assert.Equal(0, volume.Secret.DefaultMode & 0b000_000_111);
            Assert.Equal(pod.SecurityContext.RunAsGroup, pod.SecurityContext.FsGroup);
        }
        // The operator creates it (docs/operations.md): no key is rendered from this repository.
        Assert.DoesNotContain(manifests.All<V1Secret>(), s => s.Metadata.Name.StartsWith(TlsSecret, StringComparison.Ordinal));
    }

    [Theory, MemberData(nameof(Kustomizations))]
    public void Every_pod_is_isolated_so_only_the_paths_the_policies_list_are_open(string kustomization)
    {
        var manifests = Render(kustomization);
        foreach (var deployment in manifests.All<V1Deployment>())
        {
            // Selected by a policy of each type: all traffic not allowed by some rule is denied.
            Assert.NotEmpty(Policies(manifests, deployment, "Ingress"));
            Assert.NotEmpty(Policies(manifests, deployment, "Egress"));
            foreach (var policy in Policies(manifests, deployment, "Ingress"))
            {
                Assert.All(policy.Spec.Ingress ?? [], rule => Assert.NotEmpty(rule.Ports ?? []));
            }
            foreach (var policy in Policies(manifests, deployment, "Egress"))
            {
                Assert.All(policy.Spec.Egress ?? [], rule =>
                {
                    Assert.NotEmpty(rule.Ports ?? []);
                    Assert.NotEmpty(rule.To ?? []);
                });
            }
        }
    }

    [Theory, MemberData(nameof(Kustomizations))]
    public void Api_nodes_take_http_from_anywhere_and_nothing_else(string kustomization)
    {
        var manifests = Render(kustomization);
        var api = manifests.Deployment(Api);
        Assert.True(IngressAllowed(manifests, api, "http", from: null));
        var opened = Policies(manifests, api, "Ingress").SelectMany(p => p.Spec.Ingress ?? []).SelectMany(r => r.Ports).Select(p => p.Port.Value);
        Assert.All(opened, port => Assert.Equal("http", port));
    }

    [Theory, MemberData(nameof(Kustomizations))]
    public void Silos_take_the_silo_port_from_silos_the_gateway_port_from_api_nodes_and_probes_from_anywhere(string kustomization)
    {
        var manifests = Render(kustomization);
        var silo = manifests.Deployment(Silo);
        var api = manifests.Deployment(Api);

        Assert.True(IngressAllowed(manifests, silo, "silo", from: silo));
        Assert.False(IngressAllowed(manifests, silo, "silo", from: api));
        Assert.False(IngressAllowed(manifests, silo, "silo", from: null));

        Assert.True(IngressAllowed(manifests, silo, "gateway", from: api));
        Assert.False(IngressAllowed(manifests, silo, "gateway", from: silo));
        Assert.False(IngressAllowed(manifests, silo, "gateway", from: null));

        // Kubelet probes come from the node; the port serves /healthz and /readyz only.
        Assert.True(IngressAllowed(manifests, silo, "http", from: null));
        var opened = Policies(manifests, silo, "Ingress").SelectMany(p => p.Spec.Ingress ?? []).SelectMany(r => r.Ports).Select(p => p.Port.Value);
        Assert.All(opened, port => Assert.Contains(port, new[] { "silo", "gateway", "http" }));
    }

    [Theory, MemberData(nameof(Kustomizations))]
    public void Api_nodes_dial_only_gateways_and_silos_only_each_others_silo_port(string kustomization)
    {
        var manifests = Render(kustomization);
        var silo = manifests.Deployment(Silo);
        var api = manifests.Deployment(Api);

        Assert.True(EgressAllowed(manifests, api, silo, "gateway"));
        Assert.False(EgressAllowed(manifests, api, silo, "silo"));
        Assert.True(EgressAllowed(manifests, silo, silo, "silo"));
        Assert.False(EgressAllowed(manifests, silo, silo, "gateway"));
        Assert.False(EgressAllowed(manifests, silo, api, "http"));
        Assert.False(EgressAllowed(manifests, api, api, "http"));
    }

    [Theory, MemberData(nameof(Kustomizations))]
    public void Both_roles_reach_postgresql_on_its_port_and_the_cluster_dns(string kustomization)
    {
        var manifests = Render(kustomization);
        var postgresPort = 5432;
        if (kustomization != "base")
        {
            var secret = manifests.All<V1Secret>().Single(s => s.Metadata.Name.StartsWith("credentials-", StringComparison.Ordinal) && s.Data.ContainsKey("ConnectionStrings__PostgreSql"));
            postgresPort = new Npgsql.NpgsqlConnectionStringBuilder(System.Text.Encoding.UTF8.GetString(secret.Data["ConnectionStrings__PostgreSql"])).Port;
        }
        foreach (var deployment in manifests.All<V1Deployment>())
        {
            var rules = Policies(manifests, deployment, "Egress").SelectMany(p => p.Spec.Egress ?? []).ToList();
            Assert.Contains(rules, r => r.Ports.Any(p => p.Port.Value == postgresPort.ToString() && (p.Protocol ?? "TCP") == "TCP"));
            foreach (var protocol in new[] { "UDP", "TCP" })
            {
                var dns = Assert.Single(rules, r => r.Ports.Any(p => p.Port.Value == "53" && p.Protocol == protocol));
                Assert.All(dns.To, peer => Assert.Equal("kube-system", peer.NamespaceSelector?.MatchLabels?["kubernetes.io/metadata.name"]));
            }
        }
        // The example's database is outside the cluster: the overlay names its address.
        if (kustomization != "base")
        {
            var postgres = manifests.All<V1NetworkPolicy>().Single(p => p.Metadata.Name == "credentials-postgresql");
            Assert.All(Assert.Single(postgres.Spec.Egress).To, peer => Assert.NotNull(peer.IpBlock));
        }
    }

    [Fact]
    public void The_example_overlay_pins_images_and_puts_everything_in_its_namespace()
    {
        var manifests = Render("overlays/example");
        var ns = Assert.Single(manifests.All<V1Namespace>()).Metadata.Name;
        foreach (var item in manifests.Objects.OfType<IMetadata<V1ObjectMeta>>().Where(o => o is not V1Namespace))
        {
            Assert.Equal(ns, item.Metadata.NamespaceProperty);
        }
        foreach (var deployment in manifests.All<V1Deployment>())
        {
            var image = Container(deployment).Image;
            Assert.Matches(@"^[\w.-]+(/[\w.-]+)+:[\w.-]+$", image);
            Assert.DoesNotMatch(":latest$", image);
        }
        // Three silos at least, through the autoscaler (a `replicas:` would fight it).
        Assert.Equal(3, Assert.Single(manifests.All<V2HorizontalPodAutoscaler>(), h => h.Spec.ScaleTargetRef.Name == Silo).Spec.MinReplicas);
    }

    [Theory, MemberData(nameof(Kustomizations))]
    public void Deployments_an_autoscaler_scales_set_no_replicas(string kustomization)
    {
        var manifests = Render(kustomization);
        var scaled = manifests.All<V2HorizontalPodAutoscaler>().Select(h => h.Spec.ScaleTargetRef.Name).ToHashSet();
        foreach (var deployment in manifests.All<V1Deployment>().Where(d => scaled.Contains(d.Metadata.Name)))
        {
            // Every apply would reset the count the autoscaler chose.
            Assert.True(deployment.Spec.Replicas is null, $"{deployment.Metadata.Name} sets replicas: {deployment.Spec.Replicas}");
        }
        Assert.Equal(2, scaled.Count);
    }

    [Theory, MemberData(nameof(Kustomizations))]
    public void Silos_and_api_nodes_spread_over_zones_and_nodes_without_blocking_scheduling(string kustomization)
    {
        foreach (var deployment in Render(kustomization).All<V1Deployment>())
        {
            var constraints = deployment.Spec.Template.Spec.TopologySpreadConstraints ?? [];
            foreach (var key in new[] { "topology.kubernetes.io/zone", "kubernetes.io/hostname" })
            {
                var constraint = Assert.Single(constraints, c => c.TopologyKey == key);
                Assert.Equal("ScheduleAnyway", constraint.WhenUnsatisfiable);
                Assert.Equal(1, constraint.MaxSkew);
                // Counts this Deployment's pods (of the same revision), not the other role's.
                Assert.True(Selects(constraint.LabelSelector.MatchLabels, deployment), $"{deployment.Metadata.Name}: {key} spread selects other pods");
                Assert.Contains("pod-template-hash", constraint.MatchLabelKeys ?? []);
            }
        }
    }

    [Theory, MemberData(nameof(Kustomizations))]
    public void Dashboards_are_off_and_no_port_or_service_exposes_one(string kustomization)
    {
        var manifests = Render(kustomization);
        foreach (var deployment in manifests.All<V1Deployment>())
        {
            var container = Container(deployment);
            var config = manifests.ConfigMap(ConfigMapName(container)).Data;
            var enabled = container.Env.FirstOrDefault(e => e.Name == "Dashboard__Enabled")?.Value ?? (config.TryGetValue("Dashboard__Enabled", out var value) ? value : null);
            Assert.True(enabled is null || enabled.Equals("false", StringComparison.OrdinalIgnoreCase), $"{deployment.Metadata.Name} enables the dashboard");
            // Loopback only when on: reached with kubectl port-forward, so the pod declares no port for it.
            Assert.DoesNotContain(container.Ports, p => p.ContainerPort == Credentials.Grains.Hosting.DashboardSettings.DefaultPort);
        }
    }

    private static void AssertClusterIdentityFromLabels(V1Container container, IDictionary<string, string> podLabels)
    {
        Assert.Equal("metadata.labels['orleans/serviceId']", Env(container, "ORLEANS_SERVICE_ID").ValueFrom.FieldRef.FieldPath);
        Assert.Equal("metadata.labels['orleans/clusterId']", Env(container, "ORLEANS_CLUSTER_ID").ValueFrom.FieldRef.FieldPath);
        Assert.Equal("$(ORLEANS_SERVICE_ID)", Env(container, "Orleans__ServiceId").Value);
        Assert.Equal("$(ORLEANS_CLUSTER_ID)", Env(container, "Orleans__ClusterId").Value);
        Assert.False(string.IsNullOrEmpty(podLabels["orleans/serviceId"]));
        Assert.False(string.IsNullOrEmpty(podLabels["orleans/clusterId"]));

        // Kubernetes expands $(NAME) only from variables defined earlier in the list.
        var names = container.Env.Select(e => e.Name).ToList();
        foreach (var (variable, index) in container.Env.Select((e, i) => (e, i)))
        {
            foreach (System.Text.RegularExpressions.Match reference in System.Text.RegularExpressions.Regex.Matches(variable.Value ?? "", @"\$\((\w+)\)"))
            {
                var defined = names.IndexOf(reference.Groups[1].Value);
                Assert.True(defined >= 0 && defined < index, $"{variable.Name} uses {reference.Value} before it is defined");
            }
        }
    }

    private static IEnumerable<V1NetworkPolicy> Policies(Manifests manifests, V1Deployment pod, string type) =>
        manifests.All<V1NetworkPolicy>().Where(p => p.Spec.PolicyTypes.Contains(type) && Selects(p.Spec.PodSelector.MatchLabels, pod));

    /// <summary>Whether traffic to <paramref name="portName"/> of the target's pods from <paramref name="from"/>'s pods (null: from outside the service) is let in.</summary>
    private static bool IngressAllowed(Manifests manifests, V1Deployment target, string portName, V1Deployment? from)
    {
        var port = Assert.Single(Container(target).Ports, p => p.Name == portName);
        return Policies(manifests, target, "Ingress").SelectMany(p => p.Spec.Ingress ?? [])
            .Any(rule => PortMatches(rule.Ports, port) && PeerMatches(rule.FromProperty, from));
    }

    private static bool EgressAllowed(Manifests manifests, V1Deployment source, V1Deployment target, string portName)
    {
        var port = Assert.Single(Container(target).Ports, p => p.Name == portName);
        return Policies(manifests, source, "Egress").SelectMany(p => p.Spec.Egress ?? [])
            .Any(rule => PortMatches(rule.Ports, port) && PeerMatches(rule.To, target));
    }

    private static bool PortMatches(IList<V1NetworkPolicyPort>? ports, V1ContainerPort port) =>
        ports is null || ports.Count == 0 || ports.Any(p =>
            (p.Protocol ?? "TCP") == (port.Protocol ?? "TCP")
            && (p.Port is null || p.Port.Value == port.Name || p.Port.Value == port.ContainerPort.ToString()));

    /// <summary>Pods of the same namespace by pod selector; from outside only when a rule names no peer at all.</summary>
    private static bool PeerMatches(IList<V1NetworkPolicyPeer>? peers, V1Deployment? pod) =>
        peers is null || peers.Count == 0 || (pod is not null && peers.Any(peer =>
            peer.NamespaceSelector is null && peer.IpBlock is null && peer.PodSelector is not null && Selects(peer.PodSelector.MatchLabels, pod)));

    private static string ConfigMapName(V1Container container) =>
        Assert.Single(container.EnvFrom, e => e.ConfigMapRef is not null).ConfigMapRef.Name;

    private static bool Selects(IDictionary<string, string> selector, V1Deployment deployment) =>
        selector.Count > 0 && selector.All(kv => deployment.Spec.Template.Metadata.Labels.TryGetValue(kv.Key, out var value) && value == kv.Value);
}
